"""Pages and API: request in, status and database out."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from clinic.dashboard import admin_dashboard
from notes.models import SessionNote
from supplies.models import ExpiredUseAttempt, FeeSchedule, Lot, StockMovement, SupplyItem
from supplies.tests.factories import SupplyItemFactory, receive
from supplies.tests.test_stock import NOTE
from treatments.tests.factories import MedicationFactory


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
class TestReceivePage:
    def test_receiving_on_the_page_makes_the_lot_and_redirects(self, client, therapist):
        item = SupplyItemFactory()
        client.force_login(therapist)
        response = client.post(
            reverse("supplies:receive"),
            {"item": item.pk, "lot_number": "DX-P1", "expiry": "2031-05-01", "quantity": "25"},
        )
        lot = Lot.objects.get(lot_number="DX-P1")
        assert response.status_code == 302 and response["Location"] == reverse(
            "supplies:lot", kwargs={"pk": lot.pk}
        )
        assert lot.on_hand == 25 and StockMovement.objects.get(lot=lot).created_by == therapist

    def test_a_refused_receipt_re_renders_with_the_input_and_writes_nothing(self, client, therapist):
        item = SupplyItemFactory()
        client.force_login(therapist)
        response = client.post(
            reverse("supplies:receive"),
            {"item": item.pk, "lot_number": "DX-OLD", "expiry": "2001-01-01", "quantity": "25"},
        )
        assert response.status_code == 400
        assert "do not put it on the shelf" in response.content.decode()
        assert response.context["form"]["lot_number"].value() == "DX-OLD"
        assert not Lot.objects.exists()

    def test_a_correction_needs_a_reason(self, client, therapist):
        lot = receive(user=therapist, quantity="5")
        client.force_login(therapist)
        response = client.post(
            reverse("supplies:correct", kwargs={"pk": lot.pk}), {"quantity": "-1", "reason": ""}
        )
        assert response.status_code == 400
        response = client.post(
            reverse("supplies:correct", kwargs={"pk": lot.pk}), {"quantity": "-1", "reason": "Vial broken"}
        )
        assert response.status_code == 302
        lot.refresh_from_db()
        assert lot.on_hand == 4
        response = client.post(
            reverse("supplies:correct", kwargs={"pk": lot.pk}), {"quantity": "-10", "reason": "Count"}
        )
        assert response.status_code == 400 and "not enough" in response.content.decode()

    def test_the_stock_page_lists_items_in_a_fixed_number_of_queries(
        self, client, therapist, django_assert_max_num_queries
    ):
        for n in range(6):
            item = SupplyItemFactory(name=f"Item {n}", medication=MedicationFactory(name=f"Drug {n}"))
            receive(item, user=therapist, quantity="3")
            receive(item, user=therapist, quantity="4")
        client.force_login(therapist)
        with django_assert_max_num_queries(20):
            response = client.get(reverse("supplies:list"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Item 5" in body and "Unit cost" not in body  # costs are for clinic admins


@pytest.mark.django_db
class TestNotePage:
    def test_the_lot_field_offers_lots_on_hand_not_expired_and_the_patients_vial(
        self, client, visit, therapist
    ):
        vial = SupplyItemFactory()
        good = receive(vial, user=therapist, quantity="10", lot_number="DX-GOOD")
        old = receive(vial, user=therapist, quantity="10", lot_number="DX-OLD")
        Lot.objects.filter(pk=old.pk).update(expiry=visit.start.date() - dt.timedelta(days=1))
        empty = receive(vial, user=therapist, quantity="1", lot_number="DX-EMPTY")
        Lot.objects.filter(pk=empty.pk).update(on_hand=0)
        client.force_login(therapist)
        form = client.get(reverse("notes:note", kwargs={"pk": visit.pk})).context["form"]
        choices = dict(form.fields["medication_source"].choices)
        assert f"lot:{good.pk}" in choices and "patient" in choices
        assert f"lot:{old.pk}" not in choices and f"lot:{empty.pk}" not in choices

    def test_saving_the_page_with_a_lot_draws_and_without_a_choice_is_refused(self, client, visit, therapist):
        lot = receive(SupplyItemFactory(), user=therapist, quantity="10", lot_number="DX-PAGE")
        client.force_login(therapist)
        data = {k: str(v) for k, v in NOTE.items()}
        url = reverse("notes:note", kwargs={"pk": visit.pk})
        response = client.post(url, {**data, "medication_source": ""})
        assert response.status_code == 400
        assert "patient brought the vial" in response.content.decode()
        assert response.context["form"]["medication_volume_ml"].value() == "1.5"
        assert not SessionNote.objects.exists()
        response = client.post(url, {**data, "medication_source": f"lot:{lot.pk}"})
        assert response.status_code == 302
        lot.refresh_from_db()
        assert lot.on_hand == Decimal("8.5")
        form = client.get(url).context["form"]
        assert form["medication_source"].value() == f"lot:{lot.pk}"  # the draft shows the lot it holds


@pytest.mark.django_db
class TestApi:
    def test_post_lots_receives_and_a_bad_body_is_a_400(self, therapist):
        item = SupplyItemFactory()
        api = api_for(therapist)
        response = api.post(
            "/api/v1/lots/",
            {"item": item.pk, "lot_number": "DX-A", "expiry": "2031-01-01", "quantity": "12.5"},
        )
        assert response.status_code == 201, response.json()
        assert response.json()["on_hand"] == "12.50" and "unit_cost" not in response.json()
        again = api.post(
            "/api/v1/lots/",
            {"item": item.pk, "lot_number": "DX-A", "expiry": "2031-01-01", "quantity": "2.5"},
        )
        assert again.status_code == 201 and again.json()["on_hand"] == "15.00"
        bad = api.post(
            "/api/v1/lots/", {"item": item.pk, "lot_number": "DX-B", "expiry": "2001-01-01", "quantity": "1"}
        )
        assert bad.status_code == 400 and "expiry" in bad.json()
        huge = api.post(
            "/api/v1/lots/", {"item": item.pk, "lot_number": "X", "expiry": "9999-12-31", "quantity": "1e20"}
        )
        assert huge.status_code == 400
        assert Lot.objects.count() == 1

    def test_the_catalog_is_written_by_clinic_admins_and_costs_shown_to_them(self, therapist, admin_user):
        medication = MedicationFactory()
        body = {
            "kind": "drug_vial",
            "name": "Vial",
            "medication": medication.pk,
            "unit": "mL",
            "unit_cost": "0.5",
        }
        assert api_for(therapist).post("/api/v1/supply-items/", body).status_code == 403
        created = api_for(admin_user).post("/api/v1/supply-items/", body)
        assert created.status_code == 201 and created.json()["unit_cost"] == "0.5000"
        no_drug = api_for(admin_user).post(
            "/api/v1/supply-items/", {**body, "name": "V2", "medication": None}, format="json"
        )
        assert no_drug.status_code == 400 and "medication" in no_drug.json()
        listed = api_for(therapist).get("/api/v1/supply-items/").json()["results"]
        assert listed[0]["name"] == "Vial" and "unit_cost" not in listed[0]
        assert SupplyItem.objects.count() == 1

    def test_movements_are_listed_per_note(self, visit, therapist):
        lot = receive(SupplyItemFactory(), user=therapist, quantity="10")
        api = api_for(therapist)
        response = api.put(
            f"/api/v1/appointments/{visit.pk}/note/",
            {**{k: str(v) for k, v in NOTE.items()}, "medication_stock_lot": lot.pk},
            format="json",
        )
        assert response.status_code == 201, response.json()
        note = SessionNote.objects.get()
        movements = api.get("/api/v1/stock-movements/", {"note": note.pk}).json()["results"]
        assert [(m["kind"], m["quantity"]) for m in movements] == [("draw", "-1.50")]
        # a partial update keeps the lot it holds and gives back the difference
        response = api.put(
            f"/api/v1/appointments/{visit.pk}/note/", {"medication_volume_ml": "1.0"}, format="json"
        )
        assert response.status_code == 200, response.json()
        lot.refresh_from_db()
        assert lot.on_hand == Decimal("9.0")

    def test_an_expired_lot_through_the_api_is_a_400_with_its_code(self, visit, therapist):
        lot = receive(SupplyItemFactory(), user=therapist, quantity="10", lot_number="DX-EXP")
        Lot.objects.filter(pk=lot.pk).update(expiry=visit.start.date() - dt.timedelta(days=3))
        response = api_for(therapist).put(
            f"/api/v1/appointments/{visit.pk}/note/",
            {**{k: str(v) for k, v in NOTE.items()}, "medication_stock_lot": lot.pk},
            format="json",
        )
        assert response.status_code == 400
        assert "R9.expired" in response.json()["codes"]
        assert ExpiredUseAttempt.objects.filter(lot=lot).count() == 1

    def test_fee_schedules_are_for_clinic_admins(self, therapist, admin_user):
        from patients.models import Payer

        payer = Payer.objects.create(name="Acme")
        body = {"payer": payer.pk, "cpt_code": "97033", "fee_per_unit": "21.00", "valid_from": "2031-01-01"}
        assert api_for(therapist).post("/api/v1/fee-schedules/", body).status_code == 403
        assert api_for(admin_user).post("/api/v1/fee-schedules/", body).status_code == 201
        again = api_for(admin_user).post("/api/v1/fee-schedules/", {**body, "fee_per_unit": "22.00"})
        assert again.status_code == 201
        assert FeeSchedule.objects.get().fee_per_unit == Decimal("22.00")  # same date: replaced
        bad = api_for(admin_user).post("/api/v1/fee-schedules/", {**body, "cpt_code": "97110"})
        assert bad.status_code == 400 and "cpt_code" in bad.json()


@pytest.mark.django_db
def test_the_admin_dashboard_alerts(visit, therapist, django_assert_max_num_queries):
    vial = SupplyItemFactory(reorder_level=Decimal("20"))
    soon = receive(vial, user=therapist, quantity="5", expiry=visit.start.date() + dt.timedelta(days=10))
    receive(SupplyItemFactory(electrode=True), user=therapist, quantity="50")
    old = receive(vial, user=therapist, quantity="5", lot_number="DX-GONE")
    Lot.objects.filter(pk=old.pk).update(expiry=visit.start.date() - dt.timedelta(days=1))
    ExpiredUseAttempt.objects.create(
        lot=old, appointment=visit, session_date=visit.start.date(), user=therapist
    )
    with django_assert_max_num_queries(12):
        board = admin_dashboard()["stock"]
    assert [item.name for item in board["low_stock"]] == [vial.name]  # 5 usable mL < 20; electrodes fine
    assert soon in board["expiring_lots"] and old in board["expiring_lots"]
    assert [a.lot for a in board["expired_attempts"]] == [old]
