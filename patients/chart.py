"""Sections that apps depending on patients add to the patient chart.

Patients must not import treatments or appointments (apps depend one way),
yet the chart shows their plans and visits: each of those apps registers a
section (a template and a function giving its context) in its AppConfig's
`ready()`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from patients.models import Patient


@dataclass(frozen=True)
class ChartSection:
    key: str
    template: str
    context: Callable[[HttpRequest, Patient], dict]
    order: int = 100


_SECTIONS: dict[str, ChartSection] = {}


def register_section(section: ChartSection) -> None:
    _SECTIONS[section.key] = section


def sections_for(request: HttpRequest, patient: Patient) -> list[dict]:
    return [
        {"key": s.key, "template": s.template, "context": s.context(request, patient)}
        for s in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
    ]
