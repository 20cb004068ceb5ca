from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from clinic.models import TimeStampedModel
from patients.models import Patient


class Modality(models.TextChoices):
    IONTOPHORESIS = "iontophoresis", "Iontophoresis"
    PHONOPHORESIS = "phonophoresis", "Phonophoresis"
    TAP_WATER = "tap_water", "Tap-water iontophoresis"


class Polarity(models.TextChoices):
    NEGATIVE = "negative", "Negative (cathode)"
    POSITIVE = "positive", "Positive (anode)"


class Medication(TimeStampedModel):
    """The clinic's catalog: clinics mix the drug onto the electrode or into
    the gel themselves, so they choose what is listed."""

    class Charge(models.TextChoices):
        NEGATIVE = "negative", "Negative"
        POSITIVE = "positive", "Positive"
        NONE = "none", "None (no ion / no drug)"

    name = models.CharField(max_length=120)
    concentration = models.CharField(max_length=60, blank=True)
    polarity = models.CharField(max_length=10, choices=Charge.choices)
    modalities = models.JSONField(default=list, help_text="Modalities this medication may be used with.")
    is_drug = models.BooleanField(default=True, help_text="Off for tap water: no drug, no lot.")
    # R19: e.g. dexamethasone 4 mg/mL, about 1–2.5 mL a session.
    max_volume_ml = models.DecimalField(
        "maximum volume per session (mL)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Empty: the clinic's default maximum (clinic rules).",
    )
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "concentration"]
        constraints = [
            models.UniqueConstraint(fields=["name", "concentration"], name="medication_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.concentration}".strip()

    @property
    def modality_labels(self) -> list[str]:
        return [Modality(m).label for m in self.modalities if m in Modality.values]


class TreatmentPlan(TimeStampedModel):
    """A course of treatment: what is given, where, how often, how many."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Side(models.TextChoices):
        LEFT = "left", "Left"
        RIGHT = "right", "Right"
        BILATERAL = "bilateral", "Bilateral"
        NOT_APPLICABLE = "na", "Not applicable"

    class ElectrodeType(models.TextChoices):
        BUFFERED = "buffered", "Buffered electrode"
        WEARABLE_PATCH = "wearable_patch", "Wearable low-current patch"

    class Tray(models.TextChoices):
        HANDS = "hands", "Hands"
        FEET = "feet", "Feet"

    class PolarityAlternation(models.TextChoices):
        MIDWAY = "midway", "Reverse half-way through each session"
        PER_SESSION = "per_session", "Alternate each session"
        NONE = "none", "No alternation"

    class Phase(models.TextChoices):
        INITIAL = "initial", "Initial"
        MAINTENANCE = "maintenance", "Maintenance"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    modality = models.CharField(max_length=20, choices=Modality.choices)
    medication = models.ForeignKey(
        Medication, on_delete=models.PROTECT, related_name="plans", null=True, blank=True
    )
    indication = models.CharField(max_length=200, blank=True)
    icd10_code = models.CharField("ICD-10 code", max_length=10, blank=True)
    body_site = models.CharField(max_length=100)
    side = models.CharField(max_length=10, choices=Side.choices, default=Side.NOT_APPLICABLE)
    prescriber = models.CharField(max_length=200, blank=True)
    prescription_date = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    sessions_prescribed = models.PositiveSmallIntegerField(default=6, validators=[MinValueValidator(1)])
    sessions_authorized = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Visits the insurer authorized; empty when none recorded."
    )
    frequency_per_week = models.PositiveSmallIntegerField(
        "sessions per week", default=2, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    min_interval_hours = models.PositiveSmallIntegerField("minimum hours between sessions")
    # At most 8 h: scheduling's interval queries rely on visits shorter than a day.
    session_minutes = models.PositiveSmallIntegerField(
        help_text="Time booked for one session, set-up included.",
        validators=[MinValueValidator(5), MaxValueValidator(480)],
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.INITIAL)

    # Iontophoresis targets (current_ma also for tap water)
    dose_ma_min = models.DecimalField("dose (mA·min)", max_digits=6, decimal_places=2, null=True, blank=True)
    current_ma = models.DecimalField("current (mA)", max_digits=5, decimal_places=2, null=True, blank=True)
    polarity = models.CharField(max_length=10, choices=Polarity.choices, blank=True, null=True)
    electrode_type = models.CharField(max_length=20, choices=ElectrodeType.choices, blank=True, null=True)
    # Phonophoresis targets (treatment_minutes also for tap water)
    frequency_mhz = models.PositiveSmallIntegerField("frequency (MHz)", null=True, blank=True)
    intensity_w_cm2 = models.DecimalField(
        "intensity (W/cm²)", max_digits=4, decimal_places=2, null=True, blank=True
    )
    duty_cycle_pct = models.PositiveSmallIntegerField("duty cycle (%)", null=True, blank=True)
    treatment_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    # Tap-water targets
    tray = models.CharField(max_length=10, choices=Tray.choices, blank=True, null=True)
    polarity_alternation = models.CharField(
        max_length=12, choices=PolarityAlternation.choices, blank=True, null=True
    )
    maintenance_interval_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )

    # R6 override, recorded when a therapist activates despite the screening
    override_reason = models.TextField(blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    override_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The last status change: when, by whom and why (e.g. the hold reason).
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "status"], name="plan_patient_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(sessions_prescribed__gte=1), name="plan_prescribes_sessions"),
            models.CheckConstraint(
                condition=Q(frequency_per_week__gte=1) & Q(frequency_per_week__lte=7),
                name="plan_frequency_range",
            ),
            models.CheckConstraint(condition=Q(session_minutes__gte=5), name="plan_session_minutes_min"),
            models.CheckConstraint(condition=Q(session_minutes__lte=480), name="plan_session_minutes_max"),
        ]

    def __str__(self) -> str:
        return f"{self.get_modality_display()} · {self.body_site} ({self.patient_id})"

    @property
    def session_limit(self) -> int:
        """R4: the authorized count, or the prescribed count when none is recorded."""
        return self.sessions_authorized if self.sessions_authorized is not None else self.sessions_prescribed

    @property
    def delivery_minutes(self):
        """Iontophoresis: time = dose ÷ current (40 mA·min at 4 mA → 10 min)."""
        if self.dose_ma_min and self.current_ma:
            return self.dose_ma_min / self.current_ma
        return None

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.CANCELLED)


class Authorization(TimeStampedModel):
    """An insurer's authorization for a plan's visits (R22): a payer, its
    number, how many visits and the dates they may fall on. A plan's
    authorizations do not overlap in time, so each visit date has at most
    one; R4 counts the visits in its period against it."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="authorizations")
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="authorizations")
    number = models.CharField("authorization number", max_length=60)
    visits_authorized = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    valid_from = models.DateField()
    valid_to = models.DateField()
    notes = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["plan", "valid_from", "id"]
        indexes = [models.Index(fields=["plan", "valid_from"], name="authorization_plan_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__gte=F("valid_from")), name="authorization_period"),
            models.CheckConstraint(condition=Q(visits_authorized__gte=1), name="authorization_visits_min"),
        ]

    def __str__(self) -> str:
        return f"Authorization {self.number} ({self.valid_from:%Y-%m-%d} – {self.valid_to:%Y-%m-%d})"

    def covers(self, day) -> bool:
        return self.valid_from <= day <= self.valid_to
