import datetime as dt
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from clinic.tests.factories import UserFactory
from supplies.models import FeeSchedule, Lot, SupplyItem
from treatments.tests.factories import MedicationFactory

_numbers = itertools.count(1)


class SupplyItemFactory(factory.django.DjangoModelFactory):
    """A 5 mL vial of dexamethasone at 0.80 a mL."""

    class Meta:
        model = SupplyItem
        django_get_or_create = ("kind", "name")

    kind = SupplyItem.Kind.DRUG_VIAL
    name = "Dexamethasone 4 mg/mL, 5 mL vial"
    medication = factory.SubFactory(MedicationFactory)
    vial_size_ml = Decimal("5")
    unit = SupplyItem.Unit.ML
    unit_cost = Decimal("0.80")
    reorder_level = Decimal("10")

    class Params:
        electrode = factory.Trait(
            kind=SupplyItem.Kind.ELECTRODE,
            name="Buffered electrode set, medium",
            medication=None,
            vial_size_ml=None,
            electrode_type=SupplyItem.ElectrodeType.BUFFERED,
            size="medium",
            unit=SupplyItem.Unit.EACH,
            unit_cost=Decimal("6.50"),
            reorder_level=Decimal("5"),
        )
        gel = factory.Trait(
            kind=SupplyItem.Kind.GEL,
            name="Ultrasound gel, 250 mL",
            medication=None,
            vial_size_ml=None,
            unit=SupplyItem.Unit.ML,
            unit_cost=Decimal("0.02"),
            reorder_level=Decimal("100"),
        )


class LotFactory(factory.django.DjangoModelFactory):
    """A lot on the shelf; on_hand matches a receipt movement only through
    supplies.services.lot_receive (use `receive` below in service tests)."""

    class Meta:
        model = Lot

    item = factory.SubFactory(SupplyItemFactory)
    lot_number = factory.LazyFunction(lambda: f"L-{next(_numbers):04d}")
    expiry = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=365))
    quantity_received = Decimal("50")
    on_hand = Decimal("50")
    unit_cost = factory.SelfAttribute("item.unit_cost")
    received_at = factory.LazyFunction(timezone.now)
    received_by = factory.SubFactory(UserFactory, role="therapist")


class FeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeeSchedule

    cpt_code = FeeSchedule.Code.IONTOPHORESIS
    fee_per_unit = Decimal("20.00")
    valid_from = dt.date(2020, 1, 1)


def receive(item=None, *, user, quantity="10", expiry=None, lot_number=None, **kwargs) -> Lot:
    from supplies import services

    item = item or SupplyItemFactory()
    return services.lot_receive(
        item=item,
        lot_number=lot_number or f"L-{next(_numbers):04d}",
        expiry=expiry or timezone.localdate() + dt.timedelta(days=365),
        quantity=Decimal(quantity),
        user=user,
        **kwargs,
    )


def add_supplies(world) -> None:
    """One of each supplies record, on the permission matrix's world."""
    from supplies.models import ExpiredUseAttempt, StockMovement, SupplySettings

    user = world.users["clinic_admin"]
    world.supply_item = SupplyItemFactory(medication=world.medication)
    world.lot = receive(world.supply_item, user=user, quantity="20", lot_number="W-1")
    world.movement = StockMovement.objects.filter(lot=world.lot).first()
    world.fee = FeeFactory(payer=world.payer)
    world.expired_attempt = ExpiredUseAttempt.objects.create(
        lot=world.lot, appointment=world.appointment, session_date=world.lot.expiry, user=user
    )
    world.supply_settings = SupplySettings.current()
