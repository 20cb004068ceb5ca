"""Page sections that apps higher up add to a lower app's page.

Apps depend one way (docs/architecture.md), yet the patient chart shows
plans and visits, the plan page a course's economics, the progress page a
home program's log. The page's app keeps a `Sections` registry; each app
above registers a `Section` (a template and a function giving its context,
or None when the viewer may not see it) from its AppConfig's `ready()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    context: Callable[[HttpRequest, Any], dict | None]
    order: int = 100


class Sections:
    def __init__(self) -> None:
        self._sections: dict[str, Section] = {}

    def register(self, section: Section) -> None:
        self._sections[section.key] = section

    def for_page(self, request: HttpRequest, subject: Any) -> list[dict]:
        """The sections the viewer may see, in order, each with its context."""
        shown = []
        for section in sorted(self._sections.values(), key=lambda s: (s.order, s.key)):
            context = section.context(request, subject)
            if context is not None:
                shown.append({"key": section.key, "template": section.template, "context": context})
        return shown
