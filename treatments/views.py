"""Plan and medication pages: HTTP only; rules live in treatments.services."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.access import is_therapist
from clinic.audit import log_access
from clinic.forms import add_service_errors
from clinic.models import ClinicRules
from clinic.roles import has_role, role_required, therapist_required
from patients.models import Patient
from patients.screening import current_screening, precautions, screening_gate
from treatments import hooks, services
from treatments.access import CATALOG, CLINICAL, PLAN_FIELDS, STAFF
from treatments.authorizations import authorization_create, authorization_update
from treatments.forms import (
    AuthorizationForm,
    MaintenanceForm,
    MedicationForm,
    OverrideForm,
    PlanForm,
    StatusReasonForm,
)
from treatments.models import Authorization, Medication, Modality, TreatmentPlan
from treatments.plan_page import sections_for
from treatments.rules import needs_confirmation
from treatments.selectors import (
    OPEN_PLAN_STATUSES,
    authorization_alerts,
    authorizations_with_use,
    plan_counts,
    plans_with_counts,
)

PAGE_SIZE = 25


@role_required(*STAFF)
def plan_list(request: HttpRequest) -> HttpResponse:
    rules = ClinicRules.current()
    plans = TreatmentPlan.objects.all()
    status, modality = request.GET.get("status", ""), request.GET.get("modality", "")
    if status in TreatmentPlan.Status.values:
        plans = plans.filter(status=status)
    if modality in Modality.values:
        plans = plans.filter(modality=modality)
    plans = plans_with_counts(plans, rules=rules)
    if request.GET.get("alert"):
        plans = plans.filter(authorization_alert=True)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "treatments/plan_list.html",
        {
            "page": page,
            "statuses": TreatmentPlan.Status.choices,
            "modalities": Modality.choices,
            "status": status,
            "modality": modality,
            "alert": bool(request.GET.get("alert")),
        },
    )


@role_required(*STAFF)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(plans_with_counts(), pk=pk)
    clinical = PLAN_FIELDS.sees_all(request.user)
    return render(
        request,
        "treatments/plan_detail.html",
        {
            "plan": plan,
            "counts": plan_counts(plan),
            "clinical": clinical,
            "actions": services.allowed_actions(plan) if clinical else [],
            "can_maintain": services.can_enter_maintenance(plan) and is_therapist(request.user),
            "plan_notices": hooks.plan_notices(plan) if clinical else [],
            "reason_form": StatusReasonForm(),
            "sessions": plan.appointments.select_related("therapist", "room", "note").order_by("start"),
            # Adverse events are clinical, even their kind (treatments.access.PLAN_FIELDS).
            "adverse_events": plan.adverse_events.all() if clinical else [],
            "authorizations": authorizations_with_use(plan.authorizations.all()),
            "authorization_alerts": authorization_alerts([plan.pk]).get(plan.pk, [])
            if plan.status in OPEN_PLAN_STATUSES
            else [],
            "sections": sections_for(request, plan),
        },
    )


@role_required(*STAFF)
def authorization_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The front desk records the insurer's authorization (R22)."""
    plan = get_object_or_404(TreatmentPlan.objects.select_related("patient"), pk=pk)
    initial = {"payer": plan.patient.payer_id, "valid_from": timezone.localdate()}
    form = AuthorizationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            authorization_create(plan=plan, data=form.service_data(), user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Authorization recorded.")
            return redirect("treatments:detail", pk=plan.pk)
    return render(request, "treatments/authorization_form.html", {"form": form, "plan": plan})


@role_required(*STAFF)
def authorization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    authorization = get_object_or_404(Authorization.objects.select_related("plan__patient"), pk=pk)
    plan = authorization.plan
    form = AuthorizationForm(request.POST or None, instance=authorization)
    if request.method == "POST" and form.is_valid():
        try:
            authorization_update(authorization=authorization, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Authorization {authorization.number} saved.")
            return redirect("treatments:detail", pk=plan.pk)
    return render(
        request,
        "treatments/authorization_form.html",
        {"form": form, "plan": plan, "authorization": authorization},
    )


@role_required(*CLINICAL)
def plan_create(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    # ?evaluation=<visit id>: the plan is written from that evaluation visit.
    raw = request.GET.get("evaluation") or ""
    evaluation = int(raw) if raw.isdigit() else None
    form = PlanForm(request.POST or None, rules=ClinicRules.current())
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                patient=patient,
                user=request.user,
                data=form.service_data(),
                confirm_out_of_range=form.cleaned_data["confirm_out_of_range"],
                evaluation=evaluation,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Draft plan saved. Activate it when the patient is ready to book.")
            return redirect("treatments:detail", pk=plan.pk)
    return render(request, "treatments/plan_form.html", {"form": form, "patient": patient})


@role_required(*CLINICAL)
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan.objects.select_related("patient", "medication"), pk=pk)
    if plan.is_closed:
        messages.error(request, f"A {plan.get_status_display().lower()} plan cannot be changed.")
        return redirect("treatments:detail", pk=plan.pk)
    form = PlanForm(request.POST or None, instance=plan, rules=ClinicRules.current())
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(
                plan=plan,
                user=request.user,
                data=form.service_data(),
                confirm_out_of_range=form.cleaned_data["confirm_out_of_range"],
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Plan saved.")
            return redirect("treatments:detail", pk=plan.pk)
    return render(request, "treatments/plan_form.html", {"form": form, "patient": plan.patient, "plan": plan})


def _form_error(form: PlanForm, exc: ValidationError) -> None:
    add_service_errors(form, exc)
    form.needs_confirmation = needs_confirmation(exc)


# action → (service, form class, success message)
STATUS_ACTIONS: dict[str, tuple[Callable, type, str]] = {
    "activate": (services.plan_activate, OverrideForm, "Plan activated: sessions can be booked."),
    "resume": (services.plan_resume, OverrideForm, "Plan resumed."),
    "hold": (services.plan_hold, StatusReasonForm, "Plan put on hold: no new sessions can be booked."),
    "complete": (services.plan_complete, StatusReasonForm, "Plan completed."),
    "cancel": (services.plan_cancel, StatusReasonForm, "Plan cancelled."),
}


@role_required(*CLINICAL)
def plan_status(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """GET: what the change means (for activation, the screening gate);
    POST: make it."""
    service, form_class, done = STATUS_ACTIONS[action]
    plan = get_object_or_404(plans_with_counts(), pk=pk)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service(plan=plan, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("treatments:detail", pk=plan.pk)
    context = {"plan": plan, "form": form, "action": action, "verb": services.VERBS[action]}
    if form_class is OverrideForm:
        context["gate_reasons"] = screening_gate(patient=plan.patient, modality=plan.modality)
        screening = current_screening(plan.patient)
        log_access(request, [screening])
        context["precautions"] = precautions(screening, plan.modality) if screening else []
    return render(request, "treatments/plan_status_form.html", context)


@therapist_required
def plan_maintenance(request: HttpRequest, pk: int) -> HttpResponse:
    """R21: GET asks for the interval; POST moves the plan to maintenance."""
    plan = get_object_or_404(plans_with_counts(), pk=pk)
    initial = {"interval_days": plan.maintenance_interval_days or 14}
    form = MaintenanceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_enter_maintenance(plan=plan, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Plan in maintenance: recalls go out when a session is due.")
            return redirect("treatments:detail", pk=plan.pk)
    status = 400 if request.method == "POST" else 200
    context = {"plan": plan, "form": form}
    return render(request, "treatments/plan_maintenance_form.html", context, status=status)


@role_required(*STAFF)
def medication_list(request: HttpRequest) -> HttpResponse:
    medications = Medication.objects.order_by("-is_active", "name", "concentration")
    return render(
        request,
        "treatments/medication_list.html",
        {"medications": medications, "can_edit": has_role(request.user, *CATALOG)},
    )


@role_required(*CATALOG)
def medication_create(request: HttpRequest) -> HttpResponse:
    form = MedicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            medication = services.medication_create(**form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{medication} added to the catalog.")
            return redirect("treatments:medications")
    return render(request, "treatments/medication_form.html", {"form": form})


@role_required(*CATALOG)
def medication_edit(request: HttpRequest, pk: int) -> HttpResponse:
    medication = get_object_or_404(Medication, pk=pk)
    form = MedicationForm(request.POST or None, instance=medication)
    if request.method == "POST" and form.is_valid():
        try:
            services.medication_update(medication=medication, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{medication} saved.")
            return redirect("treatments:medications")
    return render(request, "treatments/medication_form.html", {"form": form, "medication": medication})


@require_POST
@role_required(*CATALOG)
def medication_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    medication = get_object_or_404(Medication, pk=pk)
    services.medication_deactivate(medication=medication)
    messages.success(request, f"{medication} is no longer offered for new plans; existing plans keep it.")
    return redirect("treatments:medications")


def chart_plans(request: HttpRequest, patient: Patient) -> dict:
    """The plans section of the patient chart (patients.chart)."""
    return {
        "patient": patient,
        "plans": plans_with_counts(patient.plans.all()),
        "can_edit": has_role(request.user, *CLINICAL),
    }
