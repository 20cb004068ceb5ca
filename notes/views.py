"""Session-note pages for therapists (the front desk sees only that a note
exists and whether it is signed, on the day sheet: here it gets 403)."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.timezone import localdate
from django.views.decorators.http import require_GET, require_POST

from appointments.holds import hold_problem
from appointments.models import Appointment
from clinic.audit import log_access
from clinic.auth import reauthenticate
from clinic.exceptions import Locked
from clinic.forms import add_service_errors
from clinic.localtime import clinic_tz, local_day_bounds
from clinic.roles import role_required, therapist_required
from notes import progress_page, selectors, services
from notes.access import BILLING, NOTE
from notes.billing import authorization_numbers
from notes.forms import AddendumForm, NoteForm, SignForm
from notes.models import AdverseEvent, SessionNote
from patients.screening import screening_gate
from treatments.models import Modality, TreatmentPlan

clinical = role_required(*NOTE)
admin_only = role_required(*BILLING)


def _appointment(pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related("plan__medication", "patient", "therapist", "room", "device"),
        pk=pk,
        plan__isnull=False,  # an evaluation has no session note
    )


def _render(request, appointment, note, *, form=None, sign_form=None, addendum_form=None, status=200):
    plan = appointment.plan
    log_access(request, [note])
    if form is None:
        initial = services.initial_values(plan) if note is None else None
        form = NoteForm(instance=note, initial=initial, modality=plan.modality, appointment=appointment)
    context = {
        "appointment": appointment,
        "plan": plan,
        "note": note,
        "form": form,
        "sign_form": sign_form or SignForm(),
        "addendum_form": addendum_form or AddendumForm(),
        "addenda": note.addenda.select_related("author") if note else [],
        "adverse_events": note.adverse_events.all() if note else [],
        "screening_reasons": screening_gate(
            patient=appointment.patient, modality=plan.modality, on_date=services.session_date(appointment)
        ),
        "precautions": services.session_precautions(appointment),
        "on_hold": getattr(hold_problem(appointment=appointment, plan=plan), "message", ""),
    }
    return render(request, "notes/note_form.html", context, status=status)


def _submit(request, pk: int, form, form_key: str, action, done: str) -> HttpResponse:
    """One note form posted: call the service, redirect with a message, or
    re-render the page with the errors and the input kept (409 when locked)."""
    appointment = _appointment(pk)
    current = SessionNote.objects.filter(appointment=appointment).first()
    if form.is_valid():
        try:
            action(appointment, form)
        except Locked as exc:
            messages.error(request, exc.message)
            return _render(request, appointment, current, status=409)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("notes:note", pk=pk)
    return _render(request, appointment, current, status=400, **{form_key: form})


@clinical
def note(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        appointment = _appointment(pk)
        return _render(request, appointment, SessionNote.objects.filter(appointment=appointment).first())
    visit = _appointment(pk)
    modality = visit.plan.modality

    def save(appointment, form):
        services.note_save(
            appointment=appointment,
            values=form.service_values(),
            user=request.user,
            confirm_out_of_range=form.cleaned_data["confirm_out_of_range"],
            adverse=form.adverse(),
        )

    current = SessionNote.objects.filter(appointment_id=pk).first()
    if current is not None and current.is_signed:
        messages.error(request, "This note is signed and locked. Add an addendum to correct it.")
        return _render(request, _appointment(pk), current, status=409)
    form = NoteForm(request.POST, instance=current, modality=modality, appointment=visit)
    return _submit(request, pk, form, "form", save, "Note saved. Sign it when the session is complete.")


@require_POST
@therapist_required
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    def sign_note(appointment, form):
        # Counts a wrong password toward the account lockout, like a failed login.
        reauthenticate(request=request, user=request.user, password=form.cleaned_data["password"])
        services.note_sign(appointment=appointment, user=request.user, **form.cleaned_data)

    return _submit(
        request, pk, SignForm(request.POST), "sign_form", sign_note, "Note signed. The visit is completed."
    )


@require_POST
@therapist_required
def addendum(request: HttpRequest, pk: int) -> HttpResponse:
    def add(appointment, form):
        services.addendum_add(appointment=appointment, user=request.user, text=form.cleaned_data["text"])

    return _submit(request, pk, AddendumForm(request.POST), "addendum_form", add, "Addendum added.")


@require_GET
@clinical
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """A plan's sessions with their parameters, cumulative dose, pain trend
    and adverse events; prints as a summary for the referring physician."""
    plan = get_object_or_404(TreatmentPlan.objects.select_related("patient", "medication"), pk=pk)
    rows = selectors.progress_rows(plan)
    sessions = [row["note"] for row in rows]
    log_access(request, sessions)
    chart = {
        "labels": [date_format(localdate(s.appointment.start), "MONTH_DAY_FORMAT") for s in sessions],
        "before": [s.pain_before for s in sessions],
        "after": [s.pain_after for s in sessions],
        "hdss": [s.hdss for s in sessions] if plan.modality == Modality.TAP_WATER else [],
    }
    therapists = list(dict.fromkeys(row["note"].appointment.therapist for row in rows))
    return render(
        request,
        "notes/plan_progress.html",
        {
            "plan": plan,
            "rows": rows,
            "chart": chart,
            "dose_unit": selectors.DOSE_UNITS[plan.modality],
            "therapists": therapists,
            "drafts": SessionNote.objects.filter(
                appointment__plan=plan, status=SessionNote.Status.DRAFT
            ).count(),
            "maintenance_suggested": selectors.maintenance_suggested(
                plan, [(r["note"].appointment.start, r["note"].hdss) for r in rows if r["note"].hdss]
            ),
            "adverse_events": AdverseEvent.objects.filter(plan=plan).select_related("reported_by"),
            "appointments": plan.appointments.exclude(status=Appointment.Status.CANCELLED).count(),
            "sections": progress_page.sections_for(request, plan),
        },
    )


def _billing_rows(month_from: dt.date | None):
    notes_qs = SessionNote.objects.filter(status=SessionNote.Status.SIGNED)
    if month_from:
        notes_qs = notes_qs.filter(appointment__start__date__gte=month_from)
    return (
        notes_qs.annotate(month=TruncMonth("appointment__start"))
        .values(
            "month",
            "appointment__plan_id",
            "appointment__patient__mrn",
            "appointment__patient__last_name",
            "appointment__patient__first_name",
            "cpt_code",
        )
        .annotate(sessions=Count("id"), units=Sum("billing_units"), minutes=Sum("timed_minutes"))
        .order_by("-month", "appointment__patient__last_name", "appointment__plan_id", "cpt_code")
    )


CSV_COLUMNS = [
    "date_of_service",
    "mrn",
    "patient",
    "payer",
    "member_id",
    "authorization_number",
    "plan",
    "icd10",
    "cpt",
    "units",
    "timed_minutes",
    "sessions",
    "rendering_therapist",
]


def _month(value: str | None) -> tuple[dt.date, dt.date] | None:
    """`YYYY-MM` → the month's first day and the next month's first day."""
    year, _, month = (value or "").partition("-")
    try:
        first = dt.date(int(year), int(month), 1)
    except ValueError:
        return None
    if first.year < 2000 or first.year > 9000:
        return None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following


def _service_rows(month: tuple[dt.date, dt.date] | None):
    """One row per date of service (clinic date), patient, plan, code and
    rendering therapist, from signed notes (R18: units already capped)."""
    notes_qs = SessionNote.objects.filter(status=SessionNote.Status.SIGNED)
    if month:
        start, _ = local_day_bounds(month[0])
        end, _ = local_day_bounds(month[1])
        notes_qs = notes_qs.filter(appointment__start__gte=start, appointment__start__lt=end)
    return (
        notes_qs.annotate(service_date=TruncDate("appointment__start", tzinfo=clinic_tz()))
        .values(
            "service_date",
            "appointment__plan_id",
            "appointment__plan__icd10_code",
            "appointment__patient__mrn",
            "appointment__patient__last_name",
            "appointment__patient__first_name",
            "appointment__patient__member_id",
            "appointment__patient__payer__name",
            "appointment__therapist__display_name",
            "appointment__therapist__credentials",
            "cpt_code",
        )
        .annotate(sessions=Count("id"), units=Sum("billing_units"), minutes=Sum("timed_minutes"))
        .order_by("service_date", "appointment__patient__last_name", "appointment__plan_id", "cpt_code")
    )


def _billing_csv(month: tuple[dt.date, dt.date] | None) -> HttpResponse:
    rows = list(_service_rows(month))
    numbers = authorization_numbers({(r["appointment__plan_id"], r["service_date"]) for r in rows})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"phoresis-billing-{month[0]:%Y-%m}.csv" if month else "phoresis-billing.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        therapist = row["appointment__therapist__display_name"] or ""
        if row["appointment__therapist__credentials"]:
            therapist = f"{therapist}, {row['appointment__therapist__credentials']}"
        writer.writerow(
            [
                row["service_date"].isoformat(),
                row["appointment__patient__mrn"],
                f"{row['appointment__patient__last_name']}, {row['appointment__patient__first_name']}",
                row["appointment__patient__payer__name"] or "",
                row["appointment__patient__member_id"] or "",
                numbers.get((row["appointment__plan_id"], row["service_date"]), ""),
                row["appointment__plan_id"],
                row["appointment__plan__icd10_code"],
                row["cpt_code"],
                row["units"] or 0,
                row["minutes"] or 0,
                row["sessions"],
                therapist,
            ]
        )
    return response


@require_GET
@admin_only
def billing(request: HttpRequest) -> HttpResponse:
    """Billing summary per plan and month (signed notes), with a CSV export."""
    if request.GET.get("format") == "csv":
        # Monthly: `?format=csv&month=YYYY-MM`; without a month, every signed note.
        return _billing_csv(_month(request.GET.get("month")))
    rows = list(_billing_rows(None))
    totals = SessionNote.objects.aggregate(
        units=Sum("billing_units", filter=Q(status=SessionNote.Status.SIGNED)),
        sessions=Count("id", filter=Q(status=SessionNote.Status.SIGNED)),
        unsigned=Count("id", filter=Q(status=SessionNote.Status.DRAFT)),
    )
    return render(request, "notes/billing.html", {"rows": rows, "totals": totals})
