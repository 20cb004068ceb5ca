"""The patient's signed-link pages (/r/…), the only appointment pages without
a login. GET only shows; confirming and cancelling need a POST from the
page, so a mail scanner that follows links cannot cancel a visit."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from appointments import services
from appointments.models import Appointment
from appointments.reminders.content import clinic_context, when
from appointments.reminders.tokens import LinkExpired, LinkInvalid, make_token, read_claim_token, read_token
from appointments.selectors import with_session_number
from clinic.models import ClinicRules
from clinic.ratelimit import SIGNED_LINK_LIMIT, rate_limit
from treatments.models import Modality

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
            appointment = services.appointment_cancel(appointment=appointment, reason=CANCEL_REASON)
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
