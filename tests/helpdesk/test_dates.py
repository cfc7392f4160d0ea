"""User-supplied dates stay within a sane range: far past or future is a bad date, not a 500."""

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from helpdesk.lib.dates import (
    EARLIEST,
    LATEST,
    BoundedDateField,
    date_parse,
    datetime_parse,
)
from tests.factories import AdminFactory, AgentFactory, TicketFactory


def test_it_parses_dates_inside_the_range():
    assert date_parse("2026-03-01") == date(2026, 3, 1)
    assert date_parse(EARLIEST.isoformat()) == EARLIEST
    assert date_parse(LATEST.isoformat()) == LATEST


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_it_refuses_dates_outside_the_range(text):
    with pytest.raises(ValueError, match="between 1900-01-01 and 2999-12-31"):
        date_parse(text)


@pytest.mark.parametrize("text", ["2026-13-01", "yesterday", ""])
def test_it_refuses_malformed_dates(text):
    with pytest.raises(ValueError):
        date_parse(text)


def test_it_makes_naive_datetimes_aware_and_keeps_aware_ones(settings):
    naive = datetime_parse("2026-03-01T10:00:00")
    aware = datetime_parse("2026-03-01T10:00:00+00:00")

    assert naive is not None and naive.tzinfo is not None
    assert aware == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert datetime_parse("") is None


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31T23:59:59", "not a time"])
def test_it_refuses_datetimes_out_of_range_or_malformed(text):
    with pytest.raises(ValueError):
        datetime_parse(text)


def test_it_gives_a_field_error_for_an_out_of_range_form_date():
    field = BoundedDateField(required=False)

    assert field.clean("2026-03-01") == date(2026, 3, 1)
    with pytest.raises(Exception, match="between 1900-01-01"):
        field.clean("9999-12-31")


@pytest.mark.django_db
@pytest.mark.embedded
@pytest.mark.parametrize("query", ["created_before=9999-12-31", "created_after=0001-01-01"])
def test_it_answers_400_with_the_queue_and_a_field_error_for_a_date_out_of_range(query):
    client = Client()
    client.force_login(AgentFactory())

    response = client.get(f"/agent/?{query}")

    assert response.status_code == 400  # the page, with the field's error
    assert b"between 1900-01-01 and 2999-12-31" in response.content


@pytest.mark.django_db
@pytest.mark.embedded
@pytest.mark.parametrize("query", ["end=9999-12-31", "start=0001-01-01&end=2026-01-01"])
def test_it_answers_400_with_the_sla_report_and_a_message_for_a_date_out_of_range(query):
    client = Client()
    client.force_login(AdminFactory())

    response = client.get(f"/agent/reports/sla/?{query}")

    assert response.status_code == 400  # the report of the default period, with why
    assert b"Showing the last 30 days" in response.content


@pytest.mark.django_db
@pytest.mark.embedded
@pytest.mark.parametrize("since", ["0001-01-01", "9999-12-31T00:00:00"])
def test_it_resyncs_the_timeline_from_the_start_for_a_since_out_of_range(since):
    agent = AgentFactory()
    ticket = TicketFactory()
    client = Client()
    client.force_login(agent)

    response = client.get(f"/agent/tickets/{ticket.number}/timeline/", {"since": since})

    assert response.status_code == 200
    assert response["X-Synced-At"]
