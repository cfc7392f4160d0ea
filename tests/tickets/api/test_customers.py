"""GET/POST /api/v1/customers/, GET/PATCH /api/v1/customers/<id>/."""

import pytest

from tests.factories import CustomerFactory, IdentityFactory, TicketFactory
from tickets.models import Channel, ContactIdentity, Customer, IdentityKind, Message, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(agent, token_client):
    return token_client(agent, "customers:read")


@pytest.fixture
def writer(agent, token_client):
    return token_client(agent, "customers:read", "customers:write")


def _customer(email, *, phone=None, organization=None, name="Kim"):
    customer = CustomerFactory(name=name, organization=organization)
    IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value=email)
    if phone:
        IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value=phone)
    return customer


def test_it_lists_customers_newest_first_with_their_contacts(reader):
    acme = Organization.objects.create(name="Acme")
    older = _customer("kim@example.com", phone="+14155550100", organization=acme)
    newer = _customer("lee@example.com", name="Lee")

    body = reader.get("/api/v1/customers/").json()

    assert [c["id"] for c in body["results"]] == [newer.pk, older.pk]
    assert body["results"][1] | {"created_at": None, "updated_at": None} == {
        "id": older.pk, "name": "Kim", "organization": "Acme", "emails": ["kim@example.com"],
        "phones": ["+14155550100"], "merged_into": None, "created_at": None, "updated_at": None,
    }  # fmt: skip
    assert body["next_cursor"] is None


def test_pages_stay_stable_when_customers_are_added_between_them(reader):
    made = [_customer(f"c{i}@example.com") for i in range(5)]

    first = reader.get("/api/v1/customers/", {"limit": 2}).json()
    _customer("late@example.com")  # newer than every page: never shifts the next one
    second = reader.get("/api/v1/customers/", {"limit": 2, "cursor": first["next_cursor"]})
    third = reader.get("/api/v1/customers/", {"limit": 2, "cursor": second.json()["next_cursor"]})

    seen = [c["id"] for page in (first, second.json(), third.json()) for c in page["results"]]
    assert seen == [c.pk for c in reversed(made)]
    assert third.json()["next_cursor"] is None


def test_the_list_costs_the_same_queries_for_2_or_30_customers(
    reader, django_assert_max_num_queries
):
    for i in range(2):
        _customer(f"few{i}@example.com", phone=f"+1415555010{i}")
    reader.get("/api/v1/customers/")  # the token's last use is written on the first call
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        reader.get("/api/v1/customers/")
    for i in range(28):
        _customer(f"many{i}@example.com", phone=f"+141555502{i:02d}")

    with django_assert_max_num_queries(len(few)):
        body = reader.get("/api/v1/customers/", {"limit": 100}).json()
    assert len(body["results"]) == 30 and all(c["phones"] for c in body["results"])


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"email": "KIM@Example.com"}, ["Kim"]),
        ({"phone": "(415) 555-0100"}, ["Kim"]),
        ({"organization": "Acme"}, ["Kim"]),
        ({"email": "nobody@example.com"}, []),
    ],
)
def test_it_filters_by_email_phone_and_organization(reader, params, expected):
    acme = Organization.objects.create(name="Acme")
    _customer("kim@example.com", phone="+14155550100", organization=acme)
    _customer("lee@example.com", name="Lee")

    response = reader.get("/api/v1/customers/", params)

    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == expected


