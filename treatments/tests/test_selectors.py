"""R14 counters: one query for any number of plans."""

import pytest

from clinic.models import ClinicRules
from treatments.models import TreatmentPlan
from treatments.selectors import plan_counts, plans_with_counts
from treatments.tests.factories import PlanFactory, make_appointments

pytestmark = pytest.mark.django_db


def test_counters_follow_the_appointment_statuses():
    plan = PlanFactory(sessions_prescribed=8, sessions_authorized=6)
    make_appointments(plan, "scheduled", "confirmed", "checked_in", "completed", "cancelled", "no_show")
    counted = plans_with_counts().get(pk=plan.pk)
    assert plan_counts(counted) == {
        "prescribed": 8,
        "authorized": 6,
        "scheduled": 3,
        "completed": 1,
        "remaining": 2,
    }
    assert counted.authorization_alert is True


def test_without_an_authorization_the_prescribed_count_is_the_limit():
    plan = PlanFactory(sessions_prescribed=6, sessions_authorized=None)
    make_appointments(plan, "completed")
    counted = plans_with_counts().get(pk=plan.pk)
    assert counted.remaining == 5 and counted.authorization_alert is False


def test_zero_until_scheduling_exists():
    plan = PlanFactory(sessions_prescribed=6)
    counted = plans_with_counts().get(pk=plan.pk)
    assert (counted.scheduled_count, counted.completed_count, counted.remaining) == (0, 0, 6)


def test_the_alert_threshold_is_a_clinic_setting():
    plan = PlanFactory(sessions_prescribed=6, sessions_authorized=6)
    make_appointments(plan, "scheduled", "scheduled", "completed")
    rules = ClinicRules.current()
    assert plans_with_counts(rules=rules).get(pk=plan.pk).authorization_alert is False
    rules.authorization_alert_remaining = 3
    assert plans_with_counts(rules=rules).get(pk=plan.pk).authorization_alert is True


def test_closed_plans_raise_no_alert():
    plan = PlanFactory(sessions_prescribed=2, status=TreatmentPlan.Status.COMPLETED)
    assert plans_with_counts().get(pk=plan.pk).authorization_alert is False


@pytest.mark.parametrize("plans", [3, 9])
def test_one_query_for_any_number_of_plans(django_assert_num_queries, plans):
    for plan in PlanFactory.create_batch(plans):
        make_appointments(plan, "completed", "scheduled")
    rules = ClinicRules.current()
    with django_assert_num_queries(1):
        counted = list(plans_with_counts(rules=rules))
    assert [p.remaining for p in counted] == [4] * plans
