"""Every /agent/ page: anonymous users go to the login page, non-agents get 403."""

from typing import Any

import pytest
from django.test import Client

from tests.factories import CustomerFactory
from tickets.models import Macro

pytestmark = pytest.mark.django_db


def _urls(number: int, customer_id: int, macro_id: int) -> list[tuple[str, str]]:
    t = f"/agent/tickets/{number}"
    c = f"/agent/customers/{customer_id}"
    return [
        ("get", "/agent/"),
        ("get", "/agent/counts/"),
        ("post", "/agent/bulk/"),
        ("get", "/agent/kb/search/?q=x"),
        ("get", f"{t}/"),
        ("get", f"{t}/timeline/"),
        ("get", f"{t}/header/"),
        ("post", f"{t}/reply/"),
        ("post", f"{t}/update/"),
        ("get", f"{t}/merge/"),
        ("post", f"{t}/merge/"),
        ("get", f"{t}/macros/{macro_id}/"),
        ("post", f"{c}/edit/"),
        ("post", f"{c}/identities/"),
        ("get", f"{c}/merge/"),
        ("post", f"{c}/merge/"),
        ("get", "/agent/attachments/1/"),
        ("get", "/agent/macros/"),
        ("post", "/agent/macros/"),
        ("post", f"/agent/macros/{macro_id}/delete/"),
    ]


@pytest.fixture
def targets(make_ticket: Any) -> list[tuple[str, str]]:
    ticket = make_ticket()
    macro = Macro.objects.create(name="Hi", body="Hi")
    return _urls(ticket.number, ticket.customer_id, macro.pk)


def test_it_redirects_anonymous_users_to_the_agent_login(targets: Any) -> None:
    client = Client()
    for method, url in targets:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/agent/login/?next="), url


def test_it_refuses_signed_in_non_agents_with_403(targets: Any, plain_user: Any) -> None:
    client = Client()
    client.force_login(plain_user)
    for method, url in targets:
        assert getattr(client, method)(url).status_code == 403, url


def test_it_changes_nothing_when_a_non_agent_posts(make_ticket: Any, plain_user: Any) -> None:
    ticket = make_ticket()
    client = Client()
    client.force_login(plain_user)
    client.post(f"/agent/tickets/{ticket.number}/update/", {"field": "status", "value": "solved"})
    client.post(f"/agent/tickets/{ticket.number}/reply/", {"kind": "note", "body": "x"})
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert ticket.messages.count() == 1


def test_it_logs_an_agent_in_and_out(agent: Any) -> None:
    client = Client()
    page = client.get("/agent/login/")
    assert page.status_code == 200
    assert b"Agent login" in page.content
    response = client.post(
        "/agent/login/", {"username": "alex", "password": "pw", "next": "/agent/?view=mine"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/agent/?view=mine"
    assert client.get("/agent/").status_code == 200
    assert client.post("/agent/logout/").status_code == 302
    assert client.get("/agent/").status_code == 302


def test_it_explains_a_failed_login(agent: Any) -> None:
    response = Client().post("/agent/login/", {"username": "alex", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_it_lets_admins_in(admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)
    assert client.get("/agent/").status_code == 200


def test_it_keeps_customers_out_of_other_records(agent_client: Client) -> None:
    customer = CustomerFactory()
    response = agent_client.post(f"/agent/customers/{customer.pk + 999}/edit/", {"name": "x"})
    assert response.status_code == 404
