"""The ticket page: in-place edits, composer, collision guard, resync, merges, customer."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import CustomerFactory, IdentityFactory, TeamFactory, TicketFactory
from tickets.models import Channel, Customer, Direction, Macro, Message, Tag, Ticket
from tickets.services import message_reply

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_it_shows_one_timeline_with_notes_events_and_delivery_state(
    agent_client: Client, agent: Any, make_ticket: Any
) -> None:
    ticket = make_ticket(body="First from the customer")
    message_reply(ticket=ticket, author=agent, body_text="Public answer", channel="email")
    message_reply(ticket=ticket, author=agent, body_text="Just for us", is_internal=True)
    Message.objects.create(
        ticket=ticket, channel=Channel.SMS, direction=Direction.INBOUND, body_text="Texted too"
    )
    html = agent_client.get(f"/agent/tickets/{ticket.number}/").content.decode()
    order = [html.index(s) for s in ("First from", "Public answer", "Just for us", "Texted too")]
    assert order == sorted(order)
    assert "msg msg-outbound msg-note" in html
    assert 'class="ch ch-sms"' in html
    assert "delivery-" in html  # outbound delivery status
    assert "status changed: new → open" in html  # the reply opened the ticket: a compact event line


@pytest.mark.parametrize("htmx", [True, False])
def test_it_changes_header_fields_in_place(
    agent_client: Client, agent: Any, make_ticket: Any, htmx: bool
) -> None:
    ticket = make_ticket()
    team = TeamFactory(name="Billing")
    url = f"/agent/tickets/{ticket.number}/update/"
    extra = HX if htmx else {}
    for field, value in [
        ("subject", "Lamp broken on arrival"),
        ("status", "open"),
        ("priority", "high"),
        ("assignee", str(agent.pk)),
        ("team", str(team.pk)),
        ("tag_add", "vip, refund"),
        ("tag_remove", "vip"),
        ("follower_add", "boss@example.com"),
    ]:
        response = agent_client.post(url, {"field": field, "value": value}, **extra)
        assert response.status_code == (200 if htmx else 302)
        if htmx:
            assert 'id="ticket-header"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.subject == "Lamp broken on arrival"
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.team) == (
        "open",
        "high",
        agent,
        team,
    )
    assert list(ticket.tags.values_list("name", flat=True)) == ["refund"]
    assert list(ticket.followers.values_list("value", flat=True)) == ["boss@example.com"]


def test_it_shows_a_refused_change_in_the_header(agent_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket(status="closed")
    url = f"/agent/tickets/{ticket.number}/update/"
    response = agent_client.post(url, {"field": "status", "value": "open"}, **HX)
    assert "A closed ticket cannot change status" in response.content.decode()
    response = agent_client.post(url, {"field": "assignee", "value": "99999"}, follow=True)
    assert "Pick an agent from the list." in response.content.decode()
    response = agent_client.post(url, {"field": "subject", "value": "  "}, **HX)
    assert "A ticket needs a subject." in response.content.decode()


def test_it_sends_a_reply_with_a_macro_and_sets_pending_in_one_action(
    agent_client: Client, make_ticket: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = make_ticket()
    macro = Macro.objects.create(
        name="Shipping",
        body="Hi {{ customer.first_name }}",
        set_priority="high",
        add_tags="shipping",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            f"/agent/tickets/{ticket.number}/reply/",
            {
                "kind": "reply",
                "channel": "email",
                "body": "Hi Dana, it ships today.",
                "macro": macro.pk,
                "then": "pending",
                "last_message_id": ticket.messages.get().pk,
            },
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("pending", "high")
    assert list(ticket.tags.values_list("name", flat=True)) == ["shipping"]
    reply = ticket.messages.get(direction=Direction.OUTBOUND)
    assert reply.body_text == "Hi Dana, it ships today."
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dana@example.com"]


def test_it_adds_an_internal_note_with_an_attachment_and_sends_nothing(
    agent_client: Client, make_ticket: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    ticket = make_ticket()
    upload = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    agent_client.post(
        f"/agent/tickets/{ticket.number}/reply/",
        {
            "kind": "note",
            "body": "Check the warehouse",
            "attachments": [upload],
            "last_message_id": 10**9,
        },
    )
    note = ticket.messages.get(is_internal=True)
    assert note.attachments.get().filename == "notes.txt"
    assert mail.outbox == []


def test_it_keeps_the_draft_when_a_send_is_refused(agent_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket()
    response = agent_client.post(
        f"/agent/tickets/{ticket.number}/reply/",
        {
            "kind": "reply",
            "channel": "sms",
            "body": "Draft that must survive",
            "last_message_id": 10**9,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "has no phone number to reply to" in html
    assert "Draft that must survive</textarea>" in html
    assert ticket.messages.count() == 1


def test_it_warns_before_sending_over_a_message_that_just_arrived(
    agent_client: Client, other_agent: Any, make_ticket: Any
) -> None:
    ticket = make_ticket()
    seen = ticket.messages.get().pk
    message_reply(ticket=ticket, author=other_agent, body_text="Sam already answered")
    data = {"kind": "reply", "channel": "email", "body": "My answer", "last_message_id": seen}
    response = agent_client.post(f"/agent/tickets/{ticket.number}/reply/", data)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Sam already answered" in html and "My answer</textarea>" in html
    assert ticket.messages.count() == 2
    confirmed = agent_client.post(
        f"/agent/tickets/{ticket.number}/reply/", {**data, "confirm_collision": "on"}
    )
    assert confirmed.status_code == 302
    assert ticket.messages.count() == 3


def test_it_does_not_warn_about_own_messages_or_notes(
    agent_client: Client, agent: Any, other_agent: Any, make_ticket: Any
) -> None:
    ticket = make_ticket()
    seen = ticket.messages.get().pk
    message_reply(ticket=ticket, author=agent, body_text="mine", channel="email")
    message_reply(ticket=ticket, author=other_agent, body_text="note", is_internal=True)
    response = agent_client.post(
        f"/agent/tickets/{ticket.number}/reply/",
        {"kind": "reply", "channel": "email", "body": "again", "last_message_id": seen},
    )
    assert response.status_code == 302


def test_it_resyncs_the_timeline_since_a_timestamp(
    agent_client: Client, agent: Any, make_ticket: Any
) -> None:
    ticket = make_ticket(body="old message")
    Message.objects.filter(ticket=ticket).update(created_at=timezone.now() - timedelta(hours=1))
    since = timezone.now() - timedelta(minutes=30)
    message_reply(ticket=ticket, author=agent, body_text="fresh reply", channel="email")
    response = agent_client.get(
        f"/agent/tickets/{ticket.number}/timeline/", {"since": since.isoformat()}
    )
    html = response.content.decode()
    assert "fresh reply" in html and "old message" not in html
    assert response["X-Synced-At"]


def test_it_merges_this_ticket_into_another_after_a_preview(
    agent_client: Client, make_ticket: Any
) -> None:
    source = make_ticket(subject="Lamp again", body="second mail")
    target = make_ticket(subject="Broken lamp", body="first mail")
    found = agent_client.get(f"/agent/tickets/{source.number}/merge/", {"q": "broken"})
    assert f"#{target.number} Broken lamp" in found.content.decode()
    preview = agent_client.get(
        f"/agent/tickets/{source.number}/merge/", {"q": "broken", "into": target.number}
    )
    assert "Preview" in preview.content.decode()
    assert Ticket.objects.get(pk=source.pk).merged_into is None  # a preview changes nothing
    done = agent_client.post(f"/agent/tickets/{source.number}/merge/", {"into": target.number})
    assert done["Location"] == f"/agent/tickets/{target.number}/"
    source.refresh_from_db()
    assert source.merged_into == target and source.status == "closed"
    assert target.messages.count() == 2
    again = agent_client.post(
        f"/agent/tickets/{source.number}/merge/", {"into": target.number}, follow=True
    )
    assert "already merged" in again.content.decode()
    missing = agent_client.post(
        f"/agent/tickets/{target.number}/merge/", {"into": "999999999"}, follow=True
    )
    assert "There is no ticket #999999999" in missing.content.decode()


def test_it_edits_the_customer_and_adds_identities(agent_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket()
    customer = ticket.customer
    agent_client.post(
        f"/agent/customers/{customer.pk}/edit/",
        {"name": "Dana Q. Customer", "notes": "VIP", "ticket": ticket.number},
    )
    ok = agent_client.post(
        f"/agent/customers/{customer.pk}/identities/",
        {"kind": "phone", "value": "+1 415 555 0199", "ticket": ticket.number},
        follow=True,
    )
    assert "+14155550199" in ok.content.decode()
    customer.refresh_from_db()
    assert (customer.name, customer.notes) == ("Dana Q. Customer", "VIP")
    other = CustomerFactory()
    IdentityFactory(customer=other, value="taken@example.com")
    taken = agent_client.post(
        f"/agent/customers/{customer.pk}/identities/",
        {"kind": "email", "value": "taken@example.com", "ticket": ticket.number},
        follow=True,
    )
    assert "already belongs to another customer" in taken.content.decode()
    bad = agent_client.post(
        f"/agent/customers/{customer.pk}/identities/",
        {"kind": "email", "value": "not an email", "ticket": ticket.number},
        follow=True,
    )
    assert "is not a valid email address" in bad.content.decode()


def test_it_merges_two_customers(agent_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket()
    other = CustomerFactory(name="Dana at work")
    IdentityFactory(customer=other, value="dana@work.example")
    their_ticket = TicketFactory(customer=other)
    found = agent_client.get(
        f"/agent/customers/{ticket.customer_id}/merge/",
        {"q": "work.example", "ticket": ticket.number},
    )
    assert "dana@work.example" in found.content.decode()
    agent_client.post(
        f"/agent/customers/{ticket.customer_id}/merge/",
        {"source": other.pk, "ticket": ticket.number},
    )
    their_ticket.refresh_from_db()
    assert their_ticket.customer_id == ticket.customer_id
    assert Customer.objects.get(pk=other.pk).merged_into_id == ticket.customer_id
    page = agent_client.get(f"/agent/tickets/{ticket.number}/").content.decode()
    assert "dana@work.example" in page and f"#{their_ticket.number}" in page


def test_it_offers_help_centre_articles_with_absolute_links(
    agent_client: Client, make_ticket: Any, settings: Any
) -> None:
    from knowledge_base.models import ArticleStatus, Category
    from knowledge_base.services import article_create

    settings.PUBLIC_BASE_URL = "https://help.example.com"
    category = Category.objects.create(name="Account", slug="account")
    article_create(
        title="Resetting your password",
        category=category,
        body="Click Forgot password on the sign-in page.",
        status=ArticleStatus.PUBLISHED,
    )
    article_create(
        title="Resetting the router", category=category, body="Draft.", status=ArticleStatus.DRAFT
    )
    ticket = make_ticket()
    page = agent_client.get(f"/agent/tickets/{ticket.number}/").content.decode()
    assert 'id="kb-search"' in page
    results = agent_client.get("/agent/kb/search/", {"q": "resetting"}).content.decode()
    assert "Resetting your password" in results
    assert 'data-url="https://help.example.com/kb/' in results
    assert "Resetting the router" not in results  # drafts are not offered
    assert "No articles" in agent_client.get("/agent/kb/search/", {"q": "zzqx"}).content.decode()


def test_it_labels_tags_already_on_the_ticket(agent_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket()
    ticket.tags.add(Tag.objects.create(name="urgent-fix"))
    assert "urgent-fix" in agent_client.get(f"/agent/tickets/{ticket.number}/").content.decode()


def test_it_points_from_a_merged_ticket_to_its_target(
    agent_client: Client, agent: Any, make_ticket: Any
) -> None:
    from tickets.services import ticket_merge

    source, target = make_ticket(), make_ticket()
    ticket_merge(source=source, target=target, actor=agent)
    html = agent_client.get(f"/agent/tickets/{source.number}/").content.decode()
    assert f'This ticket was merged into <a href="/agent/tickets/{target.number}/">' in html
    refused = agent_client.post(
        f"/agent/tickets/{source.number}/reply/", {"kind": "note", "body": "hello"}
    )
    assert f"merged into #{target.number}" in refused.content.decode()


@pytest.mark.parametrize("since", ["", "garbage", "2026-13-45T99:00:00"])
def test_it_resyncs_everything_when_the_timestamp_is_unusable(
    agent_client: Client, make_ticket: Any, since: str
) -> None:
    ticket = make_ticket(body="the very first message")
    response = agent_client.get(f"/agent/tickets/{ticket.number}/timeline/", {"since": since})
    assert response.status_code == 200
    assert "the very first message" in response.content.decode()


def test_it_inserts_published_help_centre_articles_with_absolute_links(
    agent_client: Client, make_ticket: Any, settings: Any
) -> None:
    from knowledge_base.services import article_create, category_create

    settings.PUBLIC_BASE_URL = "https://help.example.com"
    category = category_create(name="Account")
    article_create(
        title="Resetting your password",
        category=category,
        body="Open **Settings**, then choose *Reset password*.",
        excerpt="How to reset a forgotten password.",
        status="published",
    )
    article_create(title="Password policy draft", category=category, body="Draft password text")
    ticket = make_ticket()

    page = agent_client.get(f"/agent/tickets/{ticket.number}/").content.decode()
    results = agent_client.get("/agent/kb/search/", {"q": "password"}).content.decode()

    assert 'id="kb-search"' in page  # the help centre is the default provider
    assert "Resetting your password" in results
    assert "https://help.example.com/kb/article/resetting-your-password/" in results
    assert "Password policy draft" not in results  # drafts never leave the help centre


def test_it_stops_copying_a_follower_and_records_who_did_it(
    agent_client: Client, agent: Any, make_ticket: Any
) -> None:
    from tickets.models import EventKind, TicketEvent

    ticket = make_ticket()
    url = f"/agent/tickets/{ticket.number}/update/"
    agent_client.post(url, {"field": "follower_add", "value": "boss@example.org"})
    follower = ticket.followers.get()

    agent_client.post(url, {"field": "follower_remove", "value": str(follower.pk)})
    agent_client.post(url, {"field": "follower_remove", "value": "not-an-id"})

    assert not ticket.followers.exists()
    event = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.FOLLOWERS).last()
    assert event.data == {"removed": ["boss@example.org"]} and event.actor == agent
