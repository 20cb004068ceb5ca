"""Patient pages: HTTP only; rules live in patients.services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from clinic.access import is_therapist
from clinic.audit import log_access
from clinic.forms import add_service_errors
from clinic.models import ClinicRules
from clinic.roles import has_role, role_required
from patients import screening as safety
from patients.access import ADMIN, CLINICAL, STAFF
from patients.chart import sections_for
from patients.forms import MergeForm, PatientForm, PatientSearchForm, ScreeningForm
from patients.models import Patient
from patients.selectors import (
    attach_screening_status,
    likely_duplicates,
    patients_search,
    with_current_screening_id,
)
from patients.services import patient_create, patient_merge, patient_update, screening_record

PAGE_SIZE = 25


@role_required(*STAFF)
def patient_list(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    patients = with_current_screening_id(patients_search(query=query))
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    attach_screening_status(page.object_list)
    return render(request, "patients/patient_list.html", {"form": form, "page": page, "query": query})


@role_required(*STAFF)
def patient_create_view(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        try:
            patient = patient_create(
                **form.service_data(), confirm_duplicate=form.cleaned_data["confirm_duplicate"]
            )
        except ValidationError as exc:
            duplicates = getattr(exc, "duplicates", [])
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{patient.full_name} registered with MRN {patient.mrn}.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "duplicates": duplicates})


@role_required(*STAFF)
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    form = PatientForm(request.POST or None, instance=patient)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        try:
            patient_update(
                patient=patient,
                data=form.service_data(),
                confirm_duplicate=form.cleaned_data["confirm_duplicate"],
            )
        except ValidationError as exc:
            duplicates = getattr(exc, "duplicates", [])
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{patient.full_name}'s details were saved.")
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": patient, "duplicates": duplicates}
    )


@role_required(*ADMIN)
def patient_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge this (duplicate) record into the one kept; `?into=` preselects
    it, as the duplicate warning's link does."""
    patient = get_object_or_404(Patient, pk=pk, is_active=True)
    form = MergeForm(request.POST or None, patient=patient, initial={"into": request.GET.get("into")})
    if request.method == "POST" and form.is_valid():
        try:
            kept = patient_merge(patient=patient, into=form.cleaned_data["into"], user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"MRN {patient.mrn} was merged into this record (MRN {kept.mrn}).")
            return redirect("patients:detail", pk=kept.pk)
    into = form["into"].value()
    candidate = Patient.objects.filter(pk=into).first() if str(into or "").isdigit() else None
    return render(
        request, "patients/patient_merge.html", {"form": form, "patient": patient, "candidate": candidate}
    )


@role_required(*STAFF)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    rules = ClinicRules.current()
    current = safety.current_screening(patient)
    context = {
        "patient": patient,
        "screening_status": safety.screening_status(current, rules),
        "blocked_modalities": safety.blocked_modalities(current),
        "valid_until": safety.valid_until(current, rules) if current else None,
        "sections": sections_for(request, patient),
        "duplicates": likely_duplicates(
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth,
            phone=patient.phone,
            email=patient.email,
            exclude_pk=patient.pk,
        )
        if patient.is_active
        else [],
    }
    if has_role(request.user, *CLINICAL):  # the answers are clinical: never to the front desk
        log_access(request, [current])
        context |= {
            "screening": current,
            "contraindications": safety.contraindications(current) if current else [],
            "precautions": safety.precautions(current) if current else [],
        }
    return render(request, "patients/patient_detail.html", context)


@role_required(*CLINICAL)
def screening_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The current answers, and a review: saving records a new screening."""
    patient = get_object_or_404(Patient, pk=pk)
    current = safety.current_screening(patient)
    form = ScreeningForm(request.POST or None, instance=None, initial=_answers_of(current))
    log_access(request, [current])
    if request.method == "POST" and not is_therapist(request.user):
        raise PermissionDenied  # R20: a screening review is a therapist's act
    if request.method == "POST" and form.is_valid():
        try:
            screening_record(patient=patient, screened_by=request.user, answers=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Screening of {patient.full_name} recorded.")
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request,
        "patients/screening_form.html",
        {"form": form, "patient": patient, "current": current, "can_review": is_therapist(request.user)},
    )


@role_required(*CLINICAL)
def screening_history(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    screenings = patient.screenings.select_related("screened_by").order_by("-screened_at", "-id")
    rows = [{"screening": s, "positive": safety.positive_answers(s)} for s in screenings]
    log_access(request, [row["screening"] for row in rows])
    return render(request, "patients/screening_history.html", {"patient": patient, "rows": rows})


def _answers_of(screening) -> dict:
    if screening is None:
        return {}
    return {name: getattr(screening, name) for name in ScreeningForm.Meta.fields}
