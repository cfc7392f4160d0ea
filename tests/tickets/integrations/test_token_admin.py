import re

import pytest
from rest_framework.test import APIClient

from tickets.integrations.models import ApiToken
from tickets.integrations.tokens import api_token_create

pytestmark = pytest.mark.django_db

ADD = "/admin/integrations/apitoken/add/"


def test_the_admin_shows_a_new_secret_once_and_never_again(admin_client, agent):
    response = admin_client.post(
        ADD,
        {"name": "Shop", "owner": agent.pk, "scopes": ["tickets:read", "kb:read"]},
        follow=True,
    )
    token = ApiToken.objects.get()
    page = response.content.decode()
    secret = re.search(r"hd_live_[0-9a-f]{12}_[\w-]{43}", page).group(0)
    change = admin_client.get(f"/admin/integrations/apitoken/{token.pk}/change/").content.decode()
    listing = admin_client.get("/admin/integrations/apitoken/").content.decode()

    assert secret.startswith(token.prefix)
    assert token.scopes == ["kb:read", "tickets:read"] and token.created_by.username == "root"
    secret_part = secret.split("_", 3)[3]
    for later in (change, listing):
        assert token.prefix in later
        assert secret_part not in later and token.secret_hash not in later
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert bearer.get("/api/v1/tickets/").status_code == 200


def test_the_admin_refuses_a_non_agent_owner(admin_client, django_user_model):
    plain = django_user_model.objects.create_user("plain")
    response = admin_client.post(ADD, {"name": "x", "owner": plain.pk, "scopes": ["kb:read"]})

    assert response.status_code == 200
    assert "pick an agent" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_revoke_action_ends_a_token(admin_client, agent):
    new = api_token_create(owner=agent, name="CRM", scopes=["tickets:read"])

    admin_client.post(
        "/admin/integrations/apitoken/",
        {"action": "revoke", "_selected_action": [new.token.pk]},
        follow=True,
    )
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {new.secret}")
    response = bearer.get("/api/v1/tickets/")

    assert ApiToken.objects.get().revoked_at is not None
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_revoked"
