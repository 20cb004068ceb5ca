"""What the layers above plans do when a plan changes.

Treatments sits below scheduling (apps depend one way, see
docs/architecture.md), yet closing a plan must cancel its future visits.
Scheduling registers its reaction here from `AppointmentsConfig.ready()`;
the plan services call it inside their own transaction, so a failure rolls
the status change back too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PlanHook = Callable[..., Any]

_ON_PLAN_CLOSED: list[PlanHook] = []


def on_plan_closed(hook: PlanHook) -> PlanHook:
    """Register `hook(plan=, user=, reason=)`, run when a plan completes or is cancelled."""
    if hook not in _ON_PLAN_CLOSED:
        _ON_PLAN_CLOSED.append(hook)
    return hook


def plan_closed(**kwargs: Any) -> None:
    for hook in _ON_PLAN_CLOSED:
        hook(**kwargs)


_ON_PLAN_CREATED: list[PlanHook] = []


def on_plan_created(hook: PlanHook) -> PlanHook:
    """Register `hook(plan=, user=, evaluation=)`, run when a plan is written
    from an evaluation visit (scheduling links the visit to the plan, in the
    same transaction: a refusal rolls the new plan back)."""
    if hook not in _ON_PLAN_CREATED:
        _ON_PLAN_CREATED.append(hook)
    return hook


def plan_created(**kwargs: Any) -> None:
    for hook in _ON_PLAN_CREATED:
        hook(**kwargs)


# What a higher layer has to say on a plan's page (e.g. notes: "the last two
# HDSS are ≤ 2: consider maintenance"). Each hook returns a list of messages.
_PLAN_NOTICES: list[PlanHook] = []


def register_plan_notice(hook: PlanHook) -> PlanHook:
    if hook not in _PLAN_NOTICES:
        _PLAN_NOTICES.append(hook)
    return hook


def plan_notices(plan) -> list[str]:
    return [notice for hook in _PLAN_NOTICES for notice in hook(plan)]
