"""Who may do what with plans and the catalog: one place for the pages and
the API. Every staff member reads plans and their counters (booking needs
them); clinical work (create, edit, status) is for therapists; the catalog
is written by clinic admins."""

from clinic.access import (
    ADMIN,
    CLINICAL,
    STAFF,
    AdminPermission,
    ClinicalPermission,
    FieldPolicy,
    StaffPermission,
)

CATALOG = ADMIN
CatalogPermission = AdminPermission

# What the front desk reads of a plan: the logistics of booking it. The
# indication and ICD-10 code, the drug, the prescription, the target
# parameters, the override and the status reasons are clinical: the API, the
# pages and every export leave them out for anyone not in CLINICAL. (Body
# site and side name the plan on the schedule: "Iontophoresis · elbow".)
PLAN_FIELDS = FieldPolicy(
    "plan",
    shared={
        "id",
        "patient",
        "modality",
        "body_site",
        "side",
        "status",
        "phase",
        "counts",
        "sessions_prescribed",
        "sessions_authorized",
        "frequency_per_week",
        "min_interval_hours",
        "session_minutes",
        "start_date",
        "status_changed_at",
        "created_at",
    },
)

__all__ = [
    "CATALOG",
    "CLINICAL",
    "PLAN_FIELDS",
    "STAFF",
    "CatalogPermission",
    "ClinicalPermission",
    "StaffPermission",
]
