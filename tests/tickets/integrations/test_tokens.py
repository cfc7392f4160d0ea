import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from tests.factories import TicketFactory, UserFactory
from tickets.integrations.models import ApiToken
from tickets.integrations.tokens import TokenError, api_token_create
from tickets.models import EventKind, Status, TicketEvent

pytestmark = pytest.mark.django_db

ALL_TICKETS = ["tickets:read", "tickets:write"]


def _client(secret: str, **extra: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}", **extra)
    return client


def test_the_command_prints_a_secret_once_and_stores_only_its_hash(agent):
    out = StringIO()
    call_command(
        "api_token_create", "--user", "alex", "--name", "CRM", "--scopes", "tickets:read",
        "--expires-days", "30", stdout=out,
    )  # fmt: skip
    secret = out.getvalue().strip()
    token = ApiToken.objects.get()

    assert secret.startswith(f"hd_live_{token.key_id}_") and len(secret) > 50
    assert token.owner == agent and token.name == "CRM" and token.scopes == ["tickets:read"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    raw_secret = secret.split("_", 3)[3]
    assert token.secret_hash == hashlib.sha256(raw_secret.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list().get()]
    assert not any(raw_secret in value for value in stored)
    assert _client(secret).get("/api/v1/tickets/").status_code == 200


@pytest.mark.parametrize(
    "args,message",
    [
        (["--user", "nobody", "--name", "x", "--scopes", "tickets:read"], "No user 'nobody'"),
        (["--user", "alex", "--name", "x", "--scopes", "tickets:read,tickets:destroy"],
         "Unknown scope tickets:destroy"),
        (["--user", "alex", "--name", "x", "--scopes", ","], "at least one scope"),
        (["--user", "alex", "--name", "x", "--scopes", "kb:read", "--expires-days", "0"],
         "at least 1"),
        (["--user", "plain", "--name", "x", "--scopes", "kb:read"], "not an agent"),
    ],
)  # fmt: skip
def test_the_command_refuses_bad_input_with_a_reason(agent, args, message):
    UserFactory(username="plain")
    with pytest.raises(CommandError, match=message):
        call_command("api_token_create", *args, stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_a_valid_token_acts_as_its_owner_and_records_its_last_use_once_a_minute(agent):
    new = api_token_create(owner=agent, name="CRM", scopes=ALL_TICKETS)
    client = _client(new.secret, REMOTE_ADDR="203.0.113.9")

    first = client.get("/api/v1/tickets/")
    token = ApiToken.objects.get()
    with CaptureQueriesContext(connection) as queries:
        second = client.get("/api/v1/tickets/")

    assert first.status_code == second.status_code == 200
    assert token.last_used_ip == "203.0.113.9"
    assert timezone.now() - token.last_used_at < timedelta(seconds=30)
    assert not [q for q in queries.captured_queries if "UPDATE" in q["sql"]]
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    client.get("/api/v1/tickets/")
    assert timezone.now() - ApiToken.objects.get().last_used_at < timedelta(seconds=30)


@pytest.mark.parametrize(
    "mangle,code",
    [
        (lambda s: s[:-2] + ("AA" if not s.endswith("AA") else "BB"), "token_invalid"),
        (lambda s: "hd_live_000000000000_" + s.split("_", 3)[3], "token_invalid"),
        (lambda s: "not-a-token", "token_invalid"),
        (lambda s: s + " extra", "token_invalid"),
    ],
)
def test_a_wrong_token_gets_401_in_the_error_shape(agent, mangle, code):
    new = api_token_create(owner=agent, name="CRM", scopes=ALL_TICKETS)
    response = _client(mangle(new.secret)).get("/api/v1/tickets/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_a_revoked_an_expired_or_a_deactivated_owners_token_gets_401(agent, other_agent):
    revoked = api_token_create(owner=agent, name="old", scopes=ALL_TICKETS)
    revoked.token.revoked_at = timezone.now()
    revoked.token.save()
    expired = api_token_create(
        owner=agent, name="temp", scopes=ALL_TICKETS, expires_at=timezone.now() - timedelta(1)
    )
    orphan = api_token_create(owner=other_agent, name="sam's", scopes=ALL_TICKETS)
    other_agent.is_active = False
    other_agent.save()

    answers = {
        name: _client(new.secret).get("/api/v1/tickets/")
        for name, new in [("revoked", revoked), ("expired", expired), ("orphan", orphan)]
    }

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 401)
    assert answers["revoked"].json()["error"]["code"] == "token_revoked"
    assert answers["expired"].json()["error"]["code"] == "token_expired"
    assert answers["orphan"].json()["error"]["code"] == "token_invalid"


def test_a_missing_scope_gets_403_naming_it(agent):
    reader = api_token_create(owner=agent, name="reader", scopes=["tickets:read"])
    kb_only = api_token_create(owner=agent, name="kb", scopes=["kb:read"])
    ticket = TicketFactory()

    reply = _client(reader.secret).post(
        f"/api/v1/tickets/{ticket.number}/replies/", {"body_text": "hi"}, format="json"
    )
    listing = _client(kb_only.secret).get("/api/v1/tickets/")

    assert reply.status_code == 403 and reply.json()["error"]["code"] == "missing_scope"
    assert "`tickets:write`" in reply.json()["error"]["message"]
    assert listing.status_code == 403 and "`tickets:read`" in listing.json()["error"]["message"]


class _NoScopesView(APIView):
    def get(self, request):
        return Response({"ok": True})


def test_a_view_naming_no_scope_refuses_tokens_but_not_sessions(agent):
    new = api_token_create(owner=agent, name="all", scopes=["tickets:read", "reports:read"])
    factory = APIRequestFactory()
    view = _NoScopesView.as_view()

    by_token = view(factory.get("/x", HTTP_AUTHORIZATION=f"Bearer {new.secret}"))
    session = factory.get("/x")
    force_authenticate(session, user=agent)

    assert by_token.status_code == 403
    assert by_token.data["error"]["code"] == "token_not_allowed"
    assert view(session).status_code == 200


def test_a_tokens_write_is_recorded_as_the_api_acting_for_its_owner(agent):
    new = api_token_create(owner=agent, name="CRM", scopes=ALL_TICKETS)
    ticket = TicketFactory(status=Status.OPEN)

    response = _client(new.secret).post(
        f"/api/v1/tickets/{ticket.number}/replies/",
        {"body_text": "Looking into it", "is_internal": True, "set_status": "pending"},
        format="json",
    )

    assert response.status_code == 201
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.STATUS)
    assert event.actor == agent
    assert event.data["via"] == "api" and event.data["api_token"] == new.token.pk


def test_session_callers_are_not_limited_by_scopes(agent):
    client = APIClient()
    client.force_login(agent)
    assert client.get("/api/v1/tickets/").status_code == 200


def test_a_token_cannot_be_made_for_a_non_agent(db):
    with pytest.raises(TokenError, match="not an agent"):
        api_token_create(owner=UserFactory(username="plain"), name="x", scopes=["kb:read"])
