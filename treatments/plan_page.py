"""Sections that apps above treatments add to the plan page.

Treatments must not import supplies (apps depend one way), yet the plan
page shows the course's running cost against its expected reimbursement:
the app registers a section (a template and a function giving its context,
or None when the viewer may not see it) in its AppConfig's `ready()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from treatments.models import TreatmentPlan


@dataclass(frozen=True)
class PlanSection:
    key: str
    template: str
    context: Callable[[HttpRequest, TreatmentPlan], dict | None]
    order: int = 100


_SECTIONS: dict[str, PlanSection] = {}


def register_section(section: PlanSection) -> None:
    _SECTIONS[section.key] = section


def sections_for(request: HttpRequest, plan: TreatmentPlan) -> list[dict]:
    shown = []
    for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key)):
        context = section.context(request, plan)
        if context is not None:
            shown.append({"key": section.key, "template": section.template, "context": context})
    return shown
