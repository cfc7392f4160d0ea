"""Clients for the API: a bearer token of a given owner and scopes, and a team-scoped
agent with a ticket and customer of their team and of another team."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import AgentFactory, IdentityFactory, TeamFactory, TicketFactory
from tickets.integrations.tokens import api_token_create
from tickets.models import AgentPreference, IdentityKind, TicketScope


@pytest.fixture
def token_client() -> Any:
    def make(owner: Any, *scopes: str) -> APIClient:
        new = api_token_create(owner=owner, name="integration", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {new.secret}")
        return client

    return make


@pytest.fixture
def teams(db: None) -> dict[str, Any]:
    """Rita sees her team's tickets only; `theirs` is another team's ticket and customer."""
    ours, others = TeamFactory(name="Ours"), TeamFactory(name="Theirs")
    rita = AgentFactory(username="rita")
    ours.members.add(rita)
    AgentPreference.objects.create(user=rita, ticket_scope=TicketScope.TEAMS)
    mine = TicketFactory(team=ours, subject="Printer jam")
    theirs = TicketFactory(team=others, subject="Hidden printer jam")
    IdentityFactory(customer=mine.customer, kind=IdentityKind.EMAIL, value="mine@example.com")
    IdentityFactory(customer=theirs.customer, kind=IdentityKind.EMAIL, value="theirs@example.com")
    return {"rita": rita, "ours": ours, "others": others, "mine": mine, "theirs": theirs}
