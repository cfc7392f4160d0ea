"""The triage flow: where a send lands (stay, the view's next ticket, the view), assign on
reply, and macros that change fields."""

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.factories import TeamFactory
from tickets.errors import TicketError
from tickets.models import (
    AfterSend,
    AgentPreference,
    EventKind,
    Macro,
    Priority,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.selectors import TicketFilters
from tickets.services import message_reply
from tickets.workspace import selectors as sel
from tickets.workspace.macros import macro_changes
from tickets.workspace.services import agent_preference_set, reply_send

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

OPEN_VIEW = TicketFilters(status=(Status.NEW, Status.OPEN))


@pytest.fixture
def queue(make_ticket: Any) -> list[Ticket]:
    """Three open tickets, newest update first: the order of the default view."""
    now = timezone.now()
    tickets = []
    for minutes, subject in ((1, "First"), (2, "Second"), (3, "Third")):
        ticket = make_ticket(subject, status=Status.OPEN, priority=Priority.NORMAL)
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now - timedelta(minutes=minutes))
        ticket.refresh_from_db()
        tickets.append(ticket)
    return tickets


def _reply(client: Client, ticket: Ticket, came_from: str | None = None, **data: Any) -> Any:
    url = f"/agent/tickets/{ticket.number}/reply/"
    if came_from is not None:
        url += f"?from={quote(came_from)}"
    seen = ticket.messages.order_by("-pk").values_list("pk", flat=True).first() or 0
    form = {"body": "On it.", "kind": "reply", "channel": "email", "last_message_id": seen}
    return client.post(url, {**form, **data})


# --- preference ----------------------------------------------------------------------------


def test_it_defaults_to_the_next_ticket_after_a_send(agent: Any) -> None:
    assert sel.agent_after_send(user=agent) == AfterSend.NEXT


def test_it_stores_one_preference_per_agent(agent: Any, other_agent: Any) -> None:
    agent_preference_set(user=agent, after_send=AfterSend.STAY)
    agent_preference_set(user=agent, after_send=AfterSend.VIEW)

    assert AgentPreference.objects.get(user=agent).after_send == AfterSend.VIEW
    assert sel.agent_after_send(user=other_agent) == AfterSend.NEXT


def test_it_refuses_unknown_preferences_and_non_agents(agent: Any, plain_user: Any) -> None:
    with pytest.raises(TicketError) as err:
        agent_preference_set(user=agent, after_send="elsewhere")
    assert "stay, next, view" in err.value.message
    with pytest.raises(TicketError):
        agent_preference_set(user=plain_user, after_send=AfterSend.STAY)
    assert not AgentPreference.objects.exists()


# --- the next ticket of a view ---------------------------------------------------------------


def test_it_picks_the_ticket_after_this_one_in_the_views_order(queue: list[Ticket]) -> None:
    first, second, third = queue

    assert sel.queue_next_ticket(filters=OPEN_VIEW, sort="updated", after=first) == second
    assert sel.queue_next_ticket(filters=OPEN_VIEW, sort="updated", after=second) == third
    assert sel.queue_next_ticket(filters=OPEN_VIEW, sort="updated", after=third) is None


def test_it_skips_the_ticket_just_handled_wherever_its_reply_moved_it(
    queue: list[Ticket], agent: Any
) -> None:
    first, second, _ = queue
    before = Ticket.objects.get(pk=second.pk)
    message_reply(ticket=second, author=agent, body_text="Done", channel="email")
    # Its new last update puts it at the top of the view; next still means "below it".
    assert sel.queue_next_ticket(filters=OPEN_VIEW, sort="updated", after=before) == queue[2]
    # A sort where the handled ticket's own key now comes later: never itself.
    Ticket.objects.filter(pk=first.pk).update(sla_next_due_at=timezone.now())
    Ticket.objects.filter(pk=second.pk).update(sla_next_due_at=timezone.now() + timedelta(hours=1))
    after = Ticket.objects.get(pk=first.pk)
    assert sel.queue_next_ticket(filters=OPEN_VIEW, sort="sla", after=after) == second


def test_it_follows_the_views_filters_and_sort(queue: list[Ticket]) -> None:
    first, second, third = queue
    Ticket.objects.filter(pk=third.pk).update(priority=Priority.URGENT)
    third.refresh_from_db()
    urgent_first = sel.queue_next_ticket(filters=OPEN_VIEW, sort="priority", after=third)
    assert urgent_first == first
    only_normal = TicketFilters(status=(Status.OPEN,), priority=(Priority.NORMAL,))
    assert sel.queue_next_ticket(filters=only_normal, sort="updated", after=second) is None


