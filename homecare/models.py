"""The hyperhidrosis patient's side of the program (R15 extended): intake
answers before the first visit, a home program with its signed logging link,
and the sessions the patient logs at home.

Everything here is written by the patient through a signed link (no
account): it is audit-logged (apps.py) and reaches the clinic's records only
through a therapist — an intake is a *proposed* screening until a therapist
accepts it (R6, R20)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from appointments.models import Appointment
from patients.models import Patient, Screening
from treatments.models import TreatmentPlan

HDSS_CHOICES = [
    (1, "1 — never noticeable, never interferes with daily activities"),
    (2, "2 — tolerable, sometimes interferes"),
    (3, "3 — barely tolerable, frequently interferes"),
    (4, "4 — intolerable, always interferes"),
]


def hdss_field() -> models.PositiveSmallIntegerField:
    """The HDSS (1–4), optional: the patient may not know or not say."""
    return models.PositiveSmallIntegerField(
        "HDSS",
        null=True,
        blank=True,
        choices=HDSS_CHOICES,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )


class IntakeResponse(models.Model):
    """What the patient answered before a first visit or evaluation."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Waiting for a therapist's review"
        ACCEPTED = "accepted", "Accepted as the screening"
        CORRECTED = "corrected", "Accepted with corrections"
        DISMISSED = "dismissed", "Dismissed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intakes")
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="intakes")
    answers = models.JSONField(help_text="Screening question → the patient's answer.")
    drug_allergy_details = models.TextField(blank=True)
    hdss = hdss_field()
    comments = models.TextField(blank=True)
    submitted_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    screening = models.ForeignKey(
        Screening,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The screening the therapist recorded from it.",
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # One proposal waits per visit: a second submission replaces it.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=models.Q(status="proposed"),
                name="intake_one_proposal_per_visit",
            )
        ]

    def __str__(self) -> str:
        return f"Intake {self.pk} for visit {self.appointment_id}"


class HomeProgram(models.Model):
    """A tap-water plan treated at home with the patient's own device."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused — needs review"
        ENDED = "ended", "Ended"

    class Site(models.TextChoices):
        HANDS = "hands", "Hands"
        FEET = "feet", "Feet"
        BOTH = "both", "Hands and feet"

    plan = models.OneToOneField(TreatmentPlan, on_delete=models.PROTECT, related_name="home_program")
    device = models.CharField(max_length=120, help_text="The home unit, e.g. its make and model.")
    site = models.CharField(max_length=5, choices=Site.choices)
    current_ma = models.DecimalField("current (mA)", max_digits=4, decimal_places=1)
    minutes = models.PositiveSmallIntegerField()
    sessions_per_week = models.PositiveSmallIntegerField()
    polarity_alternation = models.CharField(max_length=12, choices=TreatmentPlan.PolarityAlternation.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The link is signed over (program, version): rotating bumps the version,
    # so the old link stops at once; revoking closes it until a new one.
    link_version = models.PositiveIntegerField(default=1)
    link_revoked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Home program of plan {self.plan_id}"

    @property
    def link_active(self) -> bool:
        return self.link_revoked_at is None and self.status != self.Status.ENDED


class HomeSession(models.Model):
    """One session the patient logged at home."""

    class Skin(models.TextChoices):
        NONE = "none", "No reaction"
        ERYTHEMA = "erythema", "Redness that fades within hours"
        BLISTER = "blister", "Blisters"
        BURN = "burn", "A burn or a painful sore"
        OTHER = "other", "Something else (itching rash, cracked skin…)"

    # Beyond redness the program pauses until a therapist reviews it (R16).
    NEEDS_REVIEW = (Skin.BLISTER, Skin.BURN, Skin.OTHER)

    program = models.ForeignKey(HomeProgram, on_delete=models.PROTECT, related_name="sessions")
    date = models.DateField()
    site = models.CharField(max_length=5, choices=HomeProgram.Site.choices)
    minutes = models.PositiveSmallIntegerField()
    current_ma = models.DecimalField("current (mA)", max_digits=4, decimal_places=1)
    skin_reaction = models.CharField(max_length=10, choices=Skin.choices)
    hdss = hdss_field()
    comments = models.CharField(max_length=500, blank=True)
    logged_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["program", "date"], name="homesession_program_date_idx")]

    def __str__(self) -> str:
        return f"Home session {self.date} of program {self.program_id}"

    @property
    def needs_review(self) -> bool:
        return self.skin_reaction in self.NEEDS_REVIEW and self.reviewed_at is None
