"""`tickets.manage_macros` (docs/access.md): shared macros are created and deleted by the
roles that manage them (Leads, admins); every agent keeps personal ones."""

from typing import Any

import pytest
from django.test import Client

from tickets.models import Macro

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_agent_cannot_create_a_shared_macro(agent: Any) -> None:
    response = _client(agent).post("/agent/macros/", {"name": "All", "body": "x", "shared": "on"})
    assert response.status_code == 400
    assert "Your role cannot create shared macros" in response.content.decode()
    assert not Macro.objects.filter(name="All").exists()


def test_a_lead_creates_a_shared_macro(lead: Any) -> None:
    response = _client(lead).post("/agent/macros/", {"name": "All", "body": "x", "shared": "on"})
    assert response.status_code == 302
    assert Macro.objects.get(name="All").owner_id is None


def test_the_shared_box_is_offered_only_to_roles_that_manage_shared_macros(
    agent: Any, lead: Any
) -> None:
    assert 'name="shared"' not in _client(agent).get("/agent/macros/").content.decode()
    assert 'name="shared"' in _client(lead).get("/agent/macros/").content.decode()


def test_an_agent_cannot_delete_a_shared_macro_and_sees_no_button(agent: Any) -> None:
    macro = Macro.objects.create(name="Shared", body="x")
    client = _client(agent)
    assert f"/agent/macros/{macro.pk}/delete/" not in client.get("/agent/macros/").content.decode()
    response = client.post(f"/agent/macros/{macro.pk}/delete/", follow=True)
    assert "Your role cannot delete shared macros." in response.content.decode()
    assert Macro.objects.filter(pk=macro.pk).exists()


def test_a_lead_deletes_a_shared_macro(lead: Any) -> None:
    macro = Macro.objects.create(name="Shared", body="x")
    client = _client(lead)
    assert f"/agent/macros/{macro.pk}/delete/" in client.get("/agent/macros/").content.decode()
    client.post(f"/agent/macros/{macro.pk}/delete/")
    assert not Macro.objects.filter(pk=macro.pk).exists()


def test_an_agent_still_deletes_their_own_macro_but_not_a_colleagues(
    agent: Any, other_agent: Any
) -> None:
    mine = Macro.objects.create(name="Mine", body="x", owner=agent)
    theirs = Macro.objects.create(name="Theirs", body="x", owner=other_agent)
    client = _client(agent)
    client.post(f"/agent/macros/{mine.pk}/delete/")
    response = client.post(f"/agent/macros/{theirs.pk}/delete/", follow=True)
    assert not Macro.objects.filter(pk=mine.pk).exists()
    assert Macro.objects.filter(pk=theirs.pk).exists()
    assert "That macro no longer exists." in response.content.decode()
