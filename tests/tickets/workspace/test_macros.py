"""Macro rendering: placeholders work, nothing else does."""

from typing import Any

import pytest

from tickets.errors import TicketError
from tickets.models import Macro
from tickets.workspace.macros import macro_render, macro_render_text

pytestmark = pytest.mark.django_db


def _render(body: str, make_ticket: Any, agent: Any) -> str:
    ticket = make_ticket(subject="Broken lamp")
    return macro_render(macro=Macro(name="m", body=body), ticket=ticket, agent=agent)


def test_it_fills_in_placeholders(make_ticket: Any, agent: Any) -> None:
    text = _render(
        "Hi {{ customer.first_name }}, about #{{ ticket.number }} ({{ ticket.subject }}) "
        "<{{ customer.email }}>. {{ agent.first_name }}",
        make_ticket,
        agent,
    )
    assert text.startswith("Hi Dana, about #")
    assert "(Broken lamp) <dana@example.com>. Alex" in text


def test_it_leaves_values_unescaped_for_plain_text(agent: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    ticket.customer.name = "O'Brien & <Sons>"
    text = macro_render(
        macro=Macro(name="m", body="{{ customer.name }}"), ticket=ticket, agent=agent
    )
    assert text == "O'Brien & <Sons>"


@pytest.mark.parametrize(
    "body",
    [
        "{% load log %}{% get_admin_log 10 as log %}{{ log }}",
        "{% debug %}",
        "{% include 'base.html' %}",
        "{% extends 'base.html' %}",
        "{% csrf_token %}",
        "{% now 'Y' %}",
    ],
)
def test_it_refuses_template_tags(body: str) -> None:
    with pytest.raises(TicketError) as err:
        macro_render_text(body=body, context={})
    assert "placeholders" in err.value.message


@pytest.mark.parametrize(
    "body",
    [
        "{{ settings.SECRET_KEY }}",
        "{{ ticket.customer.identities }}",
        "{{ request.user.password }}",
        "{{ agent.password }}",
    ],
)
def test_it_renders_anything_outside_the_whitelist_as_nothing(
    body: str, make_ticket: Any, agent: Any
) -> None:
    assert _render(body, make_ticket, agent) == ""


@pytest.mark.parametrize("body", ["{{ customer.__class__ }}", "{{ agent.name.__class__.__mro__ }}"])
def test_it_refuses_dunder_traversal(body: str) -> None:
    with pytest.raises(TicketError):
        macro_render_text(body=body, context={"customer": {}, "agent": {"name": "x"}})


def test_it_explains_a_broken_placeholder() -> None:
    with pytest.raises(TicketError) as err:
        macro_render_text(body="{{ customer.name|nosuchfilter }}", context={})
    assert "broken placeholder" in err.value.message


def test_it_serves_a_rendered_macro_to_its_owner_only(
    agent_client: Any, make_ticket: Any, agent: Any, other_agent: Any
) -> None:
    ticket = make_ticket()
    mine = Macro.objects.create(name="Mine", body="Hi {{ customer.first_name }}", owner=agent)
    theirs = Macro.objects.create(name="Theirs", body="x", owner=other_agent)
    ok = agent_client.get(f"/agent/tickets/{ticket.number}/macros/{mine.pk}/")
    assert ok.json() == {"macro": mine.pk, "body": "Hi Dana", "changes": []}
    assert (
        agent_client.get(f"/agent/tickets/{ticket.number}/macros/{theirs.pk}/").status_code == 404
    )
    page = agent_client.get(f"/agent/tickets/{ticket.number}/")
    assert b"Mine" in page.content and b"Theirs" not in page.content


def test_it_prefills_the_composer_without_javascript(agent_client: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    macro = Macro.objects.create(name="Greet", body="Hello {{ customer.name }}")
    page = agent_client.get(f"/agent/tickets/{ticket.number}/?macro={macro.pk}")
    assert "Hello Dana Customer</textarea>" in page.content.decode()


def test_it_reports_a_bad_macro_in_the_json_endpoint(agent_client: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    macro = Macro.objects.create(name="Bad", body="{% debug %}")
    response = agent_client.get(f"/agent/tickets/{ticket.number}/macros/{macro.pk}/")
    assert response.status_code == 400
    assert "template tags" in response.json()["error"]


def test_it_lets_an_agent_keep_personal_macros(agent_client: Any, agent: Any) -> None:
    response = agent_client.post(
        "/agent/macros/",
        {"name": "Thanks", "body": "Thanks {{ customer.first_name }}!", "set_status": "solved"},
    )
    assert response.status_code == 302
    macro = Macro.objects.get()
    assert (macro.owner, macro.set_status) == (agent, "solved")
    refused = agent_client.post("/agent/macros/", {"name": "Bad", "body": "{% debug %}"})
    assert refused.status_code == 400
    assert "not template tags" in refused.content.decode()
    shared = agent_client.post("/agent/macros/", {"name": "All", "body": "x", "shared": "on"})
    assert "Your role cannot create shared macros" in shared.content.decode()
    assert Macro.objects.count() == 1
    agent_client.post(f"/agent/macros/{macro.pk}/delete/")
    assert not Macro.objects.exists()


def test_it_keeps_agents_from_deleting_shared_macros(agent_client: Any) -> None:
    macro = Macro.objects.create(name="Shared", body="x")
    response = agent_client.post(f"/agent/macros/{macro.pk}/delete/", follow=True)
    assert "Your role cannot delete shared macros." in response.content.decode()
    assert Macro.objects.filter(pk=macro.pk).exists()
