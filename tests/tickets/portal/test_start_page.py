"""The start page at `/`: what `make run` prints as the address."""

import pytest

from knowledge_base.models import Article, ArticleStatus, Category
from tests.factories import AgentFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_it_shows_the_help_centre_and_contact_us_to_a_visitor(client):
    category = Category.objects.create(name="Orders", slug="orders", description="Tracking")
    Article.objects.create(
        title="Where is my parcel?",
        slug="parcel",
        body="Track it.",
        status=ArticleStatus.PUBLISHED,
        category=category,
    )
    Article.objects.create(
        title="Unpublished draft",
        slug="draft",
        body="x",
        status=ArticleStatus.DRAFT,
        category=category,
    )

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/support/new/"' in page and "Contact us" in page
    assert 'href="/portal/"' in page
    assert "Orders" in page and "Where is my parcel?" in page
    assert "Unpublished draft" not in page
    assert 'href="/agent/login/"' in page  # the discreet staff sign-in
    assert 'action="/kb/search/"' in page


def test_it_sends_a_signed_in_agent_to_the_workspace(client):
    client.force_login(AgentFactory())

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/agent/"


def test_it_shows_the_customer_page_to_a_signed_in_user_who_is_no_agent(client):
    client.force_login(UserFactory())

    response = client.get("/")

    assert response.status_code == 200
    assert "Contact us" in response.content.decode()


def test_it_refuses_a_post_to_the_start_page(client):
    assert client.post("/").status_code == 405
