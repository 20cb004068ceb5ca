"""Pages of the home program: the patient's (by signed link, no login) and
the therapist's; and the sections it adds to the chart, plan and progress
pages. Rules are in homecare.services."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from appointments.reminders.content import clinic_context, when
from clinic.forms import add_service_errors
from clinic.localtime import local_date
from clinic.ratelimit import SIGNED_LINK_LIMIT, rate_limit
from clinic.roles import has_role, role_required
from homecare import selectors, services, tokens
from homecare.access import PROGRAM, is_therapist
from homecare.forms import HomeSessionForm, IntakeForm, IntakeReviewForm, ProgramForm
from homecare.models import HomeProgram, IntakeResponse
from treatments.models import Modality, TreatmentPlan

LINKS = "homecare/link"
SESSIONS_SHOWN = 30
program_staff = role_required(*PROGRAM)


def _closed(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, tokens.LinkClosed):
        return render(request, f"{LINKS}/closed.html", {"clinic": clinic_context()}, status=403)
    return render(request, "appointments/link/invalid.html", {"clinic": clinic_context()}, status=400)


def _patient_link(read_link):
    """The patient's pages: no login, never cached, rate-limited per client;
    the view gets what its token opens (`read_link`), or the visitor a page
    saying the link does not work or is closed."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, token: str) -> HttpResponse:
            try:
                opened = read_link(token)
            except (tokens.LinkInvalid, tokens.LinkClosed) as exc:
                return _closed(request, exc)
            return view(request, token, opened)

        limited = rate_limit("signed-link", limit=SIGNED_LINK_LIMIT)(
            require_http_methods(["GET", "POST"])(wrapper)
        )
        return login_not_required(never_cache(limited))

    return decorator


