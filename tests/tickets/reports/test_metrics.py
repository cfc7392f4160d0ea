"""Every metric of the summary against a brute-force count over the generated history."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tickets.reports.history import business_minutes_brute, quantile
from tickets.models import Channel
from tickets.reports.metrics import ReportFilters, percentile, report_summary

# Also on SQLite: there the percentiles come from the Python fallback.
pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _minutes(start, end):
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 60


def _stats(values):
    values = sorted(values)
    return {
        "median": quantile(values, 0.5),
        "p90": quantile(values, 0.9),
        "mean": sum(values) / len(values) if values else None,
        "count": len(values),
    }


def _rate(part, whole):
    return None if whole == 0 else part / whole


def brute(truths, *, start, end, tz, channel=None, team_id=None, agent_id=None):
    """The summary by hand: a ticket counts when its creation's local date in `tz` lies in
    start..end, it was not merged away, and it matches the filters."""
    zone = ZoneInfo(tz)
    chosen = [
        t
        for t in truths
        if start <= t.created_at.astimezone(zone).date() <= end
        and not t.merged
        and (channel is None or t.channel == channel)
        and (team_id is None or t.team_id == team_id)
        and (agent_id is None or t.assignee_id == agent_id)
    ]
    return _summary(chosen, by_channel=True)


def _summary(chosen, *, by_channel):
    solved = [t for t in chosen if t.solved_at is not None]
    answered = [t for t in chosen if t.first_reply is not None]
    rated = [t for t in chosen if t.score is not None]
    reopened = [t for t in chosen if t.reopens]
    body = {
        "tickets_created": len(chosen),
        "tickets_solved": len(solved),
        "tickets_reopened": len(reopened),
        "first_response_minutes": _stats([_minutes(t.created_at, t.first_reply) for t in answered]),
        "first_response_business_minutes": _stats(
            [business_minutes_brute(t.created_at, t.first_reply) for t in answered]
        ),
        "resolution_minutes": _stats([_minutes(t.created_at, t.solved_at) for t in solved]),
        "resolution_business_minutes": _stats(
            [business_minutes_brute(t.created_at, t.solved_at) for t in solved]
        ),
        "fcr_rate": _rate(
            sum(1 for t in solved if len(t.replies) == 1 and not t.reopens), len(solved)
        ),
        "reopen_rate": _rate(len(reopened), sum(1 for t in chosen if t.solves)),
        "csat": {
            "percent": None
            if not rated
            else 100 * sum(1 for t in rated if t.score >= 4) / len(rated),
            "count": len(rated),
        },
    }
    if by_channel:
        body["nps"] = {"score": None, "count": 0}
        body["ces"] = {"mean": None, "count": 0}
        channels = sorted({t.channel for t in chosen})
        body["by_channel"] = {
            c: _summary([t for t in chosen if t.channel == c], by_channel=False) for c in channels
        }
    return body


def _close(actual, expected):
    """Equal, floats to 1e-9 (SQL and Python add in a different order)."""
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            _close(actual[key], expected[key])
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-9)
    else:
        assert actual == expected


FILTERS = [
    {},
    {"channel": Channel.EMAIL},
    {"channel": Channel.WEB},
]


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "UTC"])
@pytest.mark.parametrize("extra", FILTERS)
def test_it_matches_a_brute_force_count(history, tz, extra):
    truths = list(history.truths.values())
    start, end = date(2026, 3, 26), date(2026, 4, 1)
    filters = ReportFilters(start=start, end=end, tz=tz, **extra)
    actual = report_summary(user=None, filters=filters)
    expected = brute(truths, start=start, end=end, tz=tz, **extra)
    assert expected["tickets_created"] > 0
    _close(actual, expected)


def test_it_filters_by_team_and_by_agent(history):
    truths = list(history.truths.values())
    start, end = date(2026, 3, 20), date(2026, 4, 30)
    for team in history.teams:
        filters = ReportFilters(start=start, end=end, tz="UTC", team_id=team.pk)
        _close(
            report_summary(user=None, filters=filters),
            brute(truths, start=start, end=end, tz="UTC", team_id=team.pk),
        )
    for agent in history.agents:
        filters = ReportFilters(start=start, end=end, tz="UTC", agent_id=agent.pk)
        _close(
            report_summary(user=None, filters=filters),
            brute(truths, start=start, end=end, tz="UTC", agent_id=agent.pk),
        )


def test_it_answers_an_empty_period_with_zeros_and_nulls(history):
    filters = ReportFilters(start=date(2025, 1, 1), end=date(2025, 1, 31), tz="UTC")
    body = report_summary(user=None, filters=filters)
    assert body["tickets_created"] == 0
    assert body["first_response_minutes"] == {"median": None, "p90": None, "mean": None, "count": 0}
    assert body["fcr_rate"] is None and body["reopen_rate"] is None
    assert body["csat"] == {"percent": None, "count": 0}
    assert body["by_channel"] == {}


def test_its_day_bounds_follow_daylight_saving_time():
    """29 March 2026 in Berlin is 23 hours long; 25 October 2026 is 25."""
    spring = ReportFilters(start=date(2026, 3, 29), end=date(2026, 3, 29), tz="Europe/Berlin")
    first, after = spring.bounds
    assert first.astimezone(UTC) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert after.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=23)
    autumn = ReportFilters(start=date(2026, 10, 25), end=date(2026, 10, 25), tz="Europe/Berlin")
    first, after = autumn.bounds
    assert after.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=25)
    # Santiago skips midnight itself (00:00 -> 01:00) on 6 September 2026: the day starts
    # at the transition, 04:00 UTC.
    skipped = ReportFilters(start=date(2026, 9, 6), end=date(2026, 9, 6), tz="America/Santiago")
    assert skipped.bounds[0].astimezone(UTC) == datetime(2026, 9, 6, 4, tzinfo=UTC)


def test_it_counts_a_ticket_on_its_local_day_across_the_change(history):
    """A ticket created at 00:30 Berlin on the day after the change is 22:30 UTC the day
    before: a Berlin report puts it on its Berlin date."""
    truths = list(history.truths.values())
    for day in (date(2026, 3, 29), date(2026, 3, 30)):
        filters = ReportFilters(start=day, end=day, tz="Europe/Berlin")
        assert (
            report_summary(user=None, filters=filters)["tickets_created"]
            == brute(truths, start=day, end=day, tz="Europe/Berlin")["tickets_created"]
        )


def test_its_query_count_does_not_grow_with_the_tickets(history):
    filters = ReportFilters(start=date(2026, 3, 20), end=date(2026, 4, 30), tz="UTC")
    few = ReportFilters(start=date(2026, 3, 25), end=date(2026, 3, 25), tz="UTC")
    with CaptureQueriesContext(connection) as many_queries:
        report_summary(user=None, filters=filters)
    with CaptureQueriesContext(connection) as few_queries:
        report_summary(user=None, filters=few)
    assert len(many_queries) == len(few_queries) <= 3


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([], 0.5, None), ([4.0], 0.9, 4.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5), ([0, 10], 0.9, 9.0)],
)
def test_its_sqlite_percentile_interpolates_like_percentile_cont(values, fraction, expected):
    if expected is None:
        assert percentile(values, fraction) is None
    else:
        assert percentile(values, fraction) == pytest.approx(expected)
