from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from clinic.models import TimeStampedModel
from patients.names import name_key


class Payer(TimeStampedModel):
    """An insurer or other payer: a patient's coverage, authorizations (R22),
    the daily unit cap on 97033 (R18) and, in supplies, its fee schedule
    hang off it. Here, below plans, because the patient record names it."""

    name = models.CharField(max_length=120, unique=True)
    daily_97033_unit_cap = models.PositiveSmallIntegerField(
        "daily 97033 unit cap",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(32)],
        help_text="Most units of CPT 97033 billed per patient per day (Medicare allows 4).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Patient(TimeStampedModel):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Prefer not to say"

    mrn = models.CharField("MRN", max_length=12, unique=True, editable=False)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, blank=True)
    email = models.EmailField(blank=True)
    phone = PhoneNumberField(blank=True)
    reminder_opt_in = models.BooleanField(
        "email reminders", default=True, help_text="The patient agreed to receive appointment emails."
    )
    referring_provider = models.CharField(max_length=200, blank=True)
    payer = models.ForeignKey(
        "patients.Payer", on_delete=models.PROTECT, null=True, blank=True, related_name="patients"
    )
    member_id = models.CharField("member ID", max_length=40, blank=True)
    address_line1 = models.CharField("address line 1", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = PhoneNumberField(blank=True)
    notes = models.TextField(blank=True)
    # Search and duplicate detection compare names without case or accents
    # ("José" finds "Jose"): the folded "first last" is kept beside the name
    # by the services, so every database filters it the same way.
    name_key = models.CharField(max_length=201, blank=True, editable=False, db_index=True)
    # A merged record stays (its id is in old letters, exports, audit
    # entries) but is inactive and points at the record that was kept.
    is_active = models.BooleanField(default=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records", editable=False
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="patient_name_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            models.Index(fields=["phone"], name="patient_phone_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | models.Q(is_active=False),
                name="patient_merged_is_inactive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    def save(self, *args, **kwargs) -> None:
        # Derived, not a rule: kept here so every writer (services, admin,
        # factories) stores the key search and duplicate detection read.
        self.name_key = name_key(self.first_name, self.last_name)
        fields = kwargs.get("update_fields")
        if fields is not None and {"first_name", "last_name"} & set(fields):
            kwargs["update_fields"] = {*fields, "name_key"}
        super().save(*args, **kwargs)

    @property
    def has_address(self) -> bool:
        return bool(self.address_line1 or self.city or self.postal_code)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Screening(TimeStampedModel):
    """One safety screening (DOMAIN.md "Safety"). A review is a new row: the
    history is kept, the newest is current."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    screened_at = models.DateTimeField()
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    pacemaker = models.BooleanField(
        "implanted pacemaker, defibrillator or other electronic implant", default=False
    )
    pregnancy = models.BooleanField("pregnant or may be pregnant", default=False)
    metal_implant_at_site = models.BooleanField("metal implant in the treatment area", default=False)
    broken_skin_at_site = models.BooleanField("broken or irritated skin at the site", default=False)
    impaired_sensation = models.BooleanField("impaired sensation at the site", default=False)
    malignancy_at_site = models.BooleanField("malignancy in the area", default=False)
    infection_or_thrombosis_at_site = models.BooleanField(
        "active infection, DVT or thrombophlebitis in the area", default=False
    )
    epilepsy = models.BooleanField(default=False)
    open_growth_plates = models.BooleanField(
        "child with open growth plates under an ultrasound site", default=False
    )
    drug_allergy = models.BooleanField("allergy or sensitivity to the chosen drug", default=False)
    drug_allergy_details = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-screened_at", "-id"]
        get_latest_by = "screened_at"
        indexes = [models.Index(fields=["patient", "-screened_at"], name="screening_current_idx")]

    def __str__(self) -> str:
        return f"Screening of {self.patient_id} at {self.screened_at:%Y-%m-%d}"