def test_it_reads_the_next_ticket_in_a_constant_number_of_queries(
    queue: list[Ticket], make_ticket: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(20):
        make_ticket(f"More {i}", status=Status.OPEN)
    with django_assert_max_num_queries(3):
        sel.queue_next_ticket(filters=OPEN_VIEW, sort="priority", after=queue[0])


# --- assign on reply --------------------------------------------------------------------------


def test_it_assigns_an_unassigned_ticket_to_the_agent_who_replies(
    make_ticket: Any, agent: Any
) -> None:
    ticket = make_ticket()
    message_reply(ticket=ticket, author=agent, body_text="Hello", channel="email")

    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ASSIGNED)
    assert (event.actor_id, event.data) == (agent.pk, {"from": None, "to": agent.pk})


def test_it_does_not_assign_on_an_internal_note(make_ticket: Any, agent: Any) -> None:
    ticket = make_ticket()
    message_reply(ticket=ticket, author=agent, body_text="Looking", is_internal=True)

    ticket.refresh_from_db()
    assert ticket.assignee_id is None
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED).exists()


def test_it_keeps_the_assignee_when_another_agent_replies(
    make_ticket: Any, agent: Any, other_agent: Any
) -> None:
    ticket = make_ticket(assignee=other_agent)
    message_reply(ticket=ticket, author=agent, body_text="Covering for Sam", channel="email")

    ticket.refresh_from_db()
    assert ticket.assignee_id == other_agent.pk


def test_it_leaves_assignment_alone_when_assign_on_reply_is_off(
    make_ticket: Any, agent: Any, settings: Any
) -> None:
    settings.HELPDESK_ASSIGN_ON_REPLY = False
    ticket = make_ticket()
    message_reply(ticket=ticket, author=agent, body_text="Hello", channel="email")

    ticket.refresh_from_db()
    assert ticket.assignee_id is None


# --- macros that change fields ----------------------------------------------------------------


def test_it_applies_a_macros_status_team_tags_and_assignee_with_the_reply(
    make_ticket: Any, lead: Any, other_agent: Any
) -> None:
    agent = lead  # the macro gives the ticket to someone else: a lead's permission
    billing = TeamFactory(name="Billing")
    macro = Macro.objects.create(
        name="Escalate",
        body="Passing this on.",
        set_status=Status.PENDING,
        set_priority=Priority.HIGH,
        set_team=billing,
        set_assignee=other_agent,
        add_tags="billing, escalated",
    )
    ticket = make_ticket()
    loaded = sel.macro_get_for(user=agent, macro_id=macro.pk)
    assert loaded is not None

    reply_send(
        ticket=ticket, author=agent, body_text="Passing this on.", is_internal=False,
        channel="email", macro=loaded,
    )  # fmt: skip

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.PENDING, Priority.HIGH)
    assert (ticket.team_id, ticket.assignee_id) == (billing.pk, other_agent.pk)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "escalated"]
    assert macro_changes(macro=loaded) == [
        "priority: High",
        "team: Billing",
        "assignee: Sam",
        "tags: +billing, +escalated",
        "status: Pending",
    ]


# --- the pages --------------------------------------------------------------------------------


def test_it_carries_the_view_from_the_queue_onto_the_ticket_page(
    agent_client: Client, queue: list[Ticket]
) -> None:
    came_from = "view=open&sort=priority"
    html = agent_client.get(
        f"/agent/tickets/{queue[0].number}/", {"from": came_from, "x": "1"}
    ).content.decode()

    assert (
        f'action="/agent/tickets/{queue[0].number}/reply/?from=view%3Dopen%26sort%3Dpriority"'
        in html
    )
    assert 'id="back-to-view"' in html and 'href="/agent/?view=open&amp;sort=priority"' in html
    assert '<option value="next" selected>Next ticket in this view</option>' in html


def test_it_opens_the_next_ticket_of_the_view_after_a_send(
    agent_client: Client, queue: list[Ticket]
) -> None:
    first, second, _ = queue
    response = _reply(agent_client, first, "view=open")

    assert response.status_code == 302
    assert response["Location"] == f"/agent/tickets/{second.number}/?from=view%3Dopen"
    assert first.messages.filter(direction="outbound").count() == 1


def test_it_goes_back_to_the_view_with_a_message_after_the_last_ticket(
    agent_client: Client, queue: list[Ticket]
) -> None:
    response = _reply(agent_client, queue[2], "view=open&priority=normal")

    assert response["Location"] == "/agent/?view=open&priority=normal"
    page = agent_client.get(response["Location"]).content.decode()
    assert "That was the last ticket in this view." in page


def test_it_applies_send_and_set_pending_before_moving_on(
    agent_client: Client, queue: list[Ticket]
) -> None:
    first, second, _ = queue
    response = _reply(agent_client, first, "view=open", then="pending")

    assert response["Location"].startswith(f"/agent/tickets/{second.number}/")
    first.refresh_from_db()
    assert first.status == Status.PENDING


