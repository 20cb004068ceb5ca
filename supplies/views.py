"""Stock pages (therapists and clinic admins), the catalog and fee
schedules (clinic admins), and the monthly session-economics report."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.forms import add_service_errors
from clinic.localtime import local_date
from clinic.roles import has_role, role_required
from supplies import selectors, services
from supplies.access import CATALOG, ECONOMICS, STOCK
from supplies.forms import CorrectionForm, FeeForm, ReceiveForm, SupplyItemForm
from supplies.models import FeeSchedule, Lot

stock_only = role_required(*STOCK)
catalog_only = role_required(*CATALOG)
economics_only = role_required(*ECONOMICS)
LOTS_SHOWN = 200
MOVEMENTS_SHOWN = 200


@stock_only
def stock(request: HttpRequest) -> HttpResponse:
    today = local_date(timezone.now())
    on_shelf = Lot.objects.filter(on_hand__gt=0).order_by("expiry", "id")
    items = selectors.items_with_stock().prefetch_related(
        Prefetch("lots", queryset=on_shelf, to_attr="shelf")
    )
    return render(
        request,
        "supplies/stock.html",
        {"items": items, "today": today, "alerts": selectors.stock_alerts(today=today)},
    )


@stock_only
def receive(request: HttpRequest) -> HttpResponse:
    form = ReceiveForm(request.POST or None, initial={"item": request.GET.get("item")})
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_receive(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Received lot {lot.lot_number}: {lot.on_hand:g} {lot.item.unit} on hand."
            )
            return redirect("supplies:lot", pk=lot.pk)
    return render(request, "supplies/receive_form.html", {"form": form}, status=400 if form.errors else 200)


def _lot_page(request, lot: Lot, form: CorrectionForm, *, status: int = 200) -> HttpResponse:
    movements = lot.movements.select_related("created_by", "note__appointment")[:MOVEMENTS_SHOWN]
    return render(
        request,
        "supplies/lot_detail.html",
        {"lot": lot, "movements": movements, "form": form, "show_cost": has_role(request.user, *ECONOMICS)},
        status=status,
    )


@stock_only
def lot(request: HttpRequest, pk: int) -> HttpResponse:
    return _lot_page(request, get_object_or_404(Lot.objects.select_related("item"), pk=pk), CorrectionForm())


@require_POST
@stock_only
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Lot.objects.select_related("item"), pk=pk)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            services.stock_correct(lot=found, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Correction recorded.")
            return redirect("supplies:lot", pk=pk)
    return _lot_page(request, found, form, status=400)


@catalog_only
def item_create(request: HttpRequest) -> HttpResponse:
    form = SupplyItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        item = form.save()
        messages.success(request, f"{item.name} added to the catalog.")
        return redirect("supplies:list")
    return render(request, "supplies/item_form.html", {"form": form}, status=400 if form.errors else 200)


@catalog_only
def fees(request: HttpRequest) -> HttpResponse:
    form = FeeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fee_set(**form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Fee saved.")
            return redirect("supplies:fees")
    schedule = FeeSchedule.objects.select_related("payer")
    return render(
        request,
        "supplies/fee_list.html",
        {"form": form, "fees": schedule},
        status=400 if form.errors else 200,
    )


@economics_only
def economics(request: HttpRequest) -> HttpResponse:
    """Signed sessions of a month: supply cost, therapist time, expected
    reimbursement and margin, per modality and per payer (page, chart, CSV)."""
    raw = request.GET.get("month")
    month = selectors.month_of(raw) if raw else selectors.default_month()
    if month is None:
        messages.error(request, "Choose a month as YYYY-MM.")
        month = local_date(timezone.now()).replace(day=1)
        status = 400
    else:
        status = 200
    report = selectors.monthly_report(month=month)
    if request.GET.get("format") == "csv" and status == 200:
        return _economics_csv(report)
    chart = {
        "labels": [t.label for t in report["by_modality"]] + [t.label for t in report["by_payer"]],
        "groups": ["modality"] * len(report["by_modality"]) + ["payer"] * len(report["by_payer"]),
        "cost": [
            str(selectors.cents(t.supply_cost + t.time_cost))
            for t in report["by_modality"] + report["by_payer"]
        ],
        "reimbursement": [
            str(selectors.cents(t.reimbursement)) for t in report["by_modality"] + report["by_payer"]
        ],
    }
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    context = {**report, "chart": chart, "month_value": f"{month:%Y-%m}"}
    context.update(previous=f"{previous:%Y-%m}", following=f"{following:%Y-%m}")
    return render(request, "supplies/economics.html", context, status=status)


def _economics_csv(report: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="phoresis-economics-{report["month"]:%Y-%m}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["group", "name", "sessions", "units", "supply_cost", "time_cost", "reimbursement", "margin"]
    )
    for group, totals in (
        ("modality", report["by_modality"]),
        ("payer", report["by_payer"]),
        ("total", [report["total"]]),
    ):
        for t in totals:
            d = t.as_dict()
            writer.writerow(
                [
                    group,
                    d["label"],
                    d["sessions"],
                    d["units"],
                    d["supply_cost"],
                    d["time_cost"],
                    d["reimbursement"],
                    d["margin"],
                ]
            )
    return response


def plan_section(request: HttpRequest, plan) -> dict | None:
    """The plan page's running cost vs expected reimbursement (clinic admins)."""
    if not has_role(request.user, *ECONOMICS):
        return None
    return {"economics": selectors.plan_economics(plan=plan)}
