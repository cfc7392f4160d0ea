"""The report metrics, defined once (docs/reports.md states each definition).

Every metric counts tickets *created* in the period (the issue's rule: a cohort of
tickets, so a number never changes because a ticket was touched later in another
period), merged tickets left out (a merged ticket lives on in the one it joined, which
counts once). All figures are SQL aggregates over TicketFacts: two queries on
PostgreSQL (the whole period, then by channel), percentiles with percentile_cont. SQLite
has no percentile aggregate, so there the counts and means stay in SQL and the
percentiles are interpolated in Python from the one sorted read of the durations, the
same linear interpolation percentile_cont does.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Aggregate, Avg, Count, F, FloatField, Q, QuerySet, Subquery

from helpdesk.roles import is_agent
from tickets.reports.models import TicketFacts
from tickets.visibility import tickets_visible_to, visibility_q

DURATIONS = {
    "first_response_minutes": "first_response_minutes",
    "first_response_business_minutes": "first_response_business_minutes",
    "resolution_minutes": "resolution_minutes",
    "resolution_business_minutes": "resolution_business_minutes",
}


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: percentile_cont(f) WITHIN GROUP (ORDER BY x)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    tz: str
    channel: str | None = None
    team_id: int | None = None
    agent_id: int | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period's first instant and the instant after it, in UTC terms.

        Midnight is read with fold=0: on a fall-back day the local day is 25 h, on a
        spring-forward day 23 h; where midnight itself is skipped (zones that jump at
        00:00), zoneinfo's fold=0 lands on the transition, the day's first instant."""
        zone = ZoneInfo(self.tz)
        first = datetime.combine(self.start, time.min, tzinfo=zone)
        after = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone)
        return first, after


def facts_for(*, user: Any | None, filters: ReportFilters) -> QuerySet[TicketFacts]:
    """The facts a report counts: created in the period, not merged, matching the
    filters, and (for a user) only tickets that user may see."""
    first, after = filters.bounds
    facts = TicketFacts.objects.filter(
        created_at__gte=first, created_at__lt=after, merged_into_id__isnull=True
    )
    if filters.channel:
        facts = facts.filter(channel=filters.channel)
    if filters.team_id is not None:
        facts = facts.filter(team_id=filters.team_id)
    if filters.agent_id is not None:
        facts = facts.filter(assignee_id=filters.agent_id)
    if user is not None:
        if not is_agent(user):
            return facts.none()
        if visibility_q(user) is not None:  # None: the user sees every ticket
            facts = facts.filter(ticket_id__in=Subquery(tickets_visible_to(user).values("pk")))
    return facts


_SOLVED = Q(solved_at__isnull=False)
_FCR = _SOLVED & Q(public_agent_replies=1, reopened_count=0)


def _aggregates(percentiles: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tickets_created": Count("pk"),
        "tickets_solved": Count("pk", filter=_SOLVED),
        "tickets_reopened": Count("pk", filter=Q(reopened_count__gt=0)),
        "ever_solved": Count("pk", filter=Q(solved_count__gt=0)),
        "fcr": Count("pk", filter=_FCR),
        "csat_count": Count("satisfaction_score"),
        "csat_good": Count("pk", filter=Q(satisfaction_score__gte=4)),
    }
    for name, column in DURATIONS.items():
        values[f"{name}__count"] = Count(column)
        values[f"{name}__mean"] = Avg(column)
        if percentiles:
            values[f"{name}__median"] = PercentileCont(F(column), 0.5)
            values[f"{name}__p90"] = PercentileCont(F(column), 0.9)
    return values


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tickets_created": row["tickets_created"],
        "tickets_solved": row["tickets_solved"],
        "tickets_reopened": row["tickets_reopened"],
    }
    for name in DURATIONS:
        body[name] = {
            "median": row.get(f"{name}__median"),
            "p90": row.get(f"{name}__p90"),
            "mean": row[f"{name}__mean"],
            "count": row[f"{name}__count"],
        }
    body["fcr_rate"] = _rate(row["fcr"], row["tickets_solved"])
    body["reopen_rate"] = _rate(row["tickets_reopened"], row["ever_solved"])
    csat = _rate(row["csat_good"], row["csat_count"])
    body["csat"] = {"percent": None if csat is None else 100 * csat, "count": row["csat_count"]}
    return body


def _python_percentiles(facts: QuerySet[TicketFacts], rows: dict[str, dict[str, Any]]) -> None:
    """SQLite: median and p90 of each duration, overall ("") and per channel."""
    columns = list(DURATIONS.values())
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    for channel, *values in facts.values_list("channel", *columns):
        for column, value in zip(columns, values, strict=True):
            if value is not None:
                samples[("", column)].append(value)
                samples[(channel, column)].append(value)
    for key, row in rows.items():
        for name, column in DURATIONS.items():
            ordered = sorted(samples.get((key, column), []))
            row[f"{name}__median"] = percentile(ordered, 0.5)
            row[f"{name}__p90"] = percentile(ordered, 0.9)


def report_summary(*, user: Any | None, filters: ReportFilters) -> dict[str, Any]:
    """The summary the API answers (docs/reports.md): a fixed number of queries."""
    in_sql = connection.vendor == "postgresql"
    facts = facts_for(user=user, filters=filters)
    aggregates = _aggregates(percentiles=in_sql)
    total = facts.aggregate(**aggregates)
    per_channel = {
        row["channel"]: row for row in facts.order_by().values("channel").annotate(**aggregates)
    }
    if not in_sql:
        _python_percentiles(facts, {"": total, **per_channel})
    body = _shape(total)
    # Surveys beyond CSAT are not collected yet: no answer is no score, not zero.
    body["nps"] = {"score": None, "count": 0}
    body["ces"] = {"mean": None, "count": 0}
    body["by_channel"] = {
        channel: _shape(row) for channel, row in sorted(per_channel.items()) if channel
    }
    return body
