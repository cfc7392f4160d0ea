from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug_on(settings, pg):
    settings.DEBUG = True
    # Nobody listens while the demo loads; the in-memory layer keeps thousands of pushes
    # to Redis out of these tests' run time.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_it_loads_nothing_with_if_empty_when_any_ticket_exists(debug_on):
    TicketFactory()

    seed("--if-empty")

    assert Ticket.objects.count() == 1
    assert not get_user_model().objects.filter(username="admin").exists()


def test_it_refuses_to_load_over_existing_data_without_a_flag(debug_on):
    TicketFactory()

    with pytest.raises(CommandError, match="--reset"):
        seed()

    assert Ticket.objects.count() == 1


def test_it_refuses_demo_passwords_with_debug_off(settings, pg):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="createsuperuser"):
        seed()

    assert not get_user_model().objects.exists()
    assert not Ticket.objects.exists()


def test_it_skips_the_demo_with_a_warning_when_make_run_has_debug_off(settings, pg):
    settings.DEBUG = False

    output = seed("--if-empty")

    assert "createsuperuser" in output
    assert not get_user_model().objects.exists()
