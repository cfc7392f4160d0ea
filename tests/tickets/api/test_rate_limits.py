"""HELPDESK_API_RATE_LIMIT per token: RateLimit-* headers on every answer, 429 over it."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit_of_3(settings):
    settings.HELPDESK_API_RATE_LIMIT = 3
    cache.clear()  # this test's Redis database: no counts of an earlier test
    yield
    cache.clear()


def test_every_answer_says_how_much_is_left_and_the_fourth_is_429(agent, token_client):
    client = token_client(agent, "tickets:read")

    answers = [client.get("/api/v1/tickets/") for _ in range(4)]

    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r["RateLimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
    assert {r["RateLimit-Limit"] for r in answers} == {"3"}
    assert all(0 < int(r["RateLimit-Reset"]) <= 61 for r in answers)
    over = answers[3]
    assert over.json()["error"]["code"] == "rate_limited"
    assert "3 requests a minute" in over.json()["error"]["message"]
    assert 0 < int(over["Retry-After"]) <= 61


def test_each_token_has_its_own_budget(agent, token_client):
    first, second = token_client(agent, "tickets:read"), token_client(agent, "tickets:read")
    for _ in range(3):
        first.get("/api/v1/tickets/")

    assert first.get("/api/v1/tickets/").status_code == 429
    assert second.get("/api/v1/tickets/").status_code == 200


def test_refused_credentials_count_against_the_address():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer hd_live_0000_guess")

    answers = [client.get("/api/v1/tickets/").status_code for _ in range(4)]

    assert answers == [401, 401, 401, 429]


def test_a_throttled_post_creates_nothing(agent, token_client):
    from tickets.models import Ticket

    client = token_client(agent, "tickets:read", "tickets:write")
    for _ in range(3):
        client.get("/api/v1/tickets/")

    response = client.post(
        "/api/v1/tickets/",
        {"customer": {"email": "k@example.com"}, "subject": "S", "text": "T"},
        format="json",
    )

    assert response.status_code == 429 and not Ticket.objects.exists()