@pytest.mark.parametrize(
    "params,field",
    [
        ({"phone": "call me"}, "phone"),
        ({"organization": "Nowhere Ltd"}, "organization"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"limit": "1000"}, "limit"),
        ({"emial": "kim@example.com"}, "emial"),
    ],
)
def test_a_bad_filter_is_400_naming_it(reader, params, field):
    response = reader.get("/api/v1/customers/", params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


def test_reading_a_customer_shows_their_open_tickets(reader):
    kim = _customer("kim@example.com")
    open_ticket = TicketFactory(customer=kim, status="open")
    TicketFactory(customer=kim, status="closed")

    body = reader.get(f"/api/v1/customers/{kim.pk}/").json()

    assert body["emails"] == ["kim@example.com"] and body["open_tickets"] == [open_ticket.number]


def test_another_teams_customer_is_404_and_missing_from_the_list(teams, token_client):
    rita = token_client(teams["rita"], "customers:read", "customers:write")
    nobodys = _customer("new@example.com")  # no ticket yet: every agent may look it up

    hidden = rita.get(f"/api/v1/customers/{teams['theirs'].customer_id}/")
    edit = rita.patch(
        f"/api/v1/customers/{teams['theirs'].customer_id}/", {"name": "X"}, format="json"
    )
    listed = {c["id"] for c in rita.get("/api/v1/customers/").json()["results"]}

    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert edit.status_code == 404
    assert listed == {teams["mine"].customer_id, nobodys.pk}
    assert Customer.objects.get(pk=teams["theirs"].customer_id).name != "X"


def test_it_creates_a_customer_with_contacts_and_organization(writer):
    Organization.objects.create(name="Acme")

    response = writer.post(
        "/api/v1/customers/",
        {"name": "Dana Smith", "emails": ["Dana@Example.com"], "phones": ["(415) 555-0100"],
         "organization": "Acme"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["emails"], body["phones"], body["organization"]) == (
        "Dana Smith", ["dana@example.com"], ["+14155550100"], "Acme",
    )  # fmt: skip
    assert body["open_tickets"] == []


def test_creating_with_another_customers_address_is_refused_and_writes_nothing(writer, customer):
    response = writer.post(
        "/api/v1/customers/",
        {"name": "Copy", "emails": ["new@example.com", "dana@example.com"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "identity_taken"
    assert not Customer.objects.filter(name="Copy").exists()
    assert not ContactIdentity.objects.filter(value="new@example.com").exists()


@pytest.mark.parametrize(
    "body,field",
    [({"name": "No contact"}, "non_field_errors"), ({"emails": ["not-an-address"]}, "emails")],
)
def test_creating_without_valid_contacts_is_400(writer, body, field):
    response = writer.post("/api/v1/customers/", body, format="json")

    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not Customer.objects.exists()


def test_it_updates_name_organization_and_the_sets_of_emails_and_phones(writer):
    kim = _customer("kim@example.com", phone="+14155550100")
    Organization.objects.create(name="Acme")

    response = writer.patch(
        f"/api/v1/customers/{kim.pk}/",
        {"name": "Kim Lee", "organization": "Acme", "emails": ["kim@acme.example"],
         "phones": []},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["organization"], body["emails"], body["phones"]) == (
        "Kim Lee", "Acme", ["kim@acme.example"], [],
    )  # fmt: skip
    cleared = writer.patch(f"/api/v1/customers/{kim.pk}/", {"organization": None}, format="json")
    assert cleared.json()["organization"] is None


def test_an_address_that_wrote_messages_stays(writer):
    kim = _customer("kim@example.com")
    identity = kim.identities.get()
    ticket = TicketFactory(customer=kim)
    Message.objects.create(
        ticket=ticket, channel=Channel.EMAIL, direction="inbound", author_identity=identity
    )

    response = writer.patch(
        f"/api/v1/customers/{kim.pk}/", {"emails": ["kim@new.example"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "identity_in_use"
    assert "kim@example.com" in response.json()["error"]["message"]
    assert list(kim.identities.values_list("value", flat=True)) == ["kim@example.com"]


def test_removing_every_contact_is_refused(writer):
    kim = _customer("kim@example.com")

    response = writer.patch(f"/api/v1/customers/{kim.pk}/", {"emails": []}, format="json")

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_identity"
    assert kim.identities.count() == 1


def test_scopes_are_checked_per_method(agent, token_client):
    kim = _customer("kim@example.com")
    tickets_only = token_client(agent, "tickets:read", "tickets:write")
    read_only = token_client(agent, "customers:read")

    listing = tickets_only.get("/api/v1/customers/")
    editing = read_only.patch(f"/api/v1/customers/{kim.pk}/", {"name": "X"}, format="json")
    creating = read_only.post("/api/v1/customers/", {"emails": ["a@example.com"]}, format="json")

    for response, scope in (
        (listing, "customers:read"), (editing, "customers:write"), (creating, "customers:write"),
    ):  # fmt: skip
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "missing_scope"
        assert f"`{scope}`" in response.json()["error"]["message"]
    assert Customer.objects.get(pk=kim.pk).name == "Kim"


def test_a_light_agent_may_read_customers_but_not_change_them(token_client):
    from tests.factories import AgentFactory

    light = AgentFactory(username="lucy", role="Light agents")
    kim = _customer("kim@example.com")
    client = token_client(light, "customers:read", "customers:write")

    response = client.patch(f"/api/v1/customers/{kim.pk}/", {"name": "X"}, format="json")

    assert client.get(f"/api/v1/customers/{kim.pk}/").status_code == 200
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
