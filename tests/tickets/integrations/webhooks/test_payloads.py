"""Every event type's payload, from the services that publish it."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.factories import CustomerFactory, TeamFactory
from tickets.domain_events import Actor, SlaBreached, SlaWarning, publish
from tickets.integrations.models import WebhookDelivery
from tickets.models import Channel, Status
from tickets.services import (
    customer_merge,
    ticket_assign,
    ticket_create,
    ticket_merge,
    ticket_set_status,
    ticket_set_team,
)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _payloads(kind):
    rows = WebhookDelivery.objects.filter(event_type=kind).order_by("id")
    return [row.payload for row in rows]


def _ticket(customer, agent, subject="Lamp"):
    return ticket_create(customer=customer, subject=subject, channel=Channel.EMAIL, actor=agent)


def test_ticket_updated_shows_people_and_teams_as_they_are_after_the_change(
    hook, customer, agent, other_agent, lead
):
    ticket = _ticket(customer, agent)
    team = TeamFactory(name="Billing")

    ticket_assign(ticket=ticket, agent=other_agent, actor=lead)  # a lead assigns others
    ticket_set_team(ticket=ticket, team=team, actor=agent)

    assign, move = _payloads("ticket.updated")[-2:]
    assert assign["data"]["changes"] == {"assignee": {"before": None, "after": other_agent.pk}}
    assert assign["data"]["ticket"]["assignee"] == {"id": other_agent.pk, "username": "sam"}
    assert move["data"]["ticket"]["team"] == {"id": team.pk, "name": "Billing"}
    assert move["data"]["ticket"]["assignee"]["username"] == "sam"


def test_ticket_merged_names_both_tickets(hook, customer, agent):
    source, target = _ticket(customer, agent, "First"), _ticket(customer, agent, "Second")

    ticket_merge(source=source, target=target, actor=agent)

    [merged] = _payloads("ticket.merged")
    assert merged["data"]["source"]["number"] == source.number
    assert merged["data"]["target"]["number"] == target.number


def test_customer_merged_names_the_one_that_lives_on(hook, customer, agent):
    twin = CustomerFactory(name="Dana Twin")

    customer_merge(source=twin, target=customer, actor=agent)

    [merged] = _payloads("customer.merged")
    assert merged["data"] == {"source": {"id": twin.pk},
                              "target": {"id": customer.pk, "name": "Dana Customer"}}  # fmt: skip


def test_sla_events_carry_the_target_and_its_due_time(hook, customer, agent):
    ticket = _ticket(customer, agent)
    due = timezone.now() + timedelta(minutes=5)

    with transaction.atomic():
        publish(SlaWarning(actor=Actor.system(), ticket_id=ticket.pk, target="first_response",
                           due_at=due))  # fmt: skip
        publish(SlaBreached(actor=Actor.system(), ticket_id=ticket.pk, target="resolution",
                            due_at=due))  # fmt: skip

    [warning], [breach] = _payloads("sla.warning"), _payloads("sla.breached")
    assert warning["data"]["target"] == "first_response"
    assert warning["data"]["due_at"] == due.isoformat()
    assert breach["data"]["ticket"]["number"] == ticket.number


def test_satisfaction_rated_carries_the_score_and_comment(hook, customer, agent):
    from tickets.portal.services import satisfaction_rating_submit

    ticket = _ticket(customer, agent)
    ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent)

    satisfaction_rating_submit(ticket=ticket, customer_id=customer.pk, score=5, comment="Fast!")

    [rated] = _payloads("satisfaction.rated")
    assert rated["data"]["rating"]["score"] == 5 and rated["data"]["rating"]["comment"] == "Fast!"
    assert rated["data"]["ticket"]["id"] == ticket.pk


def test_a_follower_added_is_a_ticket_update_naming_the_contact(hook, customer, agent):
    from tests.factories import IdentityFactory
    from tickets.services import ticket_followers_add

    ticket = _ticket(customer, agent)
    colleague = IdentityFactory(customer=CustomerFactory(name="Lee"), value="lee@example.com")

    ticket_followers_add(ticket=ticket, identities=[colleague], actor=agent)

    update = _payloads("ticket.updated")[-1]
    assert update["data"]["changes"]["followers"]["after"] == [colleague.pk]
