"""Every endpoint of the v1 surface that does more than list-and-read answers the same
way to a missing, wrong, revoked or expired token (401) and to a missing scope (403)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import CustomerFactory, IdentityFactory, TeamFactory, TicketFactory
from tickets.integrations.tokens import api_token_create
from tickets.models import IdentityKind, Macro, Organization

pytestmark = pytest.mark.django_db

# (method, path with {customer} {identity} {organization} {ticket} {macro}, scope)
ENDPOINTS = [
    ("post", "/api/v1/customers/{customer}/identities/", "customers:write"),
    ("delete", "/api/v1/customers/{customer}/identities/{identity}/", "customers:write"),
    ("post", "/api/v1/customers/{customer}/merge/", "customers:write"),
    ("get", "/api/v1/customers/{customer}/export/", "customers:read"),
    ("post", "/api/v1/customers/{customer}/erase/", "customers:write"),
    ("get", "/api/v1/organizations/", "customers:read"),
    ("post", "/api/v1/organizations/", "customers:write"),
    ("get", "/api/v1/organizations/{organization}/", "customers:read"),
    ("patch", "/api/v1/organizations/{organization}/", "customers:write"),
    ("get", "/api/v1/tickets/{ticket}/timeline/", "tickets:read"),
    ("get", "/api/v1/users/", "tickets:read"),
    ("get", "/api/v1/users/{user}/", "tickets:read"),
    ("get", "/api/v1/teams/", "tickets:read"),
    ("get", "/api/v1/teams/{team}/", "tickets:read"),
    ("get", "/api/v1/macros/", "tickets:read"),
    ("post", "/api/v1/tickets/{ticket}/macros/{macro}/apply/", "tickets:write"),
]


@pytest.fixture
def world(agent):
    customer = CustomerFactory()
    identity = IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value="w@example.com")
    ticket = TicketFactory(customer=customer)
    return {
        "customer": customer.pk,
        "identity": identity.pk,
        "organization": Organization.objects.create(name="Acme").pk,
        "ticket": ticket.number,
        "macro": Macro.objects.create(name="Thanks", body="Thanks!").pk,
        "user": agent.pk,
        "team": TeamFactory().pk,
    }


def _client(secret=None):
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _call(client, method, path, world):
    return getattr(client, method)(path.format(**world), {}, format="json")


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_without_a_live_token_it_is_401(agent, world, method, path, scope):
    revoked = api_token_create(owner=agent, name="old", scopes=[scope])
    revoked.token.revoked_at = timezone.now()
    revoked.token.save()
    expired = api_token_create(
        owner=agent, name="temp", scopes=[scope], expires_at=timezone.now() - timedelta(1)
    )
    codes = {}
    for name, secret in [
        ("none", None),
        ("wrong", "hd_live_0000_nope"),
        ("revoked", revoked.secret),
        ("expired", expired.secret),
    ]:
        response = _call(_client(secret), method, path, world)
        assert response.status_code == 401, (name, response.content)
        codes[name] = response.json()["error"]["code"]

    assert codes == {
        "none": "not_authenticated", "wrong": "token_invalid", "revoked": "token_revoked",
        "expired": "token_expired",
    }  # fmt: skip


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_without_the_scope_it_is_403_naming_it(agent, world, method, path, scope):
    other = "kb:read" if not scope.startswith("kb") else "tickets:read"
    token = api_token_create(owner=agent, name="narrow", scopes=[other])

    response = _call(_client(token.secret), method, path, world)

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "missing_scope" and scope in error["message"]
