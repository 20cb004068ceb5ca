"""The patient's signed-link pages (/r/…), the only appointment pages without
a login. GET only shows; confirming and cancelling need a POST from the
page, so a mail scanner that follows links cannot cancel a visit."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from appointments import selectors, services
from appointments.forms import PatientRescheduleForm
from appointments.models import Appointment, Therapist
from appointments.reminders.content import clinic_context, policy_sentence, when
from appointments.reminders.tokens import (
    LinkExpired,
    LinkInvalid,
    make_token,
    read_claim_token,
    read_optout_token,
    read_token,
)
from appointments.selectors import with_session_number
from clinic.localtime import local_date
from clinic.models import ClinicRules
from clinic.ratelimit import SIGNED_LINK_LIMIT, rate_limit
from patients.models import Patient
from patients.services import patient_set_reminder_opt_in
from treatments.models import Modality, TreatmentPlan

CANCEL_REASON = "Cancelled by patient via email link"
TEMPLATES = "appointments/link"

# What the patient can do to prepare, by modality. Shown only behind the link.
PREPARATION = {
    Modality.IONTOPHORESIS: [
        "Wash the treatment area with soap and water; do not put lotion or cream on it that day.",
        "Wear clothing that leaves the area easy to reach.",
        "Tell the therapist about any cuts, rash or irritation at the area.",
    ],
    Modality.PHONOPHORESIS: [
        "Wear clothing that leaves the area easy to reach.",
        "Do not put lotion or cream on the area that day.",
        "Tell the therapist if the area feels numb or is irritated.",
    ],
    Modality.TAP_WATER: [
        "Put a thin layer of petroleum jelly (Vaseline) on small cuts and at the water line "
        "before the session: it prevents stinging and irritation.",
        "Remove rings, watches and bracelets from the hands or feet being treated.",
        "Do not shave the area the day before.",
    ],
}


def _problem(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, LinkExpired):
        return render(request, f"{TEMPLATES}/expired.html", {"clinic": clinic_context()}, status=410)
    return render(request, f"{TEMPLATES}/invalid.html", {"clinic": clinic_context()}, status=400)


def _context(appointment: Appointment, token: str, **extra) -> dict:
    numbered = with_session_number(Appointment.objects.filter(pk=appointment.pk)).get()
    rules = ClinicRules.current()
    notice_left = appointment.start - timezone.now()
    return {
        "appointment": appointment,
        "token": token,
        "clinic": clinic_context(),
        "when": when(appointment.start),
        "minutes": int((appointment.end - appointment.start).total_seconds() // 60),
        "session_number": numbered.session_number,
        "sessions_total": appointment.plan.session_limit if appointment.plan else None,
        "preparation": PREPARATION.get(appointment.plan.modality, []) if appointment.plan else [],
        "is_evaluation": appointment.is_evaluation,
        "is_cancelled": appointment.status == Appointment.Status.CANCELLED,
        "is_confirmed": appointment.status == Appointment.Status.CONFIRMED,
        "can_change": appointment.status in Appointment.UPCOMING_STATUSES,
        "late_cancel_hours": rules.late_cancel_hours,
        "would_be_late": notice_left.total_seconds() < rules.late_cancel_hours * 3600,
        "view_token": make_token(appointment, "view"),
        "confirm_token": make_token(appointment, "confirm"),
        "cancel_token": make_token(appointment, "cancel"),
        "reschedule_token": make_token(appointment, "reschedule"),
        "policy": policy_sentence(
            start=appointment.start, now=timezone.now(), late_cancel_hours=rules.late_cancel_hours
        ),
        **extra,
    }


@login_not_required
@never_cache
@rate_limit("signed-link", limit=SIGNED_LINK_LIMIT)
@require_GET
def detail(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appointment = read_token(token, "view")
    except (LinkInvalid, LinkExpired) as exc:
        return _problem(request, exc)
    return render(request, f"{TEMPLATES}/detail.html", _context(appointment, token))


@login_not_required
@never_cache
@rate_limit("signed-link", limit=SIGNED_LINK_LIMIT)
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appointment = read_token(token, "confirm")
    except (LinkInvalid, LinkExpired) as exc:
        return _problem(request, exc)
    if request.method == "POST":
        try:
            appointment = services.appointment_confirm(appointment=appointment)
        except ValidationError as exc:
            context = _context(appointment, token, error=" ".join(exc.messages))
            return render(request, f"{TEMPLATES}/confirm.html", context, status=409)
        return redirect(reverse("links:confirm", args=[token]) + "?done=1")
    context = _context(appointment, token, done=request.GET.get("done") == "1")
    return render(request, f"{TEMPLATES}/confirm.html", context)


@login_not_required
@never_cache
@rate_limit("signed-link", limit=SIGNED_LINK_LIMIT)
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appointment = read_token(token, "cancel")
    except (LinkInvalid, LinkExpired) as exc:
        return _problem(request, exc)
    if request.method == "POST":
        if appointment.status == Appointment.Status.CANCELLED:
            # Idempotent: a second click (or a double submit) changes nothing.
            return render(request, f"{TEMPLATES}/cancel.html", _context(appointment, token, already=True))
        try:
            # The late-cancellation rule (R12) is the service's.
            appointment = services.appointment_cancel(
                appointment=appointment, reason=CANCEL_REASON, by_patient=True
            )
        except ValidationError as exc:
            context = _context(appointment, token, error=" ".join(exc.messages))
            return render(request, f"{TEMPLATES}/cancel.html", context, status=409)
        return redirect(reverse("links:cancel", args=[token]) + "?done=1")
    context = _context(appointment, token, done=request.GET.get("done") == "1")
    return render(request, f"{TEMPLATES}/cancel.html", context)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    """A waitlist offer: GET shows the time, POST (the page's button, never
    a mail scanner's GET) books it if nobody was faster."""
    try:
        offer = read_claim_token(token)
    except LinkInvalid as exc:
        return _problem(request, exc)
    context = {"clinic": clinic_context(), "when": when(offer.slot_start), "token": token}
    if request.method == "POST":
        try:
            appointment = services.waitlist_claim(offer=offer)
        except services.SlotTaken as exc:
            return render(
                request, f"{TEMPLATES}/claim_taken.html", {**context, "reason": exc.messages[0]}, status=409
            )
        return render(request, f"{TEMPLATES}/claim_booked.html", {**context, "when": when(appointment.start)})
    if not offer.waitlist_entry.is_active or offer.slot_start <= timezone.now():
        return render(
            request,
            f"{TEMPLATES}/claim_taken.html",
            {**context, "reason": "This offer is closed."},
            status=410,
        )
    return render(request, f"{TEMPLATES}/claim.html", context)


# -- the patient moves the visit --------------------------------------------------
RESCHEDULE_DAYS = 21
RESCHEDULE_SLOTS = 120
RESCHEDULE_STEP_MINUTES = 30  # on the half hour: a list a patient can read


def reschedule_choices(appointment: Appointment, *, now: dt.datetime) -> list[tuple[str, str, dt.date]]:
    """Free times that pass every rule for the visit's plan, outside the
    late-cancellation window, one per start (the visit's own therapist
    first): (value, label, local day)."""
    rules = ClinicRules.current()
    earliest = now + dt.timedelta(hours=rules.late_cancel_hours)
    slots = selectors.slots_free(
        plan=appointment.plan,
        date_from=local_date(earliest),
        date_to=local_date(earliest) + dt.timedelta(days=RESCHEDULE_DAYS),
        now=earliest,
        step_minutes=RESCHEDULE_STEP_MINUTES,
        limit=RESCHEDULE_SLOTS * 3,
        exclude_appointment_id=appointment.pk,
    )
    by_start: dict[dt.datetime, selectors.Slot] = {}
    for slot in slots:
        if slot.start == appointment.start:
            continue
        kept = by_start.get(slot.start)
        if kept is None or (slot.therapist.pk == appointment.therapist_id != kept.therapist.pk):
            by_start[slot.start] = slot
    chosen = sorted(by_start.values(), key=lambda s: s.start)[:RESCHEDULE_SLOTS]
    return [(f"{s.start.isoformat()}|{s.therapist.pk}", when(s.start), local_date(s.start)) for s in chosen]


def _parse_choice(value: str) -> tuple[dt.datetime, int] | None:
    start, _, therapist = (value or "").partition("|")
    try:
        moment = dt.datetime.fromisoformat(start)
        return (moment, int(therapist)) if moment.tzinfo else None
    except ValueError:
        return None


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def reschedule(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appointment = read_token(token, "reschedule")
    except (LinkInvalid, LinkExpired) as exc:
        return _problem(request, exc)
    now = timezone.now()
    rules = ClinicRules.current()
    movable = (
        appointment.status in Appointment.UPCOMING_STATUSES
        and appointment.plan is not None
        and appointment.plan.status == TreatmentPlan.Status.ACTIVE
        and appointment.start - now >= dt.timedelta(hours=rules.late_cancel_hours)
    )
    choices = reschedule_choices(appointment, now=now) if movable else []
    data = request.POST if request.method == "POST" else None
    form = PatientRescheduleForm(data, choices=[(v, label) for v, label, _ in choices])
    status = 200
    if request.method == "POST" and movable and form.is_valid():
        start, therapist_id = _parse_choice(form.cleaned_data["slot"])
        therapist = Therapist.objects.filter(pk=therapist_id, is_active=True).first()
        try:
            services.appointment_reschedule_by_patient(
                appointment=appointment, start=start, therapist=therapist
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
            status = 409
        else:
            return redirect(reverse("links:reschedule", args=[token]) + "?done=1")
    elif request.method == "POST":
        status = 400 if movable else 409
    days: dict[dt.date, list[tuple[str, str]]] = {}
    for value, label, day in choices:
        days.setdefault(day, []).append((value, label.split(", ", 1)[-1]))
    context = _context(
        appointment,
        token,
        form=form,
        days=sorted(days.items()),
        movable=movable,
        done=request.GET.get("done") == "1",
    )
    return render(request, f"{TEMPLATES}/reschedule.html", context, status=status)


# -- the reminder opt-out (List-Unsubscribe, RFC 8058) ------------------------------
@login_not_required
@never_cache
@csrf_exempt  # mail providers POST the one-click opt-out without our page; the signed token is the authority
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        patient_id = read_optout_token(token)
    except LinkInvalid as exc:
        return _problem(request, exc)
    if not Patient.objects.filter(pk=patient_id).exists():
        return _problem(request, LinkInvalid())
    if request.method == "POST":
        # The one-click POST (body "List-Unsubscribe=One-Click") and the
        # page's own button both opt out; the page's "resume" opts back in.
        opt_in = request.POST.get("action") == "resume"
        patient_set_reminder_opt_in(patient_id=patient_id, opt_in=opt_in)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Email reminders are off.", content_type="text/plain")
        return redirect(reverse("links:unsubscribe", args=[token]) + ("?resumed=1" if opt_in else "?done=1"))
    opted_in = Patient.objects.filter(pk=patient_id).values_list("reminder_opt_in", flat=True).get()
    context = {
        "clinic": clinic_context(),
        "token": token,
        "opted_in": opted_in,
        "done": request.GET.get("done") == "1",
        "resumed": request.GET.get("resumed") == "1",
    }
    return render(request, f"{TEMPLATES}/unsubscribe.html", context)
