"""Session economics from a known month, computed by hand here: the
selector, the report page, its CSV, the API and the plan page's section."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from clinic.tests.factories import UserFactory
from notes import services as notes
from patients.models import Payer
from supplies import selectors
from supplies.models import SupplySettings
from supplies.tests.conftest import book_visit
from supplies.tests.factories import FeeFactory, SupplyItemFactory, receive
from supplies.tests.test_stock import NOTE
from treatments.models import Medication, Modality
from treatments.tests.factories import MedicationFactory

MONTH = dt.date(2031, 3, 1)
FAR = dt.date(2032, 12, 31)
PASSWORD = "phoresis-demo"


def sign(visit, user):
    notes.note_sign(appointment=visit, user=user, password=PASSWORD)


@pytest.fixture
def month(db, time_machine):
    """March 2031 (clinic time), by hand:

    1. Tue 4th, iontophoresis, Acme (97033 at 25.00 until the 14th): 30 min
       visit → time 30.00 at 60.00/h; 1.5 mL × 0.80 + 1 electrode × 6.50 =
       7.70; 10 timed min → 1 unit → 25.00; margin −12.70.
    2. Tue 18th, iontophoresis, Acme (30.00 from the 15th): 30 min → 30.00;
       2.0 mL × 0.80 + 6.50 = 8.10; 25 timed min → 2 units → 60.00; margin 21.90.
    3. Wed 12th, phonophoresis, Blue (97035 at 18.00): 20 min → 20.00;
       2 mL × 0.50 + 10 mL gel × 0.02 = 1.20; 8 min → 1 unit → 18.00; margin −3.20.
    Not counted: a draft note on the 20th, a signed session on 1 April.
    """
    SupplySettings.objects.update_or_create(id=1, defaults={"therapist_hourly_cost": Decimal("60.00")})
    user = UserFactory(username="econ-th", role="therapist")
    acme, blue = Payer.objects.create(name="Acme Health"), Payer.objects.create(name="Blue Plan")
    FeeFactory(payer=acme, cpt_code="97033", fee_per_unit=Decimal("25.00"), valid_from=dt.date(2030, 1, 1))
    FeeFactory(payer=acme, cpt_code="97033", fee_per_unit=Decimal("30.00"), valid_from=dt.date(2031, 3, 15))
    FeeFactory(payer=blue, cpt_code="97035", fee_per_unit=Decimal("18.00"), valid_from=dt.date(2031, 1, 1))
    FeeFactory(payer=blue, cpt_code="97035", fee_per_unit=Decimal("99.00"), valid_from=dt.date(2031, 4, 1))
    dexa = MedicationFactory()
    gel_drug = MedicationFactory(
        name="Dexamethasone gel",
        concentration="0.4 %",
        polarity=Medication.Charge.NONE,
        modalities=[Modality.PHONOPHORESIS],
    )
    time_machine.move_to(dt.datetime(2031, 2, 1, 12, tzinfo=dt.UTC), tick=False)
    dexa_lot = receive(SupplyItemFactory(medication=dexa), user=user, quantity="50", expiry=FAR)
    receive(SupplyItemFactory(electrode=True), user=user, quantity="20", expiry=FAR)
    gel_lot = receive(
        SupplyItemFactory(name="Gel base vial", medication=gel_drug, unit_cost=Decimal("0.50")),
        user=user,
        quantity="30",
        expiry=FAR,
    )
    receive(SupplyItemFactory(gel=True), user=user, quantity="500", expiry=FAR)

    def ionto(day, payer, **changes):
        visit = book_visit(time_machine, day=day, medication=dexa, patient__payer=payer)
        notes.note_save(
            appointment=visit, values={**NOTE, "medication_stock_lot": dexa_lot.pk, **changes}, user=user
        )
        return visit

    first = ionto(dt.date(2031, 3, 4), acme, timed_minutes=10)
    sign(first, user)
    second = ionto(
        dt.date(2031, 3, 18),
        acme,
        current_ma=Decimal("2"),
        treatment_minutes=Decimal("25"),
        timed_minutes=25,
        medication_volume_ml=Decimal("2.0"),
    )
    sign(second, user)
    phono = book_visit(
        time_machine, day=dt.date(2031, 3, 12), phono=True, medication=gel_drug, patient__payer=blue
    )
    notes.note_save(
        appointment=phono,
        values={
            "frequency_mhz": 1,
            "intensity_w_cm2": Decimal("1.0"),
            "duty_cycle_pct": 100,
            "treatment_minutes": 8,
            "treatment_area_cm2": Decimal("20"),
            "coupling_medium": "gel",
            "medication_volume_ml": Decimal("2"),
            "medication_stock_lot": gel_lot.pk,
            "skin_before": "normal",
            "skin_after": "normal",
            "pain_before": 3,
            "pain_after": 2,
            "timed_minutes": 8,
        },
        user=user,
    )
    sign(phono, user)
    ionto(dt.date(2031, 3, 20), acme)  # a draft: not counted
    april = ionto(dt.date(2031, 4, 1), acme)
    sign(april, user)
    return {"first": first, "second": second, "phono": phono, "acme": acme, "blue": blue}


def as_numbers(totals) -> tuple:
    return (
        totals.sessions,
        totals.units,
        totals.supply_cost,
        totals.time_cost,
        totals.reimbursement,
        totals.margin,
    )


@pytest.mark.django_db
class TestReport:
    def test_each_session_is_priced_by_hand(self, month):
        rows = {row.appointment_id: row for row in selectors.monthly_report(month=MONTH)["sessions"]}
        assert set(rows) == {month["first"].pk, month["second"].pk, month["phono"].pk}
        first, second, phono = rows[month["first"].pk], rows[month["second"].pk], rows[month["phono"].pk]
        assert (first.supply_cost, first.time_cost, first.reimbursement, first.margin) == (
            Decimal("7.70"),
            Decimal("30.00"),
            Decimal("25.00"),
            Decimal("-12.70"),
        )
        # the fee in force on the date of service: 30.00 from the 15th
        assert (second.units, second.reimbursement, second.margin) == (2, Decimal("60.00"), Decimal("21.90"))
        assert (phono.supply_cost, phono.time_cost, phono.reimbursement, phono.margin) == (
            Decimal("1.20"),
            Decimal("20.00"),
            Decimal("18.00"),
            Decimal("-3.20"),
        )

    def test_totals_per_modality_and_payer(self, month):
        report = selectors.monthly_report(month=MONTH)
        modality = {t.key: as_numbers(t) for t in report["by_modality"]}
        assert modality == {
            "iontophoresis": (2, 3, Decimal("15.80"), Decimal("60.00"), Decimal("85.00"), Decimal("9.20")),
            "phonophoresis": (1, 1, Decimal("1.20"), Decimal("20.00"), Decimal("18.00"), Decimal("-3.20")),
        }
        payer = {t.label: as_numbers(t) for t in report["by_payer"]}
        assert payer == {
            "Acme Health": modality["iontophoresis"],
            "Blue Plan": modality["phonophoresis"],
        }
        assert as_numbers(report["total"]) == (
            3,
            4,
            Decimal("17.00"),
            Decimal("80.00"),
            Decimal("103.00"),
            Decimal("6.00"),
        )

    def test_a_session_without_a_fee_counts_zero_and_is_flagged(self, month):
        from supplies.models import FeeSchedule

        FeeSchedule.objects.filter(payer=month["blue"]).delete()
        report = selectors.monthly_report(month=MONTH)
        assert report["total"].fee_missing == 1
        assert report["total"].reimbursement == Decimal("85.00")

    def test_the_page_shows_the_chart_data_and_totals(self, month, client, django_assert_max_num_queries):
        client.force_login(UserFactory(username="econ-ca", role="clinic_admin"))
        with django_assert_max_num_queries(25):
            response = client.get(reverse("supplies:economics"), {"month": "2031-03"})
        assert response.status_code == 200
        body = response.content.decode()
        assert 'id="economics-chart"' in body and "economics-data" in body
        assert "103.00" in body and "6.00" in body and "Acme Health" in body
        assert response.context["chart"]["reimbursement"] == ["85.00", "18.00", "85.00", "18.00"]

    def test_the_page_refuses_a_bad_month_without_a_500(self, month, client):
        client.force_login(UserFactory(username="econ-ca", role="clinic_admin"))
        for bad in ("2031-13", "March", "9999-12"):
            assert client.get(reverse("supplies:economics"), {"month": bad}).status_code == 400

    def test_the_csv_has_a_row_per_group_and_the_total(self, month, client):
        client.force_login(UserFactory(username="econ-ca", role="clinic_admin"))
        response = client.get(reverse("supplies:economics"), {"month": "2031-03", "format": "csv"})
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == [
            "group",
            "name",
            "sessions",
            "units",
            "supply_cost",
            "time_cost",
            "reimbursement",
            "margin",
        ]
        assert ["total", "All sessions", "3", "4", "17.00", "80.00", "103.00", "6.00"] in rows
        assert ["payer", "Blue Plan", "1", "1", "1.20", "20.00", "18.00", "-3.20"] in rows

    def test_the_api_gives_the_same_numbers(self, month):
        api = APIClient()
        api.force_authenticate(UserFactory(username="econ-ca", role="clinic_admin"))
        response = api.get("/api/v1/reports/session-economics/", {"month": "2031-03"})
        assert response.status_code == 200
        body = response.json()
        assert body["month"] == "2031-03"
        assert body["total"]["margin"] == "6.00" and body["total"]["sessions"] == 3
        assert {g["key"]: g["reimbursement"] for g in body["by_modality"]} == {
            "iontophoresis": "85.00",
            "phonophoresis": "18.00",
        }
        bad = api.get("/api/v1/reports/session-economics/", {"month": "03-2031"})
        assert bad.status_code == 400 and "month" in bad.json()

    def test_therapists_do_not_see_economics(self, month):
        api = APIClient()
        api.force_authenticate(UserFactory(username="econ-th2", role="therapist"))
        assert api.get("/api/v1/reports/session-economics/").status_code == 403

    def test_the_plan_page_shows_the_courses_running_numbers_to_admins(self, month, client):
        plan = month["first"].plan
        client.force_login(UserFactory(username="econ-ca", role="clinic_admin"))
        body = client.get(reverse("treatments:detail", kwargs={"pk": plan.pk})).content.decode()
        assert "Course economics" in body and "-12.70" in body
        client.force_login(UserFactory(username="econ-th3", role="therapist"))
        body = client.get(reverse("treatments:detail", kwargs={"pk": plan.pk})).content.decode()
        assert "Course economics" not in body
