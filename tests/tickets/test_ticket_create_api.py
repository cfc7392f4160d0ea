import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from channels_app.models import Delivery
from helpdesk.roles import LEADS_GROUP
from tests.factories import TeamFactory
from tickets.integrations.tokens import api_token_create
from tickets.models import ContactIdentity, Customer, Direction, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(agent):
    new = api_token_create(owner=agent, name="CRM", scopes=["tickets:read", "tickets:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new.secret}")
    return client


def _create(client, **fields):
    body = {"customer": {"email": "dana@example.com", "name": "Dana"}, "subject": "Order 77",
            "text": "Hi Dana, your refund is on its way."}  # fmt: skip
    body.update(fields)
    return client.post("/api/v1/tickets/", body, format="json")


def test_an_email_ticket_for_a_new_customer_sends_its_first_message_through_the_outbox(
    writer, agent, other_agent
):
    agent.groups.add(Group.objects.get(name=LEADS_GROUP))  # assigns to someone else
    TeamFactory(name="Billing")

    response = _create(
        writer, channel="email", priority="high", team="Billing", assignee="sam",
        tags=["refund"],
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(number=body["number"])
    assert (body["channel"], body["priority"], body["team"], body["assignee"], body["tags"]) == (
        "email", "high", "Billing", "sam", ["refund"],
    )  # fmt: skip
    assert body["customer"]["name"] == "Dana"
    message = Message.objects.get(ticket=ticket)
    assert message.direction == Direction.OUTBOUND and not message.is_internal
    assert Delivery.objects.filter(message=message).count() == 1
    assert ContactIdentity.objects.get(value="dana@example.com").customer_id == ticket.customer_id


def test_a_phone_ticket_records_the_text_as_the_customers_message_without_sending(writer, customer):
    response = _create(
        writer, customer={"id": customer.pk}, channel="phone", text="Called about the lamp."
    )

    assert response.status_code == 201
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert ticket.customer_id == customer.pk and ticket.channel == "phone"
    message = Message.objects.get(ticket=ticket)
    assert (message.direction, message.channel, message.is_internal) == ("inbound", "phone", False)
    assert message.body_text == "Called about the lamp."
    assert message.author_identity.customer_id == customer.pk and message.author_user is None
    assert ticket.last_inbound_at == message.created_at
    assert not Delivery.objects.filter(message=message).exists()


def test_a_customer_by_email_and_phone_gets_both_identities(writer):
    response = _create(
        writer, customer={"email": "kim@example.com", "phone": "+14155550100", "name": "Kim"}
    )

    assert response.status_code == 201
    customer = Customer.objects.get(name="Kim")
    assert sorted(customer.identities.values_list("kind", flat=True)) == ["email", "phone"]


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"customer": {"name": "No contact"}}, "customer"),
        ({"customer": {"id": 999999}}, "customer"),
        ({"team": "Nowhere"}, "team"),
        ({"assignee": "nobody"}, "assignee"),
        ({"channel": "chat"}, "channel"),
        ({"subject": ""}, "subject"),
        ({"priority": "extreme"}, "priority"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_creates_nothing(writer, fields, field):
    response = _create(writer, **fields)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not Ticket.objects.exists()


def test_a_domain_refusal_is_400_with_its_code_and_leaves_no_ticket(writer):
    response = _create(writer, channel="sms")  # the customer has no phone number

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_recipient"
    assert not Ticket.objects.exists()


def test_creating_needs_the_write_scope(agent):
    reader = api_token_create(owner=agent, name="ro", scopes=["tickets:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {reader.secret}")

    refused = _create(client)
    anonymous = _create(APIClient())

    assert refused.status_code == 403 and "`tickets:write`" in refused.json()["error"]["message"]
    assert anonymous.status_code == 401
    assert not Ticket.objects.exists()
