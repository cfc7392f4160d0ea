from datetime import timedelta
from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Max, Min
from django.test.utils import override_settings
from django.utils import timezone

from channels_app.models import Delivery, DeliveryStatus, Mailbox
from helpdesk.roles import is_admin, is_agent
from tickets.demo import demo_reset
from tickets.models import (
    Channel,
    ContactIdentity,
    Customer,
    Direction,
    IdentityKind,
    Message,
    Organization,
    Priority,
    Status,
    Team,
    Ticket,
    TicketEvent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug_on(settings, pg):
    settings.DEBUG = True
    # Nobody listens while the demo loads; the in-memory layer keeps thousands of pushes
    # to Redis out of these tests' run time.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    """The demo, loaded once for the tests that only read it (each test still runs in its
    own transaction on top of it), and removed afterwards."""
    in_memory = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with django_db_blocker.unblock(), override_settings(DEBUG=True, CHANNEL_LAYERS=in_memory):
        assert not Ticket.objects.exists()
        call_command("seed_demo", "--if-empty", stdout=StringIO())
        yield
        demo_reset()


@pytest.fixture
def demo(demo_loaded, debug_on):
    pass


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_it_loads_a_month_of_tickets_in_every_status_channel_and_priority(demo):
    assert 140 <= Ticket.objects.count() <= 170
    assert Customer.objects.count() == 40
    assert Organization.objects.count() == 3
    assert set(Team.objects.values_list("name", flat=True)) == {"Support", "Billing"}
    assert all(team.members.exists() for team in Team.objects.all())
    assert Mailbox.objects.filter(is_default=True).count() == 1
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert set(Ticket.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert set(Ticket.objects.values_list("priority", flat=True)) == set(Priority.values)
    # Histories: customers write, agents answer, agents leave notes, some tickets merge.
    assert Message.objects.filter(direction=Direction.INBOUND).count() >= 150
    assert Message.objects.filter(direction=Direction.OUTBOUND, is_internal=False).exists()
    assert Message.objects.filter(is_internal=True).exists()
    assert Ticket.objects.filter(merged_into__isnull=False).count() == 2
    assert Ticket.objects.filter(follow_up_of__isnull=False).count() == 2
    assert Ticket.objects.filter(tags__isnull=False).distinct().count() > 30
    assert Ticket.objects.filter(assignee__isnull=False).count() > 80


def test_it_spreads_the_history_over_the_past_month_and_sends_nothing(demo):
    now = timezone.now()

    span = Ticket.objects.aggregate(first=Min("created_at"), last=Max("updated_at"))
    assert span["first"] < now - timedelta(days=25)
    assert span["last"] <= now
    assert not Message.objects.filter(created_at__gt=now).exists()
    assert not TicketEvent.objects.filter(created_at__gt=now).exists()
    for ticket in Ticket.objects.filter(first_response_at__isnull=False)[:50]:
        assert ticket.created_at <= ticket.first_response_at <= ticket.updated_at
    # Every demo reply counts as already sent: loading the demo mails and texts nobody.
    assert Delivery.objects.exists()
    assert not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()


def test_it_gives_customers_valid_email_and_phone_identities(demo):

    phones = ContactIdentity.objects.filter(kind=IdentityKind.PHONE).values_list("value", flat=True)
    assert len(phones) >= 20
    for value in phones:
        assert phonenumbers.is_possible_number(phonenumbers.parse(value))
        assert value.startswith(("+1415555", "+44207946"))  # ranges reserved for fiction
    emails = ContactIdentity.objects.filter(kind=IdentityKind.EMAIL)
    assert emails.count() == Customer.objects.count()
    assert all(value == value.lower() for value in emails.values_list("value", flat=True))


def test_it_creates_the_demo_logins_with_their_roles(demo):
    User = get_user_model()

    admin = User.objects.get(username="admin")
    assert admin.check_password("admin")
    assert admin.is_superuser and admin.is_staff and is_admin(admin)
    assert admin.groups.filter(name="Admins").exists()
    for username in ("agent", "agent2", "lead", "light"):
        user = User.objects.get(username=username)
        assert user.check_password(username)
        assert is_agent(user) and not is_admin(user)
        assert user.first_name
    lead, light = User.objects.get(username="lead"), User.objects.get(username="light")
    assert lead.groups.filter(name="Leads").exists() and lead.has_perm("tickets.assign_others")
    assert light.groups.filter(name="Light agents").exists()
    assert list(light.teams.values_list("name", flat=True)) == ["Billing"]
    assert not light.has_perm("tickets.reply_public")


def test_the_light_agent_sees_only_billings_tickets(demo):
    from tickets.visibility import tickets_visible_to

    light = get_user_model().objects.get(username="light")
    visible = tickets_visible_to(light)
    assert visible.exists()
    assert set(visible.values_list("team__name", flat=True)) == {"Billing"}


def test_it_loads_nothing_the_second_time_with_if_empty(demo):
    counts = (Ticket.objects.count(), Message.objects.count(), Customer.objects.count())

    output = seed("--if-empty")

    assert "already has data" in output
    assert (Ticket.objects.count(), Message.objects.count(), Customer.objects.count()) == counts


def test_it_replaces_the_data_with_the_same_demo_on_reset(demo):
    subjects = sorted(Ticket.objects.values_list("subject", flat=True))

    output = seed("--reset")

    # The logins are printed, each role's.
    for login in ("admin/admin", "agent/agent", "agent2/agent2", "lead/lead", "light/light"):
        assert login in output
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == subjects
    names = ["admin", "agent", "agent2", "lead", "light"]
    assert get_user_model().objects.filter(username__in=names).count() == 5
    assert Customer.objects.count() == 40


def test_it_sets_up_the_help_centre_the_sla_and_the_channels(demo):
    from channels_app.models import ChatChannel, SmsNumber
    from knowledge_base.models import Article, SupportCategory
    from tickets.models import SlaPolicy

    assert Article.objects.filter(status="published").count() >= 20
    assert Article.objects.filter(status="draft").exists()
    assert SupportCategory.objects.exists()
    assert SlaPolicy.objects.filter(active=True).exists()
    # Open tickets carry live due times, paused ones none.
    assert Ticket.objects.filter(status="open", sla_next_due_at__isnull=False).exists()
    assert not Ticket.objects.filter(status="pending", sla_next_due_at__isnull=False).exists()
    assert SmsNumber.objects.count() == 1
    assert ChatChannel.objects.count() == 1
