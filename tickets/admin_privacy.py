"""The Customer admin's personal-data actions: download an export, erase after a
confirmation page. Both go through tickets.privacy, which records them in the audit
trail (CustomerExported, CustomerErased)."""

import tempfile
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse

from tickets.errors import TicketError
from tickets.models import Customer, Ticket
from tickets.privacy import customer_erase, customer_export_archive

_IN_MEMORY = 10 * 1024 * 1024  # larger exports spill to a temporary file


@admin.action(description="Export personal data (ZIP)", permissions=["view"])
def export_personal_data(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Customer]
) -> HttpResponseBase | None:
    customers = list(queryset[:2])
    if len(customers) != 1:
        modeladmin.message_user(
            request, "Select exactly one customer to export.", level=messages.ERROR
        )
        return None
    customer = customers[0]
    out = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 (the response closes it)
    customer_export_archive(customer=customer, out=out, actor=request.user)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"customer-{customer.pk}-export.zip",
        content_type="application/zip",
    )


@admin.action(description="Erase personal data…", permissions=["delete"])
def erase_personal_data(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Customer]
) -> HttpResponse | None:
    customers = list(queryset.order_by("pk"))
    if request.POST.get("confirm") != "yes":
        return TemplateResponse(
            request,
            "admin/tickets/customer/erase_confirmation.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Erase personal data?",
                "opts": modeladmin.model._meta,
                "customers": [(c, Ticket.objects.filter(customer=c).count()) for c in customers],
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
    erased = 0
    for customer in customers:
        try:
            customer_erase(customer, actor=request.user)
            erased += 1
        except TicketError as exc:
            modeladmin.message_user(request, exc.message, level=messages.ERROR)
    if erased:
        modeladmin.message_user(
            request,
            f"Erased the personal data of {erased} customer{'s' if erased != 1 else ''}; "
            "their tickets stay, anonymous, for the reports.",
            level=messages.SUCCESS,
        )
    return None


def customer_admin_actions() -> list[Any]:
    return [export_personal_data, erase_personal_data]
