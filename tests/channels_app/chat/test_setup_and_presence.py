import pytest
from django.urls import reverse

from channels_app.chat.presence import (
    agent_online,
    agent_presence_connect,
    agent_presence_disconnect,
)
from channels_app.chat.services import chat_origin_allowed
from channels_app.demo import smschat_demo_setup
from channels_app.models import ChatChannel, SmsNumber
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_it_counts_agent_connections_per_team():
    sales, support = TeamFactory(), TeamFactory()

    agent_presence_connect(team_ids=[sales.pk])
    agent_presence_connect(team_ids=[sales.pk])  # a second tab
    agent_presence_disconnect(team_ids=[sales.pk])

    assert agent_online(sales.pk) is True
    assert agent_online(support.pk) is False
    assert agent_online(None) is True  # a channel with no team: any agent will do
    agent_presence_disconnect(team_ids=[sales.pk])
    assert agent_online(sales.pk) is False and agent_online(None) is False


def test_it_never_counts_below_zero_after_extra_disconnects():
    team = TeamFactory()
    agent_presence_disconnect(team_ids=[team.pk])
    agent_presence_disconnect(team_ids=[team.pk])

    agent_presence_connect(team_ids=[team.pk])

    assert agent_online(team.pk) is True


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.example.com", True),
        ("http://shop.example.com", True),
        ("https://SHOP.example.com", True),
        ("https://evil-shop.example.com", False),
        ("https://shop.example.com.evil.net", False),
        ("https://a.b.example.org", True),
        ("https://example.org", False),
        ("http://127.0.0.1:8123", True),
        ("http://127.0.0.1:8124", False),
        ("https://desk.example.com", True),  # the desk's own pages (PUBLIC_BASE_URL)
        ("null", False),
        ("file://", False),
        ("", False),
    ],
)
def test_it_matches_origins_against_the_allowed_domains(chat_channel, public_base, origin, allowed):
    assert chat_origin_allowed(channel=chat_channel, origin=origin) is allowed


def test_it_creates_the_demo_number_and_channel_once():
    first = smschat_demo_setup()
    second = smschat_demo_setup()

    assert first == second
    assert SmsNumber.objects.count() == 1 and ChatChannel.objects.count() == 1
    assert first[0].phone.startswith("+")


def test_it_shows_the_embed_snippet_in_the_admin(client, chat_channel, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("admin:channels_app_chatchannel_change", args=[chat_channel.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/chat/widget.js" in html
    assert f"data-channel=&quot;{chat_channel.key}&quot;" in html


def test_it_normalizes_and_checks_the_phone_in_the_sms_number_admin(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:channels_app_smsnumber_add")
    form = {"account_sid": "AC1", "auth_token": "t", "active": "on"}

    bad = client.post(url, {**form, "phone": "not a number"})
    good = client.post(url, {**form, "phone": "(415) 555-0100"})

    assert bad.status_code == 200 and "is not a phone number" in bad.content.decode()
    assert good.status_code == 302
    assert SmsNumber.objects.get().phone == "+14155550100"


def test_it_reads_a_visitors_chat_history_in_one_query_whatever_its_length(
    chat_channel, agent, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from channels_app.chat.services import chat_history, chat_message_receive
    from tickets.models import Ticket
    from tickets.services import message_reply

    def chat(visitor: str, turns: int) -> None:
        for n in range(turns):
            receipt = chat_message_receive(
                channel=chat_channel, visitor_id=visitor, client_id=f"c{n}", text=f"q{n}"
            )
            ticket = Ticket.objects.get(number=receipt.ticket_number)
            with django_capture_on_commit_callbacks(execute=False):
                message_reply(ticket=ticket, author=agent, body_text=f"a{n}")

    chat("short", 1)
    chat("long", 6)

    with django_assert_num_queries(1):
        short = chat_history(visitor_id="short")
    with django_assert_num_queries(1):
        long = chat_history(visitor_id="long")

    assert [m["text"] for m in short] == ["q0", "a0"]
    assert len(long) == 12 and long[-1]["author"] == "Alex"


def test_it_explains_allowed_domains_written_as_urls_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    form = {"name": "Site", "colour": "#123456", "greeting": "Hi", "active": "on"}
    url = reverse("admin:channels_app_chatchannel_add")

    bad = client.post(url, {**form, "allowed_domains": "https://shop.example.com/"})
    good = client.post(url, {**form, "allowed_domains": "shop.example.com\n*.example.org"})

    assert bad.status_code == 200
    assert "without https://" in bad.content.decode()
    assert good.status_code == 302
    assert ChatChannel.objects.get().domains == ["shop.example.com", "*.example.org"]
