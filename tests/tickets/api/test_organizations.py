"""GET/POST /api/v1/organizations/, GET/PATCH /api/v1/organizations/<id>/."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AdminFactory, CustomerFactory
from tickets.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_writer(token_client):
    return token_client(AdminFactory(), "customers:read", "customers:write")


def test_it_lists_organizations_newest_first_with_their_customers(agent, token_client):
    acme = Organization.objects.create(name="Acme", domain="acme.example")
    globex = Organization.objects.create(name="Globex")
    CustomerFactory(organization=acme)
    CustomerFactory(organization=acme)

    body = token_client(agent, "customers:read").get("/api/v1/organizations/").json()

    assert [(o["name"], o["customers"]) for o in body["results"]] == [("Globex", 0), ("Acme", 2)]
    assert body["results"][1]["domain"] == "acme.example" and body["next_cursor"] is None
    assert globex.pk == body["results"][0]["id"]


def test_it_pages_and_finds_by_name(agent, token_client):
    reader = token_client(agent, "customers:read")
    made = [Organization.objects.create(name=f"Org {i}") for i in range(3)]

    first = reader.get("/api/v1/organizations/", {"limit": 2}).json()
    second = reader.get("/api/v1/organizations/", {"limit": 2, "cursor": first["next_cursor"]})
    found = reader.get("/api/v1/organizations/", {"q": "org 1"}).json()

    assert [o["id"] for o in first["results"] + second.json()["results"]] == [
        m.pk for m in reversed(made)
    ]
    assert second.json()["next_cursor"] is None
    assert [o["name"] for o in found["results"]] == ["Org 1"]


def test_the_list_costs_the_same_queries_for_2_or_20(agent, token_client):
    reader = token_client(agent, "customers:read")
    for i in range(2):
        CustomerFactory(organization=Organization.objects.create(name=f"few {i}"))
    reader.get("/api/v1/organizations/")
    with CaptureQueriesContext(connection) as few:
        reader.get("/api/v1/organizations/")
    for i in range(18):
        CustomerFactory(organization=Organization.objects.create(name=f"many {i}"))

    with CaptureQueriesContext(connection) as many:
        body = reader.get("/api/v1/organizations/").json()

    assert len(body["results"]) == 20 and len(many) == len(few)


@pytest.mark.parametrize("params", [{"cursor": "bm9wZQ"}, {"nmae": "x"}, {"limit": "0"}])
def test_a_bad_parameter_is_400(agent, token_client, params):
    response = token_client(agent, "customers:read").get("/api/v1/organizations/", params)

    assert response.status_code == 400
    assert set(params) <= set(response.json()["error"]["fields"])


def test_an_admin_creates_reads_and_changes_one(admin_writer):
    made = admin_writer.post(
        "/api/v1/organizations/", {"name": "Acme", "domain": "@Acme.Example"}, format="json"
    )
    assert made.status_code == 201, made.json()
    org_id = made.json()["id"]

    changed = admin_writer.patch(
        f"/api/v1/organizations/{org_id}/", {"notes": "Enterprise"}, format="json"
    )
    read = admin_writer.get(f"/api/v1/organizations/{org_id}/")

    assert changed.status_code == 200
    assert (read.json()["name"], read.json()["domain"], read.json()["notes"]) == (
        "Acme", "acme.example", "Enterprise",
    )  # fmt: skip


@pytest.mark.parametrize(
    "body,code",
    [({"name": "ACME"}, "organization_taken"), ({"name": "  "}, "invalid"),
     ({"name": "New", "domain": "not a domain"}, "invalid_organization")],
)  # fmt: skip
def test_bad_input_is_400_and_creates_nothing(admin_writer, body, code):
    Organization.objects.create(name="Acme")

    response = admin_writer.post("/api/v1/organizations/", body, format="json")

    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert Organization.objects.count() == 1


def test_an_agent_reads_but_may_not_write_organizations(agent, token_client):
    acme = Organization.objects.create(name="Acme")
    client = token_client(agent, "customers:read", "customers:write")

    made = client.post("/api/v1/organizations/", {"name": "Mine"}, format="json")
    changed = client.patch(f"/api/v1/organizations/{acme.pk}/", {"name": "X"}, format="json")

    assert made.status_code == 403 and made.json()["error"]["code"] == "permission_denied"
    assert changed.status_code == 403
    assert list(Organization.objects.values_list("name", flat=True)) == ["Acme"]
    assert client.get(f"/api/v1/organizations/{acme.pk}/").status_code == 200
    assert client.get("/api/v1/organizations/999999/").status_code == 404
