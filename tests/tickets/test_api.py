import json

import pytest
from rest_framework.test import APIClient

from channels_app.models import RawInbound, RawStatus
from tests.factories import TicketFactory
from tickets.models import Message, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


def _payload(**fields):
    body = {
        "external_id": "crm-1",
        "from": {"email": "Dana@Example.com", "name": "Dana"},
        "subject": "Invoice",
        "text": "Please resend my invoice.",
    }
    body.update(fields)
    return body


def _post(client, body, **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/api/v1/messages/", data, content_type="application/json", **extra)


@pytest.mark.parametrize("method,url", [("get", "/api/v1/tickets/"), ("post", "/api/v1/messages/")])
def test_it_refuses_anonymous_callers_and_non_agents(method, url, django_user_model):
    anonymous = APIClient()
    outsider = APIClient()
    outsider.force_authenticate(django_user_model.objects.create_user("outsider"))

    for client, code in ((anonymous, 401), (outsider, 403)):
        response = getattr(client, method)(url)
        assert response.status_code == code
        assert response.json()["error"]["code"] in {"not_authenticated", "permission_denied"}
        assert response.json()["error"]["message"]


def test_it_lists_tickets_with_filters_and_a_cursor(api):
    for status in [Status.OPEN] * 3 + [Status.SOLVED]:
        TicketFactory(status=status)

    first = api.get("/api/v1/tickets/", {"status": "open", "limit": 2}).json()
    second = api.get("/api/v1/tickets/", {"status": "open", "cursor": first["next_cursor"]}).json()

    assert len(first["results"]) == 2 and first["next_cursor"]
    assert len(second["results"]) == 1 and second["next_cursor"] is None
    numbers = [t["number"] for t in first["results"] + second["results"]]
    assert sorted(numbers) == sorted(
        Ticket.objects.filter(status="open").values_list("number", flat=True)
    )
    assert {"customer", "assignee", "team", "tags", "status"} <= set(first["results"][0])


def test_it_answers_a_bad_filter_or_cursor_with_the_error_shape(api):
    bad_status = api.get("/api/v1/tickets/", {"status": "exploded"})
    bad_cursor = api.get("/api/v1/tickets/", {"cursor": "garbage"})

    assert bad_status.status_code == 400
    assert bad_status.json()["error"]["code"] == "invalid"
    assert "status" in bad_status.json()["error"]["fields"]
    assert bad_cursor.status_code == 400
    assert "no longer valid" in bad_cursor.json()["error"]["fields"]["cursor"][0]


def test_it_shows_a_ticket_with_its_messages(api, ingest):
    ticket = ingest(external_id="1").ticket

    response = api.get(f"/api/v1/tickets/{ticket.number}/")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == ticket.number
    assert [m["body_text"] for m in body["messages"]] == ["Hello, where is my order?"]


def test_it_answers_404_in_the_error_shape_for_an_unknown_ticket(api):
    response = api.get("/api/v1/tickets/424242/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_posts_a_reply_and_reports_domain_errors_in_the_error_shape(api, ingest):
    ticket = ingest(external_id="1").ticket
    url = f"/api/v1/tickets/{ticket.number}/replies/"

    created = api.post(url, {"body_text": "On its way", "set_status": "pending"}, format="json")
    wrong = api.post(url, {"body_text": "Hi", "channel": "sms"}, format="json")
    empty = api.post(url, {"body_text": ""}, format="json")

    assert created.status_code == 201 and created.json()["direction"] == "outbound"
    assert Ticket.objects.get(pk=ticket.pk).status == Status.PENDING
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "no_recipient"
    assert "phone number" in wrong.json()["error"]["message"]
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "invalid"


def test_it_creates_a_ticket_from_an_inbound_post_and_deduplicates_a_repeat(api):
    created = _post(api, _payload())
    repeat = _post(api, _payload())

    assert created.status_code == 201
    assert created.json()["created_ticket"] is True
    assert repeat.status_code == 200 and repeat.json()["duplicate"] is True
    assert repeat.json()["message"] == created.json()["message"]
    assert Message.objects.count() == 1
    assert RawInbound.objects.filter(status=RawStatus.PROCESSED).count() == 2


@pytest.mark.parametrize(
    "body,fragment",
    [
        (b"{not json", "not valid UTF-8 JSON"),
        (json.dumps([1, 2]), "must be a JSON object"),
        (_payload(**{"from": {"email": "not-an-address"}}), "not a valid email address"),
        (_payload(text=""), "“text” is required"),
        (_payload(external_id="x" * 600), "longer than 500"),
        (_payload(priority="asap"), "“priority” must be one of"),
    ],
)
def test_it_stores_and_quarantines_a_malformed_post_with_a_readable_error(api, body, fragment):
    response = _post(api, body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unprocessable" and fragment in error["message"]
    raw = RawInbound.objects.get()
    assert raw.status == RawStatus.QUARANTINED and fragment in raw.error
    sent = (
        body
        if isinstance(body, bytes)
        else (body if isinstance(body, str) else json.dumps(body)).encode()
    )
    assert bytes(raw.payload) == sent
    assert not Message.objects.exists()


def test_it_refuses_an_oversized_post_with_413(api):
    big = json.dumps(_payload(text="x" * (1024 * 1024 + 10)))

    response = _post(api, big)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not RawInbound.objects.exists()


def test_it_refuses_a_post_declaring_a_huge_body_before_reading_it(api):
    response = api.generic(
        "POST",
        "/api/v1/messages/",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )

    assert response.status_code == 413


def test_it_serves_the_openapi_schema(api):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    assert b"openapi:" in response.content
    assert b"/api/v1/tickets/" in response.content
