"""`reports_rebuild` recomputes from the record and agrees with the incremental facts."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from tickets.reports.models import TicketFacts

pytestmark = pytest.mark.django_db


def _snapshot():
    return {
        row.ticket_id: {k: v for k, v in model_to_dict(row).items() if k != "computed_at"}
        for row in TicketFacts.objects.all()
    }


def test_it_agrees_exactly_with_the_incremental_facts(history):
    incremental = _snapshot()
    TicketFacts.objects.all().delete()
    out = StringIO()
    call_command("reports_rebuild", "--batch", "7", stdout=out)
    assert _snapshot() == incremental
    assert f"Rebuilt the facts of {len(incremental)} tickets." in out.getvalue()


def test_it_repairs_drifted_rows_and_rebuilds_from_a_date_only(history):
    incremental = _snapshot()
    TicketFacts.objects.update(public_agent_replies=99, solved_at=None)
    call_command("reports_rebuild", "--from", "2026-03-29", stdout=StringIO())
    after = _snapshot()
    for ticket_id, row in after.items():
        created = TicketFacts.objects.get(ticket_id=ticket_id).created_at
        if created.date().isoformat() >= "2026-03-29":
            assert row == incremental[ticket_id]
        else:
            assert row["public_agent_replies"] == 99


def test_it_refuses_a_malformed_date(db):
    with pytest.raises(CommandError, match="--from wants a date"):
        call_command("reports_rebuild", "--from", "29/03/2026", stdout=StringIO())
