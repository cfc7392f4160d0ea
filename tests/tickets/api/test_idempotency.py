"""`Idempotency-Key` on POST: the first answer replayed for 24 h, nothing created twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tickets.integrations.idempotency import idempotency_purge
from tickets.integrations.models import IdempotencyKey
from tickets.integrations.tokens import api_token_create
from tickets.models import Customer, Message, Ticket

pytestmark = pytest.mark.django_db

NEW_TICKET = {
    "customer": {"email": "kim@example.com", "name": "Kim"},
    "subject": "Broken lamp",
    "text": "The shade arrived cracked.",
}


@pytest.fixture
def writer(agent, token_client):
    return token_client(agent, "tickets:read", "tickets:write", "customers:write")


def _post(client, body, key, path="/api/v1/tickets/"):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_replay_answers_the_first_response_and_creates_nothing(writer):
    first = _post(writer, NEW_TICKET, "order-77")
    # The same body, its keys in another order: the same request.
    again = _post(writer, dict(reversed(NEW_TICKET.items())), "order-77")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Ticket.objects.count() == 1 and Customer.objects.count() == 1


def test_the_same_key_with_another_body_is_422(writer):
    _post(writer, NEW_TICKET, "order-77")

    response = _post(writer, {**NEW_TICKET, "subject": "Another"}, "order-77")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["Broken lamp"]


def test_the_same_key_on_another_endpoint_is_422(writer):
    ticket = Ticket.objects.get(number=_post(writer, NEW_TICKET, "k1").json()["number"])

    response = _post(
        writer, {"body_text": "Hello"}, "k1", path=f"/api/v1/tickets/{ticket.number}/replies/"
    )

    assert response.status_code == 422
    assert not Message.objects.filter(ticket=ticket, body_text="Hello").exists()


def test_keys_are_per_token(agent, writer, token_client):
    other = token_client(agent, "tickets:read", "tickets:write")

    _post(writer, NEW_TICKET, "shared-key")
    response = _post(other, {**NEW_TICKET, "subject": "Theirs"}, "shared-key")

    assert response.status_code == 201 and Ticket.objects.count() == 2


def test_a_refusal_is_replayed_too_and_a_new_key_tries_again(writer):
    bad = {**NEW_TICKET, "channel": "fax"}

    first = _post(writer, bad, "try-1")
    again = _post(writer, bad, "try-1")

    assert first.status_code == again.status_code == 400 and again.json() == first.json()
    assert _post(writer, NEW_TICKET, "try-2").status_code == 201


def test_without_a_key_each_post_creates(writer):
    writer.post("/api/v1/tickets/", NEW_TICKET, format="json")
    writer.post("/api/v1/tickets/", NEW_TICKET, format="json")

    assert Ticket.objects.count() == 2


def test_an_overlong_key_is_400(writer):
    response = _post(writer, NEW_TICKET, "k" * 256)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Ticket.objects.exists()


def test_a_request_still_running_makes_its_twin_409_until_it_is_abandoned(writer):
    _post(writer, NEW_TICKET, "busy")
    # As if the first request were still at work: its answer not stored yet.
    IdempotencyKey.objects.update(status_code=None, response_body=b"")

    twin = _post(writer, NEW_TICKET, "busy")

    assert twin.status_code == 409
    assert twin.json()["error"]["code"] == "idempotency_in_progress"
    assert Ticket.objects.count() == 1
    # A claim open for longer than any request runs was left by a process that died.
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    assert _post(writer, NEW_TICKET, "busy").status_code == 201


def test_a_key_past_24_hours_is_free_again_and_purged(writer):
    _post(writer, NEW_TICKET, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    response = _post(writer, {**NEW_TICKET, "subject": "Next day"}, "old")

    assert response.status_code == 201 and Ticket.objects.count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_purge(now=timezone.now()) == 1 and not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_create_one_ticket(agent):
    secret = api_token_create(owner=agent, name="race", scopes=["tickets:write"]).secret
    answers: list[int] = []
    start = threading.Barrier(2)

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        start.wait()
        try:
            answers.append(_post(client, NEW_TICKET, "race").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # One did the work; the other got its answer replayed, or was told to retry (409).
    assert sorted(answers) in ([201, 201], [201, 409])
    assert Ticket.objects.count() == 1


def test_a_multipart_reply_with_files_replays_by_content(writer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    number = _post(writer, NEW_TICKET, "t").json()["number"]

    def reply(content):
        upload = SimpleUploadedFile("label.txt", content, content_type="text/plain")
        return writer.post(
            f"/api/v1/tickets/{number}/replies/",
            {"body_text": "The label", "attachments": [upload]},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="reply-1",
        )

    first, again, other = reply(b"label one"), reply(b"label one"), reply(b"label two")

    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert other.status_code == 422
    assert Message.objects.filter(ticket__number=number, body_text="The label").count() == 1


def test_an_oversized_upload_is_refused_before_its_body_is_hashed(writer, settings):
    settings.HELPDESK_WEB_MAX_FILES, settings.HELPDESK_WEB_MAX_FILE_BYTES = 1, 1000
    number = _post(writer, NEW_TICKET, "t").json()["number"]

    response = writer.post(
        f"/api/v1/tickets/{number}/replies/",
        data=b"x",
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
        HTTP_IDEMPOTENCY_KEY="big",
    )

    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_big"
    assert not IdempotencyKey.objects.filter(key="big").exists()


def test_the_daily_purge_is_scheduled_under_the_tasks_name():
    import importlib

    from helpdesk.setup import PERIODIC_TASKS

    task, every = PERIODIC_TASKS["Purge API idempotency keys"]
    module, _, name = task.rpartition(".")

    assert every == 86400 and getattr(importlib.import_module(module), name).name == task


def test_an_erasure_drops_the_stored_answers_that_name_the_person(token_client):
    from tests.factories import AdminFactory

    admin = token_client(
        AdminFactory(), "tickets:read", "tickets:write", "customers:read", "customers:write"
    )
    ticket = _post(admin, NEW_TICKET, "ticket-for-kim").json()
    kim = Ticket.objects.get(number=ticket["number"]).customer
    _post(admin, {"kind": "phone", "value": "+14155550100"}, "kims-phone",
          path=f"/api/v1/customers/{kim.pk}/identities/")  # fmt: skip
    _post(admin, {**NEW_TICKET, "customer": {"email": "lee@example.com", "name": "Lee"}}, "lee")

    assert admin.post(f"/api/v1/customers/{kim.pk}/erase/").status_code == 200

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["lee"]
