"""Every page a person opens, rendered on the demo data: on PostgreSQL in `make pytest` and
on the embedded default (SQLite) in `make pytest-embedded`. A construct one database lacks
in a page's path (a function, a cast, an operator) fails here, not a user."""

from io import StringIO
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from knowledge_base.models import Article, ArticleStatus, Category
from tickets.demo import demo_reset
from tickets.models import Channel, IdentityKind, Status, Ticket
from tickets.portal.tokens import portal_link_url, rating_link_url

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The demo, loaded once: each test still runs in its own transaction on top of it."""
    with django_db_blocker.unblock(), override_settings(DEBUG=True, CHANNEL_LAYERS=IN_MEMORY):
        call_command("seed_demo", "--if-empty", stdout=StringIO())
        yield
        demo_reset()


@pytest.fixture
def as_user(demo: Any, settings: Any) -> Any:
    settings.CHANNEL_LAYERS = IN_MEMORY

    def login(username: str) -> Client:
        client = Client(raise_request_exception=True)
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return login


def _ok(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content.decode() if not response.streaming else ""


def test_it_renders_every_queue_view_sort_and_search_for_an_agent(as_user):
    agent = as_user("agent")
    views = ("unassigned", "mine", "teams", "open", "pending", "on_hold", "solved", "at_risk")
    for view in views:
        for sort in ("updated", "priority", "created", "sla"):
            _ok(agent, f"/agent/?view={view}&sort={sort}")
    number = Ticket.objects.order_by("id").first().number
    email = (
        Ticket.objects.filter(customer__identities__kind=IdentityKind.EMAIL)
        .values_list("customer__identities__value", flat=True)
        .first()
    )
    for query in ("refund", "password reset", f"#{number}", email, "+4915", "zzzznothing"):
        _ok(agent, f"/agent/?view=all&q={query}")
    filters = "status=open&status=pending&priority=high&channel=email&assignee=none&tag=vip"
    _ok(agent, f"/agent/?view=all&{filters}&created_after=2020-01-01&created_before=2030-01-01")
    counts = _ok(agent, "/agent/counts/")
    assert "Unassigned" in counts


def test_it_renders_the_ticket_page_of_every_channel_and_status(as_user):
    agent = as_user("agent")
    seen: set[tuple[str, str]] = set()
    for ticket in Ticket.objects.order_by("id"):
        key = (ticket.channel, ticket.status)
        if key in seen:
            continue
        seen.add(key)
        page = _ok(agent, f"/agent/tickets/{ticket.number}/")
        assert f"#{ticket.number}" in page
        _ok(agent, f"/agent/tickets/{ticket.number}/timeline/?since=2020-01-01T00:00:00Z")
        _ok(agent, f"/agent/tickets/{ticket.number}/header/")
    channels = {channel for channel, _ in seen}
    assert {Channel.EMAIL, Channel.SMS, Channel.CHAT, Channel.WEB} <= channels
    assert {Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED} <= {s for _, s in seen}


def test_it_renders_the_agents_other_pages(as_user):
    agent = as_user("agent")
    _ok(agent, "/agent/macros/")
    _ok(agent, "/agent/kb/search/?q=password")
    ticket = Ticket.objects.order_by("id").first()
    _ok(agent, f"/agent/tickets/{ticket.number}/merge/?q=order")
    admin_client = as_user("admin")
    _ok(admin_client, "/agent/reports/sla/")
    _ok(admin_client, "/agent/reports/sla/?start=2020-01-01&end=2030-01-01")
    assert admin_client.get("/agent/reports/sla/?format=csv").status_code == 200


def test_it_renders_every_admin_list_and_change_page(as_user):
    root = as_user("admin")
    _ok(root, "/admin/")
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        if not model_admin.has_view_permission(_request_for(root)):
            continue
        _ok(root, reverse("admin:{}_{}_changelist".format(*info)))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            _ok(root, reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
        if model_admin.has_add_permission(_request_for(root)):
            _ok(root, reverse("admin:{}_{}_add".format(*info)))


def _request_for(client: Client) -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    return request


def test_it_renders_the_customer_pages_on_the_demo(demo, client):
    for url in ("/", "/kb/", "/kb/search/?q=password", "/kb/search/?q=pasword", "/support/new/"):
        _ok(client, url)
    _ok(client, "/support/suggest/?subject=reset+my+password")
    category = Category.objects.order_by("id").first()
    _ok(client, f"/kb/category/{category.slug}/")
    article = Article.objects.filter(status=ArticleStatus.PUBLISHED).order_by("id").first()
    _ok(client, f"/kb/article/{article.slug}/")
    _ok(client, "/portal/")


def test_it_renders_the_portal_of_a_demo_customer_through_the_magic_link(demo, client):
    ticket = (
        Ticket.objects.filter(status=Status.SOLVED, customer__identities__kind=IdentityKind.EMAIL)
        .select_related("customer")
        .order_by("id")
        .first()
    )
    email = ticket.customer.identities.filter(kind=IdentityKind.EMAIL).first().value
    link = portal_link_url(customer_id=ticket.customer_id, email=email)
    path = "/" + link.split("/", 3)[3]

    assert client.get(path).status_code == 200  # "Continue as …"
    response = client.post(path, follow=True)

    assert response.status_code == 200
    listing = _ok(client, "/portal/tickets/")
    assert f"#{ticket.number}" in listing
    _ok(client, f"/portal/tickets/{ticket.number}/")
    rate = rating_link_url(ticket_id=ticket.pk, customer_id=ticket.customer_id)
    _ok(client, "/" + rate.split("/", 3)[3])
