import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from channels_app.ingest import inbound_message_ingest
from tickets.models import SatisfactionRating, Status, Ticket
from tickets.portal.errors import PortalError
from tickets.portal.notifications import satisfaction_requests_send_due
from tickets.portal.services import satisfaction_rating_submit
from tickets.portal.tokens import rating_token_make
from tickets.selectors import ticket_satisfaction
from tickets.services import ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, make_inbound):
    return inbound_message_ingest(message=make_inbound(external_id="s1")).ticket


def _solve(ticket, agent, capture):
    with capture(execute=True):
        ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    ticket.refresh_from_db()


@pytest.fixture
def no_delay(settings):
    settings.HELPDESK_CSAT_DELAY = 0


def test_it_emails_a_rating_link_when_a_ticket_is_solved(
    client, ticket, agent, no_delay, django_capture_on_commit_callbacks
):
    _solve(ticket, agent, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dana@example.com"]
    link = re.search(r"/portal/rate/\S+", mail.outbox[0].body).group(0)
    page = client.get(link)
    assert page.status_code == 200 and b"How did we do" in page.content
    response = client.post(link, {"score": "5", "comment": "Quick <b>help</b>"})
    assert response.status_code == 200
    rating = ticket_satisfaction(ticket=ticket)
    assert rating.score == 5 and rating.comment == "Quick <b>help</b>"
    assert b"<b>help</b>" not in client.get(link).content


def test_it_sends_the_rating_email_once_per_solve(
    ticket, agent, no_delay, django_capture_on_commit_callbacks
):
    from tickets.portal.notifications import satisfaction_request_send

    _solve(ticket, agent, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        satisfaction_request_send(ticket_id=ticket.pk)  # a task that ran twice
    _tick(django_capture_on_commit_callbacks)  # and the tick after it

    assert len(mail.outbox) == 1


def test_it_keeps_one_rating_per_ticket_changeable_for_seven_days(
    ticket, agent, django_capture_on_commit_callbacks
):
    _solve(ticket, agent, django_capture_on_commit_callbacks)
    satisfaction_rating_submit(ticket=ticket, customer_id=ticket.customer_id, score=2)
    satisfaction_rating_submit(ticket=ticket, customer_id=ticket.customer_id, score=4, comment="ok")

    assert SatisfactionRating.objects.count() == 1
    assert SatisfactionRating.objects.get().score == 4
    with time_machine.travel(timezone.now() + timedelta(days=8)), pytest.raises(PortalError) as err:
        satisfaction_rating_submit(ticket=ticket, customer_id=ticket.customer_id, score=1)
    assert "7 days" in err.value.message
    assert SatisfactionRating.objects.get().score == 4


def test_it_refuses_ratings_for_unsolved_tickets_and_bad_scores(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    with pytest.raises(PortalError):
        satisfaction_rating_submit(ticket=ticket, customer_id=ticket.customer_id, score=5)
    _solve(ticket, agent, django_capture_on_commit_callbacks)
    token = rating_token_make(ticket_id=ticket.pk, customer_id=ticket.customer_id)

    response = client.post(f"/portal/rate/{token}/", {"score": "9"})

    assert response.status_code == 400 and b"Choose a rating from 1 to 5" in response.content
    assert not SatisfactionRating.objects.exists()


def test_it_refuses_tampered_rating_links_and_other_customers(
    client, ticket, agent, other_customer_ticket
):
    token = rating_token_make(ticket_id=ticket.pk, customer_id=ticket.customer_id)

    assert client.get(f"/portal/rate/{token[:-3]}abc/").status_code == 400
    forged = rating_token_make(ticket_id=ticket.pk, customer_id=other_customer_ticket.customer_id)
    assert client.get(f"/portal/rate/{forged}/").status_code == 404


@pytest.fixture
def other_customer_ticket(make_inbound):
    return inbound_message_ingest(
        message=make_inbound(external_id="o9", sender="olive@example.com")
    ).ticket


def test_it_shows_the_rating_link_on_the_portal_ticket_page(
    ticket, agent, signed_in, django_capture_on_commit_callbacks
):
    _solve(ticket, agent, django_capture_on_commit_callbacks)
    client = signed_in(ticket.customer_id, "dana@example.com")

    html = client.get(f"/portal/tickets/{ticket.number}/").content.decode()

    assert "Rate this request" in html and "Reopen this request" in html


def test_it_does_not_ask_about_tickets_solved_long_ago(
    ticket, agent, django_capture_on_commit_callbacks
):
    from tickets.portal.notifications import satisfaction_request_send

    with django_capture_on_commit_callbacks(execute=False):
        ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    # Due long ago too: workers that were down for days do not ask about old news.
    long_ago = timezone.now() - timedelta(days=3)
    Ticket.objects.filter(pk=ticket.pk).update(solved_at=long_ago, csat_due_at=long_ago)

    assert satisfaction_request_send(ticket_id=ticket.pk) is False
    assert mail.outbox == []


def _tick(capture):
    """One periodic tick; the requests it queues go out when its transaction commits."""
    with capture(execute=True):
        return satisfaction_requests_send_due()


def _later(seconds):
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False)


def test_it_waits_the_configured_delay_before_asking(
    ticket, agent, settings, django_capture_on_commit_callbacks
):
    assert settings.HELPDESK_CSAT_DELAY == 86400  # a day, Zendesk's default
    settings.HELPDESK_CSAT_DELAY = 3600
    _solve(ticket, agent, django_capture_on_commit_callbacks)

    assert mail.outbox == []  # nothing at the solve
    assert ticket.csat_due_at == ticket.solved_at + timedelta(hours=1)
    with _later(3590):
        assert _tick(django_capture_on_commit_callbacks) == 0
    with _later(3610):
        assert _tick(django_capture_on_commit_callbacks) == 1
        assert _tick(django_capture_on_commit_callbacks) == 0  # the next tick finds nothing

    assert len(mail.outbox) == 1 and "How did we do" in mail.outbox[0].subject
    ticket.refresh_from_db()
    assert ticket.csat_due_at is None


def test_it_sends_nothing_when_the_ticket_is_reopened_within_the_delay(
    ticket, agent, django_capture_on_commit_callbacks
):
    _solve(ticket, agent, django_capture_on_commit_callbacks)
    with _later(600), django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent)

    with _later(2 * 86400):
        assert _tick(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []
    assert Ticket.objects.get(pk=ticket.pk).csat_due_at is None


def test_it_asks_once_for_a_second_solve_after_a_reopen(
    ticket, agent, django_capture_on_commit_callbacks
):
    _solve(ticket, agent, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent)
    _solve(ticket, agent, django_capture_on_commit_callbacks)

    with _later(86400 + 60):
        assert _tick(django_capture_on_commit_callbacks) == 1
        assert _tick(django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1


def test_it_retries_a_failed_send_through_the_outbox(
    ticket, agent, settings, django_capture_on_commit_callbacks
):
    from channels_app.delivery import delivery_relay
    from channels_app.models import Delivery, DeliveryPurpose, DeliveryStatus

    _solve(ticket, agent, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.channels_app.backends.DownBackend"
    with _later(86400 + 60):
        assert _tick(django_capture_on_commit_callbacks) == 1  # queued, its send failed
    request = Delivery.objects.get(purpose=DeliveryPurpose.SATISFACTION_REQUEST)
    assert request.status == DeliveryStatus.QUEUED and "Could not reach" in request.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with _later(86400 + 60 + 3600):
        assert _tick(django_capture_on_commit_callbacks) == 0  # asked once, not again
        delivery_relay()
    request.refresh_from_db()
    assert request.status == DeliveryStatus.SENT and request.attempts == 2
    assert len(mail.outbox) == 1


def test_it_sends_the_due_requests_from_a_periodic_task(
    ticket, agent, django_capture_on_commit_callbacks
):
    from django_celery_beat.models import PeriodicTask

    from helpdesk.setup import periodic_tasks_ensure
    from tickets.portal.tasks import satisfaction_requests_due_task

    periodic_tasks_ensure()
    task = PeriodicTask.objects.get(name="Send due satisfaction requests")
    assert task.task == "tickets.portal.tasks.satisfaction_requests_due_task"
    assert task.enabled and task.interval.every == 60
    _solve(ticket, agent, django_capture_on_commit_callbacks)
    with _later(86400 + 1), django_capture_on_commit_callbacks(execute=True):
        assert satisfaction_requests_due_task.delay().get() == 1
    assert len(mail.outbox) == 1
