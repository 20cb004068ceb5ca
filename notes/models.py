"""Session notes: what was actually delivered in one appointment, the skin
and pain checks, adverse events, billing, and addenda.

The tables keep the names they had when notes lived in `treatments`
(migration notes/0001 moved them by state only, rows untouched)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from clinic.models import TimeStampedModel
from treatments.models import Polarity, TreatmentPlan


class SkinCondition(models.TextChoices):
    NORMAL = "normal", "Normal"
    ERYTHEMA = "erythema", "Erythema (redness)"
    BLISTER = "blister", "Blister"
    BURN = "burn", "Burn"
    OTHER = "other", "Other"


# Anything beyond erythema is an adverse event (DOMAIN.md "Safety").
ADVERSE_SKIN = (SkinCondition.BLISTER, SkinCondition.BURN, SkinCondition.OTHER)


class SessionNote(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    # The same choices as the plan's targets (one enum each in the API schema).
    ElectrodeType = TreatmentPlan.ElectrodeType
    Tray = TreatmentPlan.Tray
    Polarity = Polarity

    appointment = models.OneToOneField(
        "appointments.Appointment", on_delete=models.PROTECT, related_name="note"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)

    # Delivered parameters (current_ma and treatment_minutes also for tap water)
    current_ma = models.DecimalField("current (mA)", max_digits=5, decimal_places=2, null=True, blank=True)
    treatment_minutes = models.DecimalField(
        "treatment time (min)", max_digits=6, decimal_places=1, null=True, blank=True
    )
    dose_ma_min = models.DecimalField("dose (mA·min)", max_digits=7, decimal_places=2, null=True, blank=True)
    polarity = models.CharField(max_length=10, choices=Polarity.choices, blank=True)
    electrode_type = models.CharField(max_length=20, choices=ElectrodeType.choices, blank=True)
    electrode_lot = models.CharField(max_length=60, blank=True)
    medication_lot = models.CharField(max_length=60, blank=True)
    medication_expiry = models.DateField(null=True, blank=True)
    medication_volume_ml = models.DecimalField(
        "medication volume (mL)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    frequency_mhz = models.PositiveSmallIntegerField("frequency (MHz)", null=True, blank=True)
    intensity_w_cm2 = models.DecimalField(
        "intensity (W/cm²)", max_digits=4, decimal_places=2, null=True, blank=True
    )
    duty_cycle_pct = models.PositiveSmallIntegerField("duty cycle (%)", null=True, blank=True)
    treatment_area_cm2 = models.DecimalField(
        "area (cm²)", max_digits=6, decimal_places=1, null=True, blank=True
    )
    coupling_medium = models.CharField(max_length=100, blank=True)
    tray = models.CharField(max_length=10, choices=Tray.choices, blank=True)
    polarity_switched = models.BooleanField("polarity switched half-way", default=False)
    water_additive = models.CharField(max_length=100, blank=True, help_text="e.g. a teaspoon of baking soda")
    barrier_applied = models.BooleanField("vaseline barrier applied", default=False)
    # R18: a wearable patch is worn for hours at home; only the attended
    # application in clinic is timed (billed), never the wear time.
    application_minutes = models.PositiveSmallIntegerField(
        "attended application (min)",
        null=True,
        blank=True,
        help_text="Wearable patch: the minutes spent applying it with the patient (billed).",
    )
    # R21: Hyperhidrosis Disease Severity Scale, tap water only.
    hdss = models.PositiveSmallIntegerField(
        "HDSS (1–4)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="1 never noticeable … 4 intolerable, always interferes with daily activities.",
    )

    # Checks
    skin_before = models.CharField(max_length=10, choices=SkinCondition.choices, blank=True)
    skin_after = models.CharField(max_length=10, choices=SkinCondition.choices, blank=True)
    skin_notes = models.TextField(blank=True)
    pain_before = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    pain_after = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )

    # SOAP and instructions
    subjective = models.TextField(blank=True)
    objective = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    care_plan = models.TextField("plan", blank=True)
    home_instructions = models.TextField(blank=True, help_text="e.g. when to remove a wearable patch")

    # Billing (R11)
    timed_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    cpt_code = models.CharField(max_length=5, blank=True)
    billing_units = models.PositiveSmallIntegerField(default=0)

    confirmed_out_of_range = models.BooleanField(default=False)
    screening_override_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "treatments_sessionnote"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(signed_by__isnull=False) & Q(signed_at__isnull=False)),
                name="note_signed_has_signer",
            ),
            models.CheckConstraint(
                condition=(Q(pain_before__isnull=True) | Q(pain_before__lte=10))
                & (Q(pain_after__isnull=True) | Q(pain_after__lte=10)),
                name="note_pain_0_10",
            ),
            models.CheckConstraint(
                condition=Q(hdss__isnull=True) | (Q(hdss__gte=1) & Q(hdss__lte=4)), name="note_hdss_1_4"
            ),
        ]

    def __str__(self) -> str:
        return f"Note for appointment {self.appointment_id} ({self.get_status_display()})"

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @staticmethod
    def dose_of(current_ma, minutes) -> Decimal | None:
        if current_ma is None or minutes is None:
            return None
        return (Decimal(current_ma) * Decimal(minutes)).quantize(Decimal("0.01"))


class Addendum(models.Model):
    """A dated, signed correction or addition to a signed note (R10)."""

    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "treatments_addendum"
        ordering = ["created_at", "id"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum to note {self.note_id} at {self.created_at:%Y-%m-%d %H:%M}"


class AdverseEvent(models.Model):
    """Blister, burn or a reported reaction; shown on the chart and the plan."""

    class Kind(models.TextChoices):
        BLISTER = "blister", "Blister"
        BURN = "burn", "Burn"
        REACTION = "reaction", "Reported reaction"
        OTHER = "other", "Other skin finding"

    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="adverse_events")
    plan = models.ForeignKey(
        "treatments.TreatmentPlan", on_delete=models.PROTECT, related_name="adverse_events"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="adverse_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.TextField()
    action_taken = models.TextField()
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "treatments_adverseevent"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (plan {self.plan_id})"
