"""ETag on a ticket's reads and writes, If-Match on PATCH: a stale write is 412."""

import pytest

from tests.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(agent, token_client):
    return token_client(agent, "tickets:read", "tickets:write")


@pytest.fixture
def ticket():
    return TicketFactory(status="open", priority="normal")


def _patch(client, ticket, body, etag=None):
    extra = {"HTTP_IF_MATCH": etag} if etag is not None else {}
    return client.patch(f"/api/v1/tickets/{ticket.number}/", body, format="json", **extra)


def test_a_write_with_the_etag_of_the_last_read_applies_and_answers_the_new_one(writer, ticket):
    etag = writer.get(f"/api/v1/tickets/{ticket.number}/")["ETag"]

    response = _patch(writer, ticket, {"priority": "high"}, etag)

    assert response.status_code == 200 and response.json()["priority"] == "high"
    assert response["ETag"] != etag
    assert writer.get(f"/api/v1/tickets/{ticket.number}/")["ETag"] == response["ETag"]


def test_a_write_after_someone_elses_change_is_412_and_changes_nothing(writer, ticket):
    etag = writer.get(f"/api/v1/tickets/{ticket.number}/")["ETag"]
    _patch(writer, ticket, {"add_tags": ["vip"]})  # another writer, meanwhile

    response = _patch(writer, ticket, {"status": "pending"}, etag)

    assert response.status_code == 412
    error = response.json()["error"]
    assert error["code"] == "precondition_failed" and "Read it again" in error["message"]
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_weak_tags_lists_and_star_match(writer, ticket):
    etag = writer.get(f"/api/v1/tickets/{ticket.number}/")["ETag"]

    weak = _patch(writer, ticket, {"priority": "low"}, f'"nope", W/{etag}')
    star = _patch(writer, ticket, {"priority": "high"}, "*")

    assert weak.status_code == 200 and star.status_code == 200


def test_a_write_without_if_match_is_unconditional(writer, ticket):
    assert _patch(writer, ticket, {"priority": "high"}).status_code == 200


def test_a_created_ticket_carries_its_etag(writer):
    response = writer.post(
        "/api/v1/tickets/",
        {"customer": {"email": "k@example.com"}, "subject": "S", "text": "T"},
        format="json",
    )

    number = response.json()["number"]
    assert response["ETag"] == writer.get(f"/api/v1/tickets/{number}/")["ETag"]
