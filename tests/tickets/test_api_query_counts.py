import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import TeamFactory, TicketFactory
from tickets.integrations.tokens import api_token_create
from tickets.models import Tag

pytestmark = pytest.mark.django_db


def _tickets(n, team, agent):
    tag, _ = Tag.objects.get_or_create(name="vip")
    for _ in range(n):
        TicketFactory(team=team, assignee=agent).tags.add(tag)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.json()


def test_the_api_ticket_list_costs_the_same_queries_for_3_or_40_tickets(
    agent, django_assert_max_num_queries
):
    new = api_token_create(owner=agent, name="CRM", scopes=["tickets:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new.secret}")
    team = TeamFactory()
    _tickets(3, team, agent)
    client.get("/api/v1/tickets/")  # the token's last use is written on the first call
    few, few_page = _count(client, "/api/v1/tickets/?limit=50")
    _tickets(37, team, agent)
    many, many_page = _count(client, "/api/v1/tickets/?limit=50")

    assert len(few_page["results"]) == 3 and len(many_page["results"]) == 40
    assert many == few
    assert many_page["results"][0]["tags"] == ["vip"] and many_page["results"][0]["team"]
    with django_assert_max_num_queries(few):
        client.get(f"/api/v1/tickets/?limit=20&tag=vip&team={team.pk}")
