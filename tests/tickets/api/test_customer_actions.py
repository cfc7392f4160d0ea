"""POST/DELETE /api/v1/customers/<id>/identities/, POST …/merge/, GET …/export/,
POST …/erase/."""

import io
import json
import zipfile

import pytest

from tests.factories import AdminFactory, CustomerFactory, IdentityFactory, TicketFactory
from tickets.models import Channel, ContactIdentity, Customer, Direction, IdentityKind, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(agent, token_client):
    return token_client(agent, "customers:read", "customers:write")


@pytest.fixture
def kim():
    customer = CustomerFactory(name="Kim")
    IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value="kim@example.com")
    return customer


def test_it_adds_a_phone_normalized(writer, kim):
    response = writer.post(
        f"/api/v1/customers/{kim.pk}/identities/",
        {"kind": "phone", "value": "(415) 555-0100"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["phones"] == ["+14155550100"]


def test_adding_another_customers_address_is_refused(writer, kim, customer):
    response = writer.post(
        f"/api/v1/customers/{kim.pk}/identities/",
        {"kind": "email", "value": "DANA@example.com"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "identity_taken"
    assert ContactIdentity.objects.get(value="dana@example.com").customer_id == customer.pk


@pytest.mark.parametrize(
    "body,field",
    [({"kind": "chat", "value": "x"}, "kind"), ({"kind": "email"}, "value"),
     ({"kind": "phone", "value": "call me"}, None)],
)  # fmt: skip
def test_a_bad_address_is_400(writer, kim, body, field):
    response = writer.post(f"/api/v1/customers/{kim.pk}/identities/", body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (field in error["fields"]) if field else error["code"] == "invalid_identity"
    assert kim.identities.count() == 1


def test_it_removes_an_address(writer, kim):
    phone = IdentityFactory(customer=kim, kind=IdentityKind.PHONE, value="+14155550100")

    response = writer.delete(f"/api/v1/customers/{kim.pk}/identities/{phone.pk}/")

    assert response.status_code == 204
    assert list(kim.identities.values_list("value", flat=True)) == ["kim@example.com"]


def test_an_address_that_wrote_messages_stays(writer, kim):
    phone = IdentityFactory(customer=kim, kind=IdentityKind.PHONE, value="+14155550100")
    ticket = TicketFactory(customer=kim)
    Message.objects.create(
        ticket=ticket, channel=Channel.SMS, direction=Direction.INBOUND, author_identity=phone
    )

    in_use = writer.delete(f"/api/v1/customers/{kim.pk}/identities/{phone.pk}/")

    assert in_use.status_code == 400 and in_use.json()["error"]["code"] == "identity_in_use"
    assert kim.identities.count() == 2


def test_removing_the_only_address_is_refused(writer, kim):
    email = kim.identities.get()

    response = writer.delete(f"/api/v1/customers/{kim.pk}/identities/{email.pk}/")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_identity"
    assert kim.identities.exists()


def test_another_customers_address_id_is_404(writer, kim, customer):
    theirs = customer.identities.first()

    response = writer.delete(f"/api/v1/customers/{kim.pk}/identities/{theirs.pk}/")

    assert response.status_code == 404
    assert ContactIdentity.objects.filter(pk=theirs.pk).exists()


def test_it_merges_another_customer_in(writer, kim, customer):
    ticket = TicketFactory(customer=customer, status="open")

    response = writer.post(f"/api/v1/customers/{kim.pk}/merge/", {"other": customer.pk})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == kim.pk and body["emails"] == ["dana@example.com", "kim@example.com"]
    assert body["open_tickets"] == [ticket.number]
    assert Customer.objects.get(pk=customer.pk).merged_into_id == kim.pk


def test_merging_twice_is_409_and_into_itself_400(writer, kim, customer):
    writer.post(f"/api/v1/customers/{kim.pk}/merge/", {"other": customer.pk})
    other = CustomerFactory()
    IdentityFactory(customer=other, kind=IdentityKind.EMAIL, value="o@example.com")

    again = writer.post(f"/api/v1/customers/{other.pk}/merge/", {"other": customer.pk})
    itself = writer.post(f"/api/v1/customers/{kim.pk}/merge/", {"other": kim.pk})
    missing = writer.post(f"/api/v1/customers/{kim.pk}/merge/", {"other": 999999})

    assert again.status_code == 409 and again.json()["error"]["code"] == "merge_merged"
    assert itself.status_code == 400 and itself.json()["error"]["code"] == "merge_self"
    assert missing.status_code == 400 and "other" in missing.json()["error"]["fields"]


def test_merging_a_customer_of_a_ticket_one_may_not_see_is_refused(teams, token_client):
    rita = token_client(teams["rita"], "customers:read", "customers:write")

    response = rita.post(
        f"/api/v1/customers/{teams['mine'].customer_id}/merge/",
        {"other": teams["theirs"].customer_id},
    )

    assert response.status_code == 400 and "other" in response.json()["error"]["fields"]
    assert Customer.objects.get(pk=teams["theirs"].customer_id).merged_into_id is None


def test_it_exports_a_zip_with_the_customers_json(agent, token_client, customer):
    TicketFactory(customer=customer, subject="Lost parcel")
    reader = token_client(agent, "customers:read")

    response = reader.get(f"/api/v1/customers/{customer.pk}/export/")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"customer-{customer.pk}-export.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("customer.json"))
    assert [t["subject"] for t in data["tickets"]] == ["Lost parcel"]


def test_an_admins_token_erases_and_a_second_time_is_409(token_client, customer):
    admin = token_client(AdminFactory(), "customers:read", "customers:write")
    TicketFactory(customer=customer)

    first = admin.post(f"/api/v1/customers/{customer.pk}/erase/")
    second = admin.post(f"/api/v1/customers/{customer.pk}/erase/")

    assert first.status_code == 200, first.json()
    assert first.json()["customer_id"] == customer.pk and first.json()["tickets"] == 1
    assert not ContactIdentity.objects.filter(customer=customer).exists()
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_erased"


def test_an_agent_may_not_erase(writer, customer):
    response = writer.post(f"/api/v1/customers/{customer.pk}/erase/")

    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert ContactIdentity.objects.filter(customer=customer).exists()


def test_erasing_a_merged_record_is_409(token_client, kim, customer):
    admin = token_client(AdminFactory(), "customers:read", "customers:write")
    admin.post(f"/api/v1/customers/{kim.pk}/merge/", {"other": customer.pk})

    response = admin.post(f"/api/v1/customers/{customer.pk}/erase/")

    assert response.status_code == 409 and response.json()["error"]["code"] == "merge_merged"
