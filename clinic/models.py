from decimal import Decimal

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ClinicRules(models.Model):
    """The clinic's editable limits (DOMAIN.md): one row, edited by a clinic
    admin. Every rule reads its figures from here, never from a constant."""

    # R6 screening
    screening_valid_days = models.PositiveSmallIntegerField(default=30)
    # R7 device limits (refused) and typical ranges (need a confirmation)
    ionto_current_min_ma = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0.1"))
    ionto_current_max_ma = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("4"))
    ionto_dose_max_ma_min = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("80"))
    ionto_dose_typical_min = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("40"))
    ionto_dose_typical_max = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("80"))
    tap_current_max_ma = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("25"))
    tap_current_typical_min = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("10"))
    tap_current_typical_max = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("18"))
    tap_minutes_min = models.PositiveSmallIntegerField(default=10)
    tap_minutes_max = models.PositiveSmallIntegerField(default=40)
    us_intensity_min = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("0.1"))
    us_intensity_max = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("2.5"))
    us_intensity_typical_min = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("0.5"))
    us_intensity_typical_max = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("2.0"))
    us_minutes_min = models.PositiveSmallIntegerField(default=1)
    us_minutes_max = models.PositiveSmallIntegerField(default=15)
    us_minutes_typical_min = models.PositiveSmallIntegerField(default=5)
    us_minutes_typical_max = models.PositiveSmallIntegerField(default=10)
    # R5 defaults per modality (hours between sessions of one plan)
    ionto_min_interval_hours = models.PositiveSmallIntegerField(default=48)
    phono_min_interval_hours = models.PositiveSmallIntegerField(default=24)
    tap_min_interval_hours = models.PositiveSmallIntegerField(default=24)
    # R12 late cancellation
    late_cancel_hours = models.PositiveSmallIntegerField(default=24)
    # R13 reminders: hours before the visit, comma-separated
    reminder_offsets_hours = models.CharField(max_length=50, default="24")
    # Evaluations: a visit to assess a new patient, booked without a plan
    evaluation_minutes = models.PositiveSmallIntegerField(default=45)
    # R14 alert threshold
    authorization_alert_remaining = models.PositiveSmallIntegerField(default=2)
    # R18 the 97033 units a patient may be billed a day, for a patient with no
    # payer (a payer's own cap wins, patients.Payer.daily_97033_unit_cap)
    daily_97033_unit_cap = models.PositiveSmallIntegerField(default=4)
    # R19 limits by patient and device
    minor_age_years = models.PositiveSmallIntegerField(default=18)
    tap_current_max_minor_ma = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("15"))
    patch_wear_max_minutes = models.PositiveSmallIntegerField(default=240)
    tap_sessions_max_per_week = models.PositiveSmallIntegerField(default=5)
    tap_sessions_max_per_day = models.PositiveSmallIntegerField(default=1)
    # A catalog entry without its own maximum volume per session uses this one.
    drug_volume_max_ml = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("5"))
    # R21 the longest maintenance interval a therapist may set (days)
    maintenance_interval_max_days = models.PositiveSmallIntegerField(default=90)
    # R22: staff are alerted this many days before an authorization expires
    authorization_expiry_alert_days = models.PositiveSmallIntegerField(default=7)

    class Meta:
        verbose_name = "clinic rules"
        verbose_name_plural = "clinic rules"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="clinic_rules_single_row")]

    def __str__(self) -> str:
        return "Clinic rules"

    @classmethod
    def current(cls) -> "ClinicRules":
        rules, _ = cls.objects.get_or_create(id=1)
        return rules

    @property
    def reminder_offsets(self) -> list[int]:
        return sorted({int(x) for x in self.reminder_offsets_hours.split(",") if x.strip()}, reverse=True)