@_patient_link(tokens.read_intake)
def intake(request: HttpRequest, token: str, appointment) -> HttpResponse:
    sent = IntakeResponse.objects.filter(
        appointment=appointment, status=IntakeResponse.Status.PROPOSED
    ).first()
    form = IntakeForm(request.POST or None, initial=_intake_initial(sent))
    done = request.GET.get("done") == "1"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.intake_submit(
                appointment=appointment,
                answers=form.answers(),
                drug_allergy_details=data["drug_allergy_details"],
                hdss=data["hdss"],
                comments=data["comments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(reverse("homelinks:intake", args=[token]) + "?done=1")
    context = {"clinic": clinic_context(), "form": form, "when": when(appointment.start), "done": done}
    return render(request, f"{LINKS}/intake.html", context, status=400 if form.errors else 200)


def _intake_initial(sent: IntakeResponse | None) -> dict:
    """What the patient sent, so a second visit to the page can change it."""
    if sent is None:
        return {}
    answers = {name: "yes" if value else "no" for name, value in sent.answers.items()}
    return {
        **answers,
        "drug_allergy_details": sent.drug_allergy_details,
        "hdss": sent.hdss,
        "comments": sent.comments,
    }


@_patient_link(tokens.read_home)
def home(request: HttpRequest, token: str, program: HomeProgram) -> HttpResponse:
    today = local_date(timezone.now())
    initial = {
        "date": today,
        "site": program.site,
        "minutes": program.minutes,
        "current_ma": program.current_ma,
    }
    form = HomeSessionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.home_session_log(program=program, values=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if session.skin_reaction in session.NEEDS_REVIEW:
                messages.warning(request, services.paused_message())
            else:
                messages.success(request, f"Saved: your session of {session.date:%A %d %B}. Thank you!")
            return redirect("homelinks:home", token=token)
    context = {
        "clinic": clinic_context(),
        "program": program,
        "form": form,
        "paused": program.status != HomeProgram.Status.ACTIVE,
        "paused_message": services.paused_message(),
        "sessions": program.sessions.all()[:SESSIONS_SHOWN],
        "weeks": selectors.adherence(program, today=today, weeks=4),
        "next_day": selectors.next_suggested(program, today=today),
        "today": today,
    }
    return render(request, f"{LINKS}/home.html", context, status=400 if form.errors else 200)


# -- the therapist's pages -------------------------------------------------------------
def _program_page(request, plan: TreatmentPlan, form: ProgramForm, *, status: int = 200) -> HttpResponse:
    program = HomeProgram.objects.filter(plan=plan).first()
    today = local_date(timezone.now())
    context = {
        "plan": plan,
        "program": program,
        "form": form,
        "can_treat": is_therapist(request.user),
        "link": tokens.home_url(program) if program is not None and program.link_active else "",
        "weeks": selectors.adherence(program, today=today) if program else [],
        "sessions": program.sessions.select_related("reviewed_by")[:SESSIONS_SHOWN] if program else [],
    }
    return render(request, "homecare/program.html", context, status=status)


def _program_form(plan: TreatmentPlan, program: HomeProgram | None, data=None) -> ProgramForm:
    source = program or plan
    initial = {
        "site": getattr(source, "site", None) or plan.tray,
        "current_ma": source.current_ma,
        "minutes": getattr(program, "minutes", None) or plan.treatment_minutes,
        "sessions_per_week": getattr(program, "sessions_per_week", None) or plan.frequency_per_week,
        "polarity_alternation": source.polarity_alternation,
        "device": getattr(program, "device", ""),
    }
    return ProgramForm(data, initial=initial)


@program_staff
@require_http_methods(["GET", "POST"])
def program(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan.objects.select_related("patient"), pk=pk)
    if plan.modality != Modality.TAP_WATER:
        messages.error(request, "Only a tap-water plan can be treated at home.")
        return redirect("treatments:detail", pk=plan.pk)
    existing = HomeProgram.objects.filter(plan=plan).first()
    form = _program_form(plan, existing, request.POST or None)
    if request.method == "POST" and form.is_valid():
        live = existing is not None and existing.status != HomeProgram.Status.ENDED
        try:
            if live:
                services.program_update(program=existing, user=request.user, values=form.cleaned_data)
            else:
                services.program_start(plan=plan, user=request.user, values=form.cleaned_data)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                "Home program saved." if live else "Home program started: the patient is emailed their link.",
            )
            return redirect("homecare:program", pk=plan.pk)
    return _program_page(request, plan, form, status=400 if form.errors else 200)


def _program_action(action, done: str):
    @program_staff
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        found = get_object_or_404(HomeProgram.objects.select_related("plan"), plan_id=pk)
        try:
            action(program=found, user=request.user, **_extra(request, action))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done)
        return redirect("homecare:program", pk=pk)

    return view


def _extra(request: HttpRequest, action) -> dict:
    if action is services.program_review:
        return {"override_reason": request.POST.get("override_reason", "")}
    if action is services.program_end:
        return {"reason": request.POST.get("reason", "")}
    return {}


rotate_link = _program_action(
    services.program_rotate_link, "A new link was emailed; the old one no longer works."
)
revoke_link = _program_action(
    services.program_revoke_link, "The link no longer works. Send a new one to reopen it."
)
end = _program_action(services.program_end, "The home program has ended.")
review = _program_action(services.program_review, "Reviewed: the patient can log home sessions again.")


@program_staff
@require_http_methods(["GET", "POST"])
def intake_review(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(IntakeResponse.objects.select_related("patient", "appointment"), pk=pk)
    form = IntakeReviewForm(request.POST or None, intake=found)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "dismiss":
                services.intake_dismiss(intake=found, user=request.user)
                messages.success(request, "The patient's answers were dismissed.")
                return redirect("patients:detail", pk=found.patient_id)
            if form.is_valid():
                data = form.cleaned_data
                reviewed = services.intake_accept(
                    intake=found, user=request.user, answers=data, notes=data.get("notes", "")
                )
                messages.success(request, f"Screening recorded ({reviewed.get_status_display().lower()}).")
                return redirect("patients:detail", pk=found.patient_id)
        except ValidationError as exc:
            add_service_errors(form, exc)
    context = {"intake": found, "form": form, "can_treat": is_therapist(request.user)}
    return render(request, "homecare/intake_review.html", context, status=400 if form.errors else 200)


# -- sections of lower apps' pages -------------------------------------------------------
def chart_section(request: HttpRequest, patient) -> dict | None:
    """The chart: therapists see pending intakes and the program; the front
    desk only whether a home program is active or needs review."""
    state = selectors.front_desk_state(patient.pk)
    clinical = has_role(request.user, *PROGRAM)
    intakes = list(selectors.intakes_to_review().filter(patient=patient)) if clinical else []
    if not state and not intakes:
        return None
    return {"state": state, "intakes": intakes, "clinical": clinical}


def plan_section(request: HttpRequest, plan: TreatmentPlan) -> dict | None:
    if plan.modality != Modality.TAP_WATER:
        return None
    program = HomeProgram.objects.filter(plan=plan).first()
    if not has_role(request.user, *PROGRAM):
        live = program is not None and program.status != HomeProgram.Status.ENDED
        state = selectors.state_of({program.status}) if live else ""
        return {"state": state, "clinical": False} if state else None
    return {"plan": plan, "program": program, "clinical": True, "can_treat": is_therapist(request.user)}


def progress_section(request: HttpRequest, plan: TreatmentPlan) -> dict | None:
    if plan.modality != Modality.TAP_WATER or not has_role(request.user, *PROGRAM):
        return None
    program = HomeProgram.objects.filter(plan=plan).first()
    points = selectors.hdss_points(plan)
    today = local_date(timezone.now())
    return {
        "program": program,
        "weeks": selectors.adherence(program, today=today) if program else [],
        "points": points,
        "chart": {
            "labels": [p["date"].strftime("%d %b") for p in points],
            "clinic": [p["hdss"] if p["source"] == "clinic" else None for p in points],
            "home": [p["hdss"] if p["source"] == "home" else None for p in points],
            "intake": [p["hdss"] if p["source"] == "intake" else None for p in points],
        },
    }