def test_it_stays_or_returns_to_the_view_as_the_agent_chose_and_remembers_it(
    agent_client: Client, agent: Any, queue: list[Ticket]
) -> None:
    stay = _reply(agent_client, queue[0], "view=open", after_send="stay")
    assert stay["Location"] == f"/agent/tickets/{queue[0].number}/?from=view%3Dopen"
    assert sel.agent_after_send(user=agent) == AfterSend.STAY

    again = _reply(agent_client, queue[1], "view=open")  # no choice sent: the stored one
    assert again["Location"] == f"/agent/tickets/{queue[1].number}/?from=view%3Dopen"

    back = _reply(agent_client, queue[1], "view=open", after_send="view")
    assert back["Location"] == "/agent/?view=open"


def test_it_uses_the_default_view_when_the_page_came_from_nowhere_or_garbage(
    agent_client: Client, queue: list[Ticket]
) -> None:
    plain = _reply(agent_client, queue[0])
    assert plain["Location"] == f"/agent/tickets/{queue[1].number}/"

    garbage = _reply(agent_client, queue[1], "view=nope&sort=%%%&cursor=zzz&team=x")
    assert garbage.status_code == 302
    assert garbage["Location"].startswith(f"/agent/tickets/{queue[2].number}/?from=")


def test_it_keeps_the_draft_and_the_view_when_a_send_is_refused(
    agent_client: Client, queue: list[Ticket]
) -> None:
    response = _reply(agent_client, queue[0], "view=open", body="", after_send="next")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Write a message before sending." in html
    assert "reply/?from=view%3Dopen" in html


def test_it_shows_what_a_macro_will_change_in_the_composer(
    agent_client: Client, queue: list[Ticket]
) -> None:
    macro = Macro.objects.create(
        name="Ask for order number", body="Your order number?", set_status=Status.PENDING
    )
    preview = agent_client.get(f"/agent/tickets/{queue[0].number}/macros/{macro.pk}/").json()
    assert preview["changes"] == ["status: Pending"]

    html = agent_client.get(
        f"/agent/tickets/{queue[0].number}/", {"macro": macro.pk, "from": "view=open"}
    ).content.decode()
    assert "Your order number?</textarea>" in html
    assert '<span id="macro-effects-list">status: Pending</span>' in html
    assert f'href="?macro={macro.pk}&amp;from=view%3Dopen#composer"' in html

    sent = _reply(agent_client, queue[0], "view=open", macro=macro.pk)
    assert sent["Location"].startswith(f"/agent/tickets/{queue[1].number}/")
    queue[0].refresh_from_db()
    assert queue[0].status == Status.PENDING


def test_it_stays_on_a_chat_after_a_plain_send_and_moves_on_with_a_status(
    agent_client: Client, queue: list[Ticket]
) -> None:
    first, second, _ = queue
    Ticket.objects.filter(pk=first.pk).update(channel="chat")
    chat = {"channel": "chat", "kind": "note"}  # a note: no chat visitor to deliver to

    # A live chat goes on: a message is not the end of the agent's turn.
    assert _reply(agent_client, first, "view=open", **chat)["Location"] == (
        f"/agent/tickets/{first.number}/?from=view%3Dopen"
    )
    solved = _reply(agent_client, first, "view=open", then="solved", **chat)
    assert solved["Location"].startswith(f"/agent/tickets/{second.number}/")


def test_it_ships_shared_macros_that_advance_tickets_with_the_demo(settings: Any) -> None:
    from tickets.demo import demo_reset, demo_seed
    from tickets.workspace.macros import macro_render

    settings.DEBUG = True
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    demo_seed(tickets=6, customers=4)
    assert not Ticket.objects.filter(csat_due_at__isnull=False).exists()  # no rating mails

    macros = {m.name: m for m in Macro.objects.filter(owner=None).select_related("set_team")}
    assert 8 <= len(macros) <= 10
    assert macros["Ask for order number"].set_status == Status.PENDING
    assert macros["Refund issued"].set_status == Status.SOLVED
    assert macros["Password reset steps"].set_status == Status.PENDING
    assert macros["Close: duplicate"].set_status == Status.SOLVED
    assert macro_changes(macro=macros["Escalate to Billing"]) == [
        "team: Billing",
        "tags: +billing",
    ]
    ticket = Ticket.objects.select_related("customer").first()
    agent = get_user_model().objects.get(username="agent")
    for macro in macros.values():  # every placeholder renders on a real demo ticket
        text = macro_render(macro=macro, ticket=ticket, agent=agent)
        assert text.startswith(f"Hi {ticket.customer.first_name},") and "{{" not in text
        assert text.rstrip().endswith(agent.first_name)
    demo_reset()
    assert not Macro.objects.exists()


def test_it_lists_the_triage_keys_in_the_shortcut_help(
    agent_client: Client, queue: list[Ticket]
) -> None:
    html = agent_client.get(f"/agent/tickets/{queue[0].number}/").content.decode()
    help_dialog = html[html.index('id="shortcut-help"') :]

    for key in ("<dt>m</dt>", "<dt>z / Ctrl+Z</dt>", "<dt>s</dt>", "<dt>a</dt>", "<dt>j / k</dt>"):
        assert key in help_dialog
    assert "Undo within 5 s" in help_dialog
