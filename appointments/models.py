import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from clinic.models import TimeStampedModel
from patients.models import Patient
from treatments.models import Modality, TreatmentPlan


def _calendar_token() -> str:
    return secrets.token_urlsafe(24)


class Therapist(TimeStampedModel):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="therapist")
    display_name = models.CharField(max_length=120)
    # Printed after the name on progress summaries and billing (e.g. "PT, DPT").
    credentials = models.CharField(max_length=60, blank=True)
    modalities = models.JSONField(default=list, help_text="Modalities this therapist gives.")
    is_active = models.BooleanField(default=True)
    calendar_token = models.CharField(max_length=64, unique=True, default=_calendar_token, editable=False)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class WorkingHours(models.Model):
    """A weekly block of working time in clinic local time; several a day."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    therapist = models.ForeignKey(Therapist, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["therapist", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="hours_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.therapist} {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class TherapistException(models.Model):
    """Leave or training (unavailable), or extra hours (available)."""

    class Kind(models.TextChoices):
        LEAVE = "leave", "Leave"
        TRAINING = "training", "Training"
        EXTRA_HOURS = "extra_hours", "Extra hours"

    therapist = models.ForeignKey(Therapist, on_delete=models.CASCADE, related_name="exceptions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["therapist", "start"], name="exception_lookup_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="exception_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.therapist}: {self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_available(self) -> bool:
        return self.kind == self.Kind.EXTRA_HOURS


class ClinicClosure(models.Model):
    """A day or days the whole clinic is closed (holiday, building work)."""

    start_date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="closure_end_after_start")
        ]

    def __str__(self) -> str:
        return f"Closed {self.start_date}–{self.end_date}: {self.reason}"


class Room(TimeStampedModel):
    name = models.CharField(max_length=60, unique=True)
    modalities = models.JSONField(default=list, help_text="Modalities this room supports.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Device(TimeStampedModel):
    class Kind(models.TextChoices):
        IONTOPHORESIS = "iontophoresis", "Iontophoresis generator"
        ULTRASOUND = "ultrasound", "Therapeutic ultrasound"
        TAP_WATER = "tap_water", "Tap-water iontophoresis unit"

    # Which device kind each modality needs (R3).
    KIND_FOR_MODALITY = {
        Modality.IONTOPHORESIS: Kind.IONTOPHORESIS,
        Modality.PHONOPHORESIS: Kind.ULTRASOUND,
        Modality.TAP_WATER: Kind.TAP_WATER,
    }

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    serial_number = models.CharField(max_length=60, unique=True)
    home_room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="devices"
    )
    in_service = models.BooleanField(default=True)
    calibration_due = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial_number})"


# A visit's status badge (Bootstrap classes), wherever a status is shown.
STATUS_BADGE = {
    "scheduled": "text-bg-primary",
    "confirmed": "text-bg-success",
    "checked_in": "text-bg-warning",
    "completed": "text-bg-secondary",
    "no_show": "text-bg-danger",
    "cancelled": "text-bg-light border",
}


class Appointment(TimeStampedModel):
    """One visit: a session of a plan, or an evaluation (a visit to assess a
    new patient or re-assess one, booked without a plan; R1–R3 apply, R4/R5
    do not, and it counts against no authorization). On PostgreSQL,
    exclusion constraints (migration 0002) make overlapping non-cancelled
    appointments of one therapist, room, device or patient impossible (R1)."""

    class Kind(models.TextChoices):
        SESSION = "session", "Session"
        EVALUATION = "evaluation", "Evaluation"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CONFIRMED = "confirmed", "Confirmed"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    # Statuses that hold their slot and count toward the plan (R1, R4).
    # Booked sessions still to happen; with the completed ones, what R4 counts.
    BOOKED_STATUSES = (Status.SCHEDULED, Status.CONFIRMED, Status.CHECKED_IN)
    ACTIVE_STATUSES = (*BOOKED_STATUSES, Status.COMPLETED)
    UPCOMING_STATUSES = (Status.SCHEDULED, Status.CONFIRMED)

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SESSION)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, related_name="appointments", null=True, blank=True
    )
    # The plan a therapist wrote after this evaluation (never counted as its session).
    resulting_plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, related_name="evaluations", null=True, blank=True
    )
    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="appointments", null=True, blank=True
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    sequence = models.PositiveIntegerField(default=0, help_text="Bumped on every change (calendar SEQUENCE).")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    no_show_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    late_cancellation = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["start"], name="appt_start_idx"),
            models.Index(fields=["therapist", "start"], name="appt_therapist_start_idx"),
            models.Index(fields=["room", "start"], name="appt_room_start_idx"),
            models.Index(fields=["device", "start"], name="appt_device_start_idx"),
            models.Index(fields=["patient", "start"], name="appt_patient_start_idx"),
            models.Index(fields=["plan", "status"], name="appt_plan_status_idx"),
            # R12's twelve-month counts (selectors.attendance_for): the late
            # cancellations and the no-shows alone, by patient and time, so the
            # count reads a year of them, not each patient's whole history.
            models.Index(
                fields=["patient", "cancelled_at"],
                condition=Q(late_cancellation=True),
                name="appt_patient_late_idx",
            ),
            models.Index(
                fields=["patient", "start"], condition=Q(status="no_show"), name="appt_patient_noshow_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_end_after_start"),
            # A session belongs to a plan; an evaluation to none (and is never a plan's session).
            models.CheckConstraint(
                condition=(
                    Q(kind="session", plan__isnull=False, resulting_plan__isnull=True)
                    | Q(kind="evaluation", plan__isnull=True)
                ),
                name="appointment_kind_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.pk} {self.start:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def is_evaluation(self) -> bool:
        return self.kind == self.Kind.EVALUATION


class AppointmentChange(models.Model):
    """History of an appointment's slot: one row per reschedule (the old slot)
    and per status change."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20)
    old_start = models.DateTimeField(null=True, blank=True)
    old_end = models.DateTimeField(null=True, blank=True)
    old_therapist = models.ForeignKey(
        Therapist, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    old_room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    old_status = models.CharField(max_length=12, blank=True)
    note = models.CharField(max_length=200, blank=True)
    by_patient = models.BooleanField(default=False, help_text="Done by the patient from an email link.")

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} of appointment {self.appointment_id} at {self.changed_at:%Y-%m-%d %H:%M}"


