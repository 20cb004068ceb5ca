"""Scheduling pages for the front desk and therapists: HTTP only; every
change goes through appointments.services."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from appointments import selectors, services
from appointments.access import BOOKING, CALENDAR_FEED, EVALUATION_PLAN
from appointments.availability import Schedule
from appointments.forms import BookForm, CancelForm, RescheduleForm, SeriesForm, SlotSearchForm, WaitlistForm
from appointments.holds import HOLD_FLAG
from appointments.models import STATUS_BADGE, Appointment, Room, Therapist, WaitlistEntry
from clinic.access import CLINICAL
from clinic.forms import add_service_errors
from clinic.localtime import clinic_tz, date_in_range, local_date, local_day_bounds
from clinic.models import ClinicRules
from clinic.roles import has_role, role_required
from clinic.together import read_together
from patients.models import Patient
from patients.selectors import patients_search
from treatments.models import TreatmentPlan
from treatments.selectors import OPEN_PLAN_STATUSES, authorization_alerts

staff = role_required(*BOOKING)


def _int(value: str | None) -> int | None:
    """An id from the query string; anything no database id can be (not
    digits, or beyond 64 bits) is no filter rather than a server error."""
    if not value or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _today() -> dt.date:
    return local_date(timezone.now())


def _when(moment: dt.datetime) -> str:
    """A visit's time in the clinic's format, as the pages show it."""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _date(value: str | None) -> dt.date | None:
    try:
        day = parse_date(value or "")
    except ValueError:  # well formed but impossible, e.g. 2026-02-30
        return None
    return day if day is not None and date_in_range(day) else None


# -- calendar ----------------------------------------------------------------
@require_GET
@staff
def calendar(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "appointments/calendar.html",
        {
            "therapists": Therapist.objects.filter(is_active=True),
            "rooms": Room.objects.filter(is_active=True),
            "therapist": _int(request.GET.get("therapist")),
            "room": _int(request.GET.get("room")),
            "initial_date": _date(request.GET.get("date")),
            "view": request.GET.get("view") if request.GET.get("view") in ("day", "week") else "",
        },
    )


def _parse_bound(value: str | None) -> dt.datetime | None:
    """An ISO date or datetime; None (→ 400) when malformed, impossible
    (2030-02-30, an offset of +25:00) or outside the dates the schedule holds."""
    if not value:
        return None
    try:
        moment = parse_datetime(value.replace(" ", "+"))
        if moment is None:
            day = _date(value[:10])
            return local_day_bounds(day)[0] if day else None
    except ValueError:
        return None
    if not date_in_range(moment):
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=clinic_tz())


# One colour per therapist, each dark enough for white text (contrast ≥ 6:1,
# WCAG AA asks 4.5:1); the status shows as an icon and a border style, so
# colour never carries it alone.
THERAPIST_COLOURS = (
    "#1f4e79",
    "#7b2d26",
    "#2e6b30",
    "#5b3f8c",
    "#8a4b00",
    "#00636b",
    "#8c1d5a",
    "#3d4a5c",
    "#0b5cad",
    "#6b5a00",
)
STATUS_ICONS = {
    Appointment.Status.SCHEDULED: "○",
    Appointment.Status.CONFIRMED: "✓",
    Appointment.Status.CHECKED_IN: "▶",
    Appointment.Status.COMPLETED: "■",
    Appointment.Status.NO_SHOW: "✕",
    Appointment.Status.CANCELLED: "—",
}


def therapist_colour(therapist_id: int) -> str:
    return THERAPIST_COLOURS[therapist_id % len(THERAPIST_COLOURS)]


def _pk_url(url_name: str):
    """`pk → URL` for a route with one id: reversed once, then filled per row
    (a day sheet or a feed has hundreds of rows)."""
    any_pk = 987654321
    head, tail = reverse(url_name, args=[any_pk]).rsplit(str(any_pk), 1)
    return lambda pk: f"{head}{pk}{tail}"


class _EventMaker:
    """Builds the feed's events; what is the same for every row (the zone,
    the detail URL's pattern, the labels) is worked out once per request,
    not per event."""

    def __init__(self, movable) -> None:
        self.movable = movable
        self.zone = timezone.get_current_timezone()
        self.detail_url = _pk_url("appointments:detail")
        self.status_labels = selectors.STATUS_LABELS
        self.modality_labels = selectors.MODALITY_LABELS

    def __call__(self, a: Appointment) -> dict:
        evaluation = a.is_evaluation
        plan = a.plan
        what = "Evaluation" if evaluation else self.modality_labels.get(plan.modality, plan.modality)
        session = "evaluation" if evaluation else f"{a.session_number} of {plan.session_limit}"
        colour = therapist_colour(a.therapist_id)
        icon = STATUS_ICONS.get(a.status, "")
        on_hold = held(a)
        warnings = getattr(a, "warnings", None)
        return {
            "id": a.pk,
            "title": f"{icon} {a.patient.last_name}, {a.patient.first_name[:1]}. · {what}"
            + (f" · {HOLD_FLAG}" if on_hold else "")
            + (" ⚠" if warnings else ""),
            "start": a.start.astimezone(self.zone).isoformat(),
            "end": a.end.astimezone(self.zone).isoformat(),
            "url": self.detail_url(a.pk),
            "resourceId": str(a.therapist_id),
            "backgroundColor": colour,
            "borderColor": colour,
            "textColor": "#ffffff",
            "classNames": [f"ev-status-{a.status}", *(["ev-evaluation"] if evaluation else [])],
            "editable": a.status in self.movable,
            "extendedProps": {
                "status": a.status,
                "statusLabel": self.status_labels.get(a.status, a.status),
                "kind": a.kind,
                "therapist": a.therapist_name,
                "therapistId": a.therapist_id,
                "room": a.room_name,
                "session": session,
                "warnings": [w.text for w in warnings or []],
                "on_hold": on_hold,  # R16: the front desk asks the therapist
            },
        }


def _background(start: dt.datetime, end: dt.datetime, therapist: int | None) -> list[dict]:
    """Non-working time per therapist and the clinic's closures, as
    background events (FullCalendar's display "background")."""
    first, last = local_date(start), local_date(end - dt.timedelta(microseconds=1))
    schedule = Schedule(plan=None, date_from=first, date_to=last)
    people = [t for t in schedule.therapists.values() if therapist is None or t.id == therapist]
    out: list[dict] = []
    day = first
    while day <= last:
        closed = schedule.closed_days.get(day)
        for person in people:
            for off_start, off_end in schedule.off_times(person.id, day):
                out.append(
                    {
                        "start": timezone.localtime(off_start).isoformat(),
                        "end": timezone.localtime(off_end).isoformat(),
                        "display": "background",
                        "resourceId": str(person.id),
                        "classNames": ["bg-closed" if closed else "bg-off"],
                        "title": f"Closed: {closed}" if closed else f"{person} not working",
                        "extendedProps": {"therapistId": person.id, "closed": bool(closed)},
                    }
                )
        day += dt.timedelta(days=1)
    return out


@require_GET
@staff
def events(request: HttpRequest) -> JsonResponse:
    """FullCalendar's event feed: ?start=&end=&therapist=&room=; with
    &background=1 also non-working time and closures as background events.
    Each event carries resourceId (the therapist's id)."""
    start, end = _parse_bound(request.GET.get("start")), _parse_bound(request.GET.get("end"))
    if start is None or end is None or end <= start:
        return JsonResponse({"detail": "start and end (ISO 8601) are required, end after start."}, status=400)
    if end - start > dt.timedelta(days=62):
        return JsonResponse({"detail": "Ask for at most two months at a time."}, status=400)
    therapist = _int(request.GET.get("therapist"))
    rows = selectors.appointments_for_calendar(
        start=start, end=end, therapist=therapist, room=_int(request.GET.get("room"))
    )
    event = _EventMaker(Appointment.UPCOMING_STATUSES)
    data = [event(a) for a in selectors.with_warnings(rows)]
    if request.GET.get("background") == "1":
        data += _background(start, end, therapist)
    return JsonResponse(data, safe=False)


@require_GET
@staff
def resources(request: HttpRequest) -> JsonResponse:
    """The calendar's columns: active therapists as [{id, title}] (with their colour)."""
    therapist = _int(request.GET.get("therapist"))
    people = Therapist.objects.filter(is_active=True).order_by("display_name")
    if therapist:
        people = people.filter(pk=therapist)
    return JsonResponse(
        [
            {
                "id": str(t.pk),
                "title": t.display_name,
                "eventColor": therapist_colour(t.pk),
                "colourIndex": t.pk % len(THERAPIST_COLOURS),
            }
            for t in people
        ],
        safe=False,
    )


def held(appointment: Appointment) -> bool:
    """R16's flag: a visit still to come (or in the chair) of a plan on hold."""
    return (
        appointment.plan is not None
        and appointment.plan.status == TreatmentPlan.Status.ON_HOLD
        and appointment.status in Appointment.BOOKED_STATUSES
    )


@require_POST
@staff
def move(request: HttpRequest, pk: int) -> JsonResponse:
    """Drag-to-reschedule from the calendar: the same service as the form."""
    appointment = get_object_or_404(Appointment, pk=pk)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": 'Send JSON: {"start": ISO 8601}.'}, status=400)
    start = _parse_bound(body.get("start"))
    if start is None:
        return JsonResponse({"detail": "A new start time is required."}, status=400)
    try:
        services.appointment_reschedule(appointment=appointment, start=start, user=request.user)
    except ValidationError as exc:
        return JsonResponse(
            {"detail": " ".join(exc.messages)}, status=409 if hasattr(exc, "conflicts") else 400
        )
    return JsonResponse({"detail": "Moved."})


# -- day sheet -----------------------------------------------------------------
def _with_urls(rows: list[Appointment]) -> list[Appointment]:
    """Each row's links, from one reverse() per link instead of one per row
    (a busy clinic's day sheet has hundreds of rows)."""
    # The note page belongs to the notes app, above this one: linked by name only.
    names = {"detail": "appointments:detail", "check_in": "appointments:check_in"}
    names |= {"no_show": "appointments:no_show", "note": "notes:note"}
    routes = {name: _pk_url(url_name) for name, url_name in names.items()}
    for row in rows:
        row.urls = {name: route(row.pk) for name, route in routes.items()}
    return rows


@require_GET
@staff
def day_sheet(request: HttpRequest) -> HttpResponse:
    day = _date(request.GET.get("date")) or _today()
    # The filters' choices and the clinic's rules: one round trip.
    reference = read_together(
        therapists=Therapist.objects.filter(is_active=True),
        rooms=Room.objects.filter(is_active=True),
        rules=ClinicRules.objects.filter(pk=1),
    )
    rules = reference["rules"][0] if reference["rules"] else ClinicRules.current()
    rows = _with_urls(
        selectors.with_warnings(
            selectors.day_sheet_rows(
                day=day, therapist=_int(request.GET.get("therapist")), room=_int(request.GET.get("room"))
            ),
            rules=rules,
        )
    )
    # R22 alerts: one query for the whole sheet (R12 counts come with the warnings).
    alerts = authorization_alerts(
        {a.plan_id for a in rows if a.plan_id and a.plan.status in OPEN_PLAN_STATUSES}, rules=rules
    )
    for a in rows:
        a.authorization_alerts = alerts.get(a.plan_id, [])
    is_today = day == _today()
    # The rows are the page's hot loop: rendered by Jinja2 (clinic/jinja.py).
    table = render_to_string(
        "appointments/day_sheet_rows.html",
        {
            "appointments": rows,
            "is_today": is_today,
            "now": timezone.now(),  # no-show is offered once a visit has started
            "clinical": has_role(request.user, *CLINICAL),
            "badge": STATUS_BADGE,
            "booked": Appointment.BOOKED_STATUSES,
            "upcoming": Appointment.UPCOMING_STATUSES,
            "documentable": (Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED),
        },
        using="jinja2",
    )
    return render(
        request,
        "appointments/day_sheet.html",
        {
            "day": day,
            "is_today": is_today,
            "rows": mark_safe(table),  # noqa: S308  # nosec B308 B703 - Jinja2 autoescaped every value
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "appointments": rows,
            "therapists": reference["therapists"],
            "rooms": reference["rooms"],
            "therapist": _int(request.GET.get("therapist")),
            "room": _int(request.GET.get("room")),
            "counts": {s: sum(1 for a in rows if a.status == s) for s in Appointment.Status.values},
        },
    )


def _back(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    target = request.POST.get("next")
    if target and target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("appointments:detail", pk=appointment.pk)


def _simple_action(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.select_related("patient"), pk=pk)
    try:
        service(appointment=appointment, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{appointment.patient.full_name} {done}.")
    return _back(request, appointment)


@require_POST
@staff
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    return _simple_action(request, pk, services.appointment_check_in, "is checked in")


@require_POST
@staff
def no_show(request: HttpRequest, pk: int) -> HttpResponse:
    return _simple_action(request, pk, services.appointment_no_show, "is marked as a no-show")


# -- one appointment -------------------------------------------------------------
def _detail_context(appointment: Appointment, **extra) -> dict:
    context = {
        "appointment": appointment,
        "changes": appointment.changes.select_related("changed_by", "old_therapist", "old_room"),
        "cancel_form": CancelForm(),
        "reschedule_form": RescheduleForm(
            initial={"start": appointment.start.astimezone(clinic_tz()).replace(tzinfo=None)}
        ),
        "can_change": appointment.status in Appointment.UPCOMING_STATUSES,
        "late_cancel": services.cancel_would_be_late(appointment),
        "late_cancel_hours": ClinicRules.current().late_cancel_hours,
        "attendance": selectors.attendance_for([appointment.patient_id]).get(appointment.patient_id),
    }
    if (
        appointment.plan_id
        and appointment.status == Appointment.Status.CANCELLED
        and appointment.start > timezone.now()
    ):
        context["waitlist_matches"] = selectors.waitlist_matches(
            start=appointment.start,
            end=appointment.end,
            modality=appointment.plan.modality,
            exclude_plan=appointment.plan_id,
            therapist=appointment.therapist_id,
            bookable=services.entry_bookable,
        )
        if appointment.plan.status == TreatmentPlan.Status.ACTIVE:
            context["suggestion"] = selectors.next_free_slot(
                plan=appointment.plan, after=appointment.start, prefer_therapist=appointment.therapist_id
            )
    context.update(extra)
    return context


def _load(pk: int) -> Appointment:
    return get_object_or_404(selectors.appointment_list(), pk=pk)


@require_GET
@staff
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "appointments/appointment_detail.html", _detail_context(_load(pk)))


@require_POST
@staff
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _load(pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_cancel(
                appointment=appointment, reason=form.cleaned_data["reason"], user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The visit is cancelled.")
            return redirect("appointments:detail", pk=pk)
    return render(
        request,
        "appointments/appointment_detail.html",
        _detail_context(appointment, cancel_form=form),
        status=400,
    )


@require_POST
@staff
def reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _load(pk)
    form = RescheduleForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_reschedule(appointment=appointment, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The visit is moved.")
            return redirect("appointments:detail", pk=pk)
    context = _detail_context(appointment, reschedule_form=form)
    return render(request, "appointments/appointment_detail.html", context, status=400)


# -- booking ---------------------------------------------------------------------
def _plan(pk) -> TreatmentPlan:
    return get_object_or_404(TreatmentPlan.objects.select_related("patient", "medication"), pk=pk)


def _slot_search(search: SlotSearchForm, **target) -> services.SlotSearch | None:
    if not (search.is_bound and search.is_valid()):
        return None
    data = search.cleaned_data
    return services.slot_search(
        date_from=data["date_from"],
        date_to=data["date_to"],
        therapist=data.get("therapist"),
        after=data.get("after"),
        before=data.get("before"),
        **target,
    )


def _search_form(request: HttpRequest) -> SlotSearchForm:
    today = _today()
    # The page opens with the search form unbound, over the next two weeks.
    return SlotSearchForm(
        request.GET if "date_from" in request.GET else None,
        initial={"date_from": today, "date_to": today + dt.timedelta(days=14)},
        auto_id="search_%s",  # the booking form on the same page has a therapist too: ids stay unique
    )


@staff
def book(request: HttpRequest) -> HttpResponse:
    """Find a free slot for a plan and book one session."""
    plan = _plan(_int(request.GET.get("plan") or request.POST.get("plan")))
    search = _search_form(request)
    form = BookForm(request.POST or None, initial=_prefill(request))
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_book(plan=plan, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Booked {_when(appointment.start)}.")
            return redirect("appointments:detail", pk=appointment.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "appointments/book.html",
        {
            "plan": plan,
            "search": search,
            "form": form,
            "found": _slot_search(search, plan=plan),
            "action": f"{reverse('appointments:book')}?plan={plan.pk}",
            "hidden_name": "plan",
            "hidden_value": plan.pk,
            "waitlist_url": f"{reverse('appointments:waitlist_add')}?plan={plan.pk}",
            "attendance": selectors.attendance_for([plan.patient_id]).get(plan.patient_id),
            "authorization_alerts": authorization_alerts([plan.pk]).get(plan.pk, []),
        },
        status=status,
    )


def _slot_initial(request: HttpRequest) -> dict:
    initial: dict = {}
    params = request.POST if request.method == "POST" and "start" in request.POST else request.GET
    try:
        start = dt.datetime.fromisoformat(params.get("start", ""))
    except ValueError:
        return initial
    if timezone.is_naive(start):
        start = start.replace(tzinfo=clinic_tz())
    initial["start"] = start.astimezone(clinic_tz())
    for name in ("therapist", "room"):
        if _int(params.get(name)):
            initial[name] = _int(params.get(name))
    return initial


def _prefill(request: HttpRequest) -> dict:
    """?start=ISO&therapist=&room= from the calendar's click on an empty slot."""
    initial = {}
    start = _parse_bound(request.GET.get("start"))
    if start is not None:
        initial["start"] = start.astimezone(clinic_tz()).replace(tzinfo=None)
    for name, model in (("therapist", Therapist), ("room", Room)):
        pk = _int(request.GET.get(name))
        if pk and model.objects.filter(pk=pk, is_active=True).exists():
            initial[name] = pk
    return initial


@staff
def evaluation_book(request: HttpRequest) -> HttpResponse:
    """Find a free time and book an evaluation (no plan) for a patient."""
    patient = get_object_or_404(Patient, pk=_int(request.GET.get("patient") or request.POST.get("patient")))
    search = _search_form(request)
    form = BookForm(request.POST or None, initial=_prefill(request))
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.evaluation_book(patient=patient, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Evaluation booked {_when(appointment.start)}.")
            return redirect("appointments:detail", pk=appointment.pk)
    return render(
        request,
        "appointments/evaluation_book.html",
        {
            "patient": patient,
            "search": search,
            "form": form,
            "found": _slot_search(search, patient=patient),
            "minutes": ClinicRules.current().evaluation_minutes,
            "action": f"{reverse('appointments:evaluation_book')}?patient={patient.pk}",
            "hidden_name": "patient",
            "hidden_value": patient.pk,
        },
        status=400 if request.method == "POST" else 200,
    )


@staff
def series(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """Book all remaining sessions of a plan: preview first, then confirm."""
    plan = _plan(plan_pk)
    form = SeriesForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        start, therapist = form.cleaned_data["start"], form.cleaned_data.get("therapist")
        try:
            if request.POST.get("confirm"):
                booked = services.series_book(plan=plan, start=start, therapist=therapist, user=request.user)
                messages.success(
                    request, f"Booked {len(booked)} sessions, the first on {_when(booked[0].start)}."
                )
                return redirect(
                    f"{reverse('appointments:day')}?date={local_date(booked[0].start).isoformat()}"
                )
            preview = services.series_preview(plan=plan, start=start, therapist=therapist)
        except ValidationError as exc:
            add_service_errors(form, exc)
            conflicts = getattr(exc, "conflicts", None)
            if conflicts:
                preview = services.series_preview(plan=plan, start=start, therapist=therapist)
    status = 400 if form.errors else 200
    return render(
        request, "appointments/series.html", {"plan": plan, "form": form, "preview": preview}, status=status
    )


# -- waitlist --------------------------------------------------------------------
@require_GET
@staff
def waitlist(request: HttpRequest) -> HttpResponse:
    entries = (
        WaitlistEntry.objects.filter(is_active=True).select_related("patient", "plan").order_by("created_at")
    )
    return render(
        request,
        "appointments/waitlist.html",
        {
            "entries": entries,
            "freed": [(a, m) for a, m in selectors.freed_slots(bookable=services.entry_bookable) if m],
        },
    )


@staff
def waitlist_add(request: HttpRequest) -> HttpResponse:
    initial = {"plan": _int(request.GET.get("plan"))}
    form = WaitlistForm(request.POST or None, initial=initial)
    # Active plans not on the list yet, named by their patient.
    form.fields["plan"].queryset = (
        TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ACTIVE)
        .exclude(waitlist_entries__is_active=True)
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name", "id")
    )
    form.fields["plan"].label_from_instance = lambda p: (
        f"{p.patient.last_name}, {p.patient.first_name} (MRN {p.patient.mrn}) · "
        f"{p.get_modality_display()} · {p.body_site}"
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.waitlist_add(**form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Added to the waitlist.")
            return redirect("appointments:waitlist")
    return render(
        request, "appointments/waitlist_form.html", {"form": form}, status=400 if form.errors else 200
    )


@require_POST
@staff
def waitlist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    services.waitlist_remove(entry=get_object_or_404(WaitlistEntry, pk=pk))
    messages.success(request, "Removed from the waitlist.")
    return redirect("appointments:waitlist")


def chart_evaluations(request: HttpRequest, patient: Patient) -> dict:
    """The evaluations section of the patient chart (patients.chart): the
    front desk books the first visit of a new patient; the therapist writes
    the plan from it."""
    visits = (
        Appointment.objects.filter(patient=patient, kind=Appointment.Kind.EVALUATION)
        .select_related("therapist", "room")
        .order_by("-start")[:10]
    )
    today = _today()
    rows = [
        {
            "visit": v,
            "can_write_plan": not v.resulting_plan_id
            and v.status not in (Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW)
            and local_date(v.start) <= today,
        }
        for v in visits
    ]
    return {
        "patient": patient,
        "rows": rows,
        "can_book": has_role(request.user, *BOOKING),
        "can_plan": has_role(request.user, *EVALUATION_PLAN),
    }


@require_GET
@staff
def new_visit(request: HttpRequest) -> HttpResponse:
    """From a click on an empty calendar slot (?start=&therapist=&room=):
    find the patient, then book a session of an active plan or an evaluation,
    with the form prefilled."""
    start = _parse_bound(request.GET.get("start"))
    query = (request.GET.get("q") or "").strip()
    found = []
    if query:
        people = list(patients_search(query=query)[:20])
        plans = TreatmentPlan.objects.filter(patient__in=people, status=TreatmentPlan.Status.ACTIVE).order_by(
            "patient_id", "id"
        )
        by_patient: dict[int, list[TreatmentPlan]] = {}
        for plan in plans:
            by_patient.setdefault(plan.patient_id, []).append(plan)
        found = [(person, by_patient.get(person.pk, [])) for person in people]
    keep = {k: request.GET[k] for k in ("start", "therapist", "room") if request.GET.get(k)}
    therapist = Therapist.objects.filter(pk=_int(request.GET.get("therapist"))).first()
    return render(
        request,
        "appointments/new_visit.html",
        {
            "start": start,
            "therapist": therapist,
            "query": query,
            "found": found,
            "prefill": urlencode(keep),
            "keep": keep,
        },
    )


# -- the therapist's own calendar feed ------------------------------------------
@require_POST
@role_required(*CALENDAR_FEED)
def calendar_feed_rotate(request: HttpRequest) -> HttpResponse:
    """Replace the signed-in therapist's feed token (dashboard button)."""
    therapist = get_object_or_404(Therapist, user=request.user)
    services.calendar_feed_rotate(therapist=therapist)
    messages.success(
        request,
        "Your calendar feed has a new address. The old one no longer works: "
        "subscribe your calendar app to the new one.",
    )
    return redirect("home")


def chart_attendance(request: HttpRequest, patient) -> dict:
    """The patient chart's attendance line (R12, last 12 months) and the
    link to the patient's message log (patients.chart section)."""
    return {"patient": patient, "attendance": selectors.attendance_for([patient.pk]).get(patient.pk)}


@require_POST
@staff
def waitlist_offer(request: HttpRequest, pk: int) -> HttpResponse:
    """Email a freed slot to a waiting patient, with a link to take it."""
    entry = get_object_or_404(WaitlistEntry.objects.select_related("patient", "plan"), pk=pk)
    initial = _slot_initial(request)
    if "start" not in initial:
        messages.error(request, "Choose the freed slot to offer.")
        return redirect("appointments:waitlist")
    therapist = Therapist.objects.filter(pk=initial.get("therapist")).first()
    try:
        services.waitlist_offer(entry=entry, start=initial["start"], therapist=therapist)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{entry.patient.full_name} will get an email offering {_when(initial['start'])}."
        )
    return redirect("appointments:waitlist")
