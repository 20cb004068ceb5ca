"""Supplies: the catalog of what a session uses (drug vials, electrodes,
coupling gel, consumables), the lots on the shelf, every stock movement, the
payers' fee schedules and the settings that price a session.

Stock is never an edited number: a lot's `on_hand` moves only with a
`StockMovement` row written in the same transaction (supplies.services), and
the database refuses a negative balance."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from clinic.models import TimeStampedModel

ZERO = Decimal("0")


class SupplyItem(TimeStampedModel):
    class Kind(models.TextChoices):
        DRUG_VIAL = "drug_vial", "Drug vial"
        ELECTRODE = "electrode", "Electrode"
        GEL = "gel", "Coupling gel"
        CONSUMABLE = "consumable", "Consumable"

    class ElectrodeType(models.TextChoices):
        # The first two are the note's electrode types (treatments.TreatmentPlan.ElectrodeType).
        BUFFERED = "buffered", "Buffered electrode"
        WEARABLE_PATCH = "wearable_patch", "Wearable low-current patch"
        TRAY_PADS = "tray_pads", "Tap-water tray pads"

    class Unit(models.TextChoices):
        ML = "mL", "mL"
        EACH = "each", "each"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=120)
    medication = models.ForeignKey(
        "treatments.Medication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supply_items",
        help_text="Drug vials: the catalog medication in the vial.",
    )
    vial_size_ml = models.DecimalField(
        "vial size (mL)", max_digits=6, decimal_places=2, null=True, blank=True
    )
    electrode_type = models.CharField(max_length=20, choices=ElectrodeType.choices, blank=True)
    size = models.CharField(max_length=40, blank=True, help_text="e.g. 'medium', '5 × 8 cm'")
    unit = models.CharField(
        max_length=4,
        choices=Unit.choices,
        help_text="Stock is counted in this unit: mL for drugs and gel, each for electrodes.",
    )
    unit_cost = models.DecimalField(
        "unit cost", max_digits=9, decimal_places=4, validators=[MinValueValidator(ZERO)]
    )
    reorder_level = models.DecimalField(
        max_digits=9, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="supply_item_unique_name"),
            models.CheckConstraint(
                condition=~Q(kind="drug_vial") | (Q(medication__isnull=False) & Q(unit="mL")),
                name="supply_drug_vial_has_medication",
            ),
            models.CheckConstraint(
                condition=~Q(kind="electrode") | ~Q(electrode_type=""),
                name="supply_electrode_has_type",
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="supply_unit_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Lot(TimeStampedModel):
    item = models.ForeignKey(SupplyItem, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=60)
    expiry = models.DateField()
    quantity_received = models.DecimalField(max_digits=9, decimal_places=2)
    # A running balance kept only by supplies.services.move (never edited).
    on_hand = models.DecimalField(max_digits=9, decimal_places=2)
    unit_cost = models.DecimalField(
        "unit cost", max_digits=9, decimal_places=4, help_text="What this lot cost per unit."
    )
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["expiry", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "lot_number"], name="lot_unique_number_per_item"),
            # The last line under concurrency: no draw takes a lot below zero.
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="lot_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(quantity_received__gt=0), name="lot_received_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item.name} lot {self.lot_number}"

    def label(self) -> str:
        return f"{self.lot_number} · exp. {self.expiry:%Y-%m-%d} · {self.on_hand:g} {self.item.unit} on hand"


class StockMovement(models.Model):
    """One change to a lot's stock: who, when, why, how much (signed)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Received"
        DRAW = "draw", "Drawn for a session"
        RETURN = "return", "Given back (draft edited or voided)"
        CORRECTION = "correction", "Correction"

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    quantity = models.DecimalField(max_digits=9, decimal_places=2, help_text="Positive in, negative out.")
    note = models.ForeignKey(
        "notes.SessionNote", on_delete=models.PROTECT, null=True, blank=True, related_name="stock_movements"
    )
    reason = models.CharField(max_length=200)
    # Empty only when nobody signed in caused it (a patient cancelling by their link).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["note", "lot"], name="movement_note_lot")]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="movement_not_zero")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+g} {self.lot}"


class ExpiredUseAttempt(models.Model):
    """A note tried to use a lot past its expiry on the session day (refused
    by R9); kept for the admin dashboard, outside the refused transaction."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="expired_attempts")
    appointment = models.ForeignKey("appointments.Appointment", on_delete=models.PROTECT, related_name="+")
    session_date = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Expired {self.lot} tried on {self.session_date:%Y-%m-%d}"


class FeeSchedule(models.Model):
    """A payer's fee per unit of a CPT code from a date on (the newest row
    valid on the date of service applies)."""

    class Code(models.TextChoices):
        IONTOPHORESIS = "97033", "97033 iontophoresis"
        ULTRASOUND = "97035", "97035 ultrasound (phonophoresis)"

    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="fees")
    cpt_code = models.CharField("CPT code", max_length=5, choices=Code.choices)
    fee_per_unit = models.DecimalField(
        "fee per unit", max_digits=8, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    valid_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["payer__name", "cpt_code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["payer", "cpt_code", "valid_from"], name="fee_unique_per_day"),
            models.CheckConstraint(condition=Q(fee_per_unit__gte=0), name="fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.payer} {self.cpt_code} from {self.valid_from:%Y-%m-%d}: {self.fee_per_unit}"


class SupplySettings(models.Model):
    """The figures that price a session and what a session draws: one row,
    edited by a clinic admin."""

    therapist_hourly_cost = models.DecimalField(
        "therapist time cost per hour", max_digits=8, decimal_places=2, default=Decimal("45.00")
    )
    gel_ml_per_session = models.DecimalField(
        "gel per phonophoresis session (mL)", max_digits=6, decimal_places=2, default=Decimal("10")
    )
    expiry_warning_days = models.PositiveSmallIntegerField(default=30)

    class Meta:
        verbose_name = "supply settings"
        verbose_name_plural = "supply settings"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="supply_settings_single_row")]

    def __str__(self) -> str:
        return "Supply settings"

    @classmethod
    def current(cls) -> SupplySettings:
        found, _ = cls.objects.get_or_create(id=1)
        return found

    @classmethod
    def read(cls) -> SupplySettings:
        """The row, or the defaults unsaved: one query, no write (for reads)."""
        return cls.objects.filter(id=1).first() or cls(id=1)
