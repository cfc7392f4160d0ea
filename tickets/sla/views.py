"""The SLA report page and its CSV export (agents with the report permission, admins)."""

import csv
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.lib.dates import date_parse
from helpdesk.roles import is_admin, is_agent
from tickets.sla.selectors import sla_report
from tickets.visibility import tickets_visible_to, visibility_q

MAX_DAYS = 366


def _period(request: HttpRequest) -> tuple[date, date, str | None]:
    today = timezone.now().date()
    default = (today - timedelta(days=29), today)
    try:
        start = date_parse(request.GET.get("start") or default[0].isoformat())
        end = date_parse(request.GET.get("end") or default[1].isoformat())
    except ValueError:
        return *default, "Dates must look like 2026-03-01. Showing the last 30 days."
    if end < start:
        return *default, "The period ends before it starts. Showing the last 30 days."
    if (end - start).days >= MAX_DAYS:
        return end - timedelta(days=MAX_DAYS - 1), end, CAPPED
    return start, end, None


CAPPED = "Periods are capped at one year."


def sla_report_allowed(user: Any) -> bool:
    """Who sees the report: admins, and agents with its permission (the nav link too)."""
    return is_admin(user) or (is_agent(user) and user.has_perm("tickets.view_sla_report"))


@login_required
@require_GET
def sla_report_view(request: HttpRequest) -> HttpResponse:
    if not sla_report_allowed(request.user):
        raise PermissionDenied("The SLA report needs the “Can view the SLA report” permission.")
    start, end, problem = _period(request)
    # Scoped like every other agent page: the report counts only tickets the reader sees.
    visible = None if visibility_q(request.user) is None else tickets_visible_to(request.user)
    report = sla_report(start=start, end=end, tickets=visible)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="sla-{start}-{end}.csv"'
        writer = csv.writer(response)
        writer.writerow(["policy", "target", "total", "met", "breached", "compliance_percent"])
        for row in report.compliance:
            percent = "" if row.percent is None else row.percent
            writer.writerow([row.policy, row.target, row.total, row.met, row.breached, percent])
        return response
    # A period that does not parse is the client's error (400), shown with the default;
    # a long one is only shortened.
    status = 400 if problem and problem != CAPPED else 200
    context = {"report": report, "problem": problem}
    return render(request, "sla/report.html", context, status=status)
