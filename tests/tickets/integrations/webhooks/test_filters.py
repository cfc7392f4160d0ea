"""A webhook narrowed to some channels or teams hears only their tickets' events."""

import pytest

from tests.factories import TeamFactory
from tickets.integrations.models import WebhookDelivery
from tickets.integrations.webhooks.services import WebhookError, webhook_create, webhook_update
from tickets.models import Channel
from tickets.services import customer_merge, ticket_create, ticket_set_team

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _subjects(hook):
    return sorted(
        WebhookDelivery.objects.filter(webhook=hook.webhook).values_list(
            "payload__data__ticket__subject", flat=True
        )
    )


def test_a_team_filter_follows_the_team_after_a_change(receiver, customer, agent):
    billing, sales = TeamFactory(name="Billing"), TeamFactory(name="Sales")
    hook = webhook_create(
        name="Billing CRM",
        url=receiver.url,
        events=["ticket.created", "ticket.updated"],
        team_ids=[billing.pk],
    )

    ticket_create(
        customer=customer, subject="Invoice", channel=Channel.EMAIL, actor=agent, team=billing
    )
    other = ticket_create(
        customer=customer, subject="Demo", channel=Channel.EMAIL, actor=agent, team=sales
    )
    ticket_set_team(ticket=other, team=billing, actor=agent)  # moves into the filter

    assert _subjects(hook) == ["Demo", "Invoice"]


def test_a_channel_filter_and_events_about_no_ticket(receiver, customer, agent):
    from tests.factories import CustomerFactory

    hook = webhook_create(
        name="SMS", url=receiver.url, events=["ticket.created", "customer.merged"], channels=["sms"]
    )
    ticket_create(customer=customer, subject="By mail", channel=Channel.EMAIL, actor=agent)
    ticket_create(customer=customer, subject="By text", channel=Channel.SMS, actor=agent)
    customer_merge(source=CustomerFactory(), target=customer, actor=agent)

    assert _subjects(hook) == ["By text"]  # a customer merge is about no ticket: filtered out


def test_unknown_filters_are_refused(receiver):
    with pytest.raises(WebhookError, match="Unknown channel fax"):
        webhook_create(name="x", url=receiver.url, events=["ticket.created"], channels=["fax"])
    hook = webhook_create(name="x", url=receiver.url, events=["ticket.created"])
    with pytest.raises(WebhookError, match="No team has the id 999"):
        webhook_update(webhook=hook.webhook, team_ids=[999])