class WaitlistEntry(TimeStampedModel):
    """A patient who wants an earlier or a specific slot for a plan."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="waitlist_entries")
    preferred_weekdays = models.JSONField(default=list, blank=True, help_text="0 = Monday … 6 = Sunday")
    preferred_time_from = models.TimeField(null=True, blank=True)
    preferred_time_to = models.TimeField(null=True, blank=True)
    earliest_date = models.DateField(null=True, blank=True)
    latest_date = models.DateField(null=True, blank=True)
    notes = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            # One entry per plan on the list: two would be matched twice.
            models.UniqueConstraint(
                fields=["plan"], condition=Q(is_active=True), name="waitlist_one_active_entry_per_plan"
            )
        ]

    def __str__(self) -> str:
        return f"Waitlist: patient {self.patient_id}, plan {self.plan_id}"

    @property
    def preferred_day_names(self) -> list[str]:
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        return [names[i] for i in self.preferred_weekdays or [] if 0 <= i < len(names)]


# An unclaimed outbox row's claim token (a random id per sweep, not a secret).
NO_CLAIM = ""


class Reminder(models.Model):
    """One patient email (R13, R15): an outbox row planned inside the
    transaction that books, moves or cancels the visit, and sent later by the
    sweep (appointments/reminders/). The unique constraints make a second
    message for the same slot, kind and offset impossible."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation"
        REMINDER = "reminder", "Reminder"
        RESCHEDULED = "rescheduled", "Rescheduled notice"
        CANCELLATION = "cancellation", "Cancellation notice"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
        MAINTENANCE_RECALL = "maintenance_recall", "Maintenance recall"
        # One email for a series booking, listing all its sessions (hangs off
        # the series' first visit and its plan).
        SERIES_CONFIRMATION = "series_confirmation", "Series confirmation"
        # The home program (homecare, R15 extended): the patient's logging
        # link, and a recall when home logs go quiet or the HDSS climbs.
        HOME_LINK = "home_link", "Home program link"
        HOME_SILENCE_RECALL = "home_silence_recall", "Home program recall (no log)"
        HOME_HDSS_RECALL = "home_hdss_recall", "Home program recall (HDSS)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        VOID = "void", "Void"
        SKIPPED = "skipped", "Skipped"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    # Messages about one appointment; the others hang off a waitlist entry or a plan.
    APPOINTMENT_KINDS = (Kind.CONFIRMATION, Kind.REMINDER, Kind.RESCHEDULED, Kind.CANCELLATION)
    HOME_KINDS = (Kind.HOME_LINK, Kind.HOME_SILENCE_RECALL, Kind.HOME_HDSS_RECALL)

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="reminders"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reminders")
    plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="reminders"
    )
    waitlist_entry = models.ForeignKey(
        WaitlistEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="reminders"
    )
    # A waitlist offer's slot is with this therapist: whoever claims first
    # books it, the therapist's no-overlap constraint refusing the others.
    offer_therapist = models.ForeignKey(
        Therapist, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    slot_start = models.DateTimeField(help_text="The visit start (offered slot, recall date) it is about.")
    slot_end = models.DateTimeField(null=True, blank=True)
    offset_minutes = models.PositiveIntegerField(default=0, help_text="Minutes before the visit (reminders).")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    send_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Set just before the mail server is told to accept the message."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)
    resend_count = models.PositiveSmallIntegerField(default=0)
    resent_at = models.DateTimeField(null=True, blank=True)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="reminder_due_idx"),
            models.Index(fields=["patient", "due_at"], name="reminder_patient_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "slot_start", "offset_minutes"],
                condition=Q(appointment__isnull=False),
                name="reminder_once_per_slot",
            ),
            models.UniqueConstraint(
                fields=["waitlist_entry", "slot_start"],
                condition=Q(kind="waitlist_offer"),
                name="reminder_one_offer_per_slot",
            ),
            models.UniqueConstraint(
                fields=["plan", "slot_start"],
                condition=Q(kind="maintenance_recall"),
                name="reminder_one_recall_per_due_date",
            ),
            # One home-program recall per plan and episode (slot_start: the
            # day the silence began, or the HDSS rose). Link emails are sent
            # each time a therapist issues a link.
            models.UniqueConstraint(
                fields=["plan", "kind", "slot_start"],
                condition=Q(kind__in=["home_silence_recall", "home_hdss_recall"]),
                name="reminder_one_home_recall_per_episode",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=["confirmation", "reminder", "rescheduled", "cancellation"],
                        appointment__isnull=False,
                    )
                    | Q(kind="waitlist_offer", waitlist_entry__isnull=False)
                    | Q(kind="maintenance_recall", plan__isnull=False)
                    | Q(kind="series_confirmation", appointment__isnull=False, plan__isnull=False)
                    | Q(
                        kind__in=["home_link", "home_silence_recall", "home_hdss_recall"],
                        plan__isnull=False,
                    )
                ),
                name="reminder_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(kind="reminder") | Q(offset_minutes=0), name="reminder_offset_only_for_reminders"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"
