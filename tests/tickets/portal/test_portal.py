import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_app.ingest import inbound_message_ingest
from tests.factories import PNG, CustomerFactory, IdentityFactory
from tickets.models import Attachment, Channel, IdentityKind, Message, Status, Ticket
from tickets.portal.models import PortalSignIn
from tickets.portal.tokens import portal_token_make, rating_token_make
from tickets.services import NewFile, attachment_store, customer_merge, message_reply, note_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana_ticket(customer, make_inbound):
    return inbound_message_ingest(message=make_inbound(external_id="e1")).ticket


@pytest.fixture
def other(db):
    other = CustomerFactory(name="Olive Other")
    IdentityFactory(customer=other, kind=IdentityKind.EMAIL, value="olive@example.com")
    return other


@pytest.fixture
def olive_ticket(other, make_inbound):
    result = inbound_message_ingest(
        message=make_inbound(external_id="o1", sender="olive@example.com", subject="Olive secret")
    )
    attachment_store(message=result.message, file=NewFile("olive.png", "image/png", PNG))
    return result.ticket


def test_it_sends_a_link_to_a_known_address_and_answers_the_same_for_unknown(
    client, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/portal/", {"email": "DANA@example.com"})
        unknown = client.post("/portal/", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 200

    def strip(response):
        html = response.content.decode()
        return html.replace("DANA@example.com", "X").replace("nobody@example.com", "X")

    assert strip(known) == strip(unknown)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dana@example.com"]
    link = re.search(r"/portal/login/\S+", mail.outbox[0].body).group(0)
    assert client.post(link).status_code == 302
    assert b"My order never arrived" not in client.get("/portal/tickets/").content  # no tickets


@override_settings(HELPDESK_PORTAL_LINK_RATE_PER_EMAIL=2)
def test_it_rate_limits_link_requests(client, customer):
    for _ in range(2):
        assert client.post("/portal/", {"email": "dana@example.com"}).status_code == 200

    response = client.post("/portal/", {"email": "dana@example.com"})

    assert response.status_code == 429 and b"try again in" in response.content


def test_it_refuses_an_expired_link(client, customer, dana_ticket):
    token = portal_token_make(customer_id=customer.pk, email="dana@example.com")
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        response = client.get(f"/portal/login/{token}/")

    assert response.status_code == 400 and b"has expired" in response.content
    assert client.get("/portal/tickets/").status_code == 302


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-2] + "xx", lambda t: "garbage", lambda t: t.replace(":", "", 1)]
)
def test_it_refuses_a_tampered_link(client, customer, mangle):
    token = portal_token_make(customer_id=customer.pk, email="dana@example.com")

    response = client.get(f"/portal/login/{mangle(token)}/")

    assert response.status_code == 400 and b"not valid" in response.content
    assert client.get("/portal/tickets/").status_code == 302


def test_it_refuses_a_rating_token_as_a_sign_in_link(client, dana_ticket):
    token = rating_token_make(ticket_id=dana_ticket.pk, customer_id=dana_ticket.customer_id)

    assert client.get(f"/portal/login/{token}/").status_code == 400


def test_it_lists_tickets_from_every_channel_newest_activity_first(
    customer, dana_ticket, make_inbound, signed_in
):
    IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value="+14155550100")
    sms = inbound_message_ingest(
        message=make_inbound(
            external_id="sms1",
            channel=Channel.SMS,
            kind=IdentityKind.PHONE,
            sender="+14155550100",
            subject="",
            text="Text from my phone",
        )
    ).ticket
    client = signed_in(customer.pk, "dana@example.com")

    html = client.get("/portal/tickets/").content.decode()

    assert html.index(f"#{sms.number}") < html.index(f"#{dana_ticket.number}")
    assert "SMS" in html and "Email" in html


def test_it_lists_with_a_constant_number_of_queries_and_pages_by_keyset(
    customer, make_inbound, signed_in
):
    client = signed_in(customer.pk, "dana@example.com")
    inbound_message_ingest(message=make_inbound(external_id="x0"))
    with CaptureQueriesContext(connection) as one:
        client.get("/portal/tickets/")
    for i in range(1, 25):
        inbound_message_ingest(message=make_inbound(external_id=f"x{i}", subject=f"Problem {i}"))
    with CaptureQueriesContext(connection) as many:
        first = client.get("/portal/tickets/")

    assert len(one.captured_queries) == len(many.captured_queries)
    cursor = re.search(r'\?cursor=([^"]+)"', first.content.decode()).group(1)
    second = client.get(f"/portal/tickets/?cursor={cursor}").content.decode()
    assert "Problem 24" in first.content.decode() and "Problem 24" not in second
    assert "Problem 1<" in second or "Problem 1 " in second or "#" in second
    assert client.get("/portal/tickets/?cursor=bogus").status_code == 302


def test_it_shows_public_messages_only(customer, dana_ticket, agent, signed_in):
    message_reply(ticket=dana_ticket, author=agent, body_text="We are on it.")
    note_add(ticket=dana_ticket, author=agent, body_text="INTERNAL: customer is grumpy")
    client = signed_in(customer.pk, "dana@example.com")

    html = client.get(f"/portal/tickets/{dana_ticket.number}/").content.decode()

    assert "We are on it." in html and "Hello, where is my order?" in html
    assert "INTERNAL" not in html


def test_it_downloads_own_attachments_but_never_internal_ones(
    customer, dana_ticket, agent, signed_in
):
    public = attachment_store(
        message=dana_ticket.messages.get(), file=NewFile("a.png", "image/png", PNG)
    )
    note = note_add(ticket=dana_ticket, author=agent, body_text="see file")
    internal = attachment_store(message=note, file=NewFile("internal.png", "image/png", PNG))
    client = signed_in(customer.pk, "dana@example.com")

    response = client.get(f"/portal/attachments/{public.pk}/")

    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert "attachment" in response["Content-Disposition"]
    assert client.get(f"/portal/attachments/{internal.pk}/").status_code == 404


def test_it_never_shows_another_customers_ticket_or_attachment(
    customer, dana_ticket, other, olive_ticket, signed_in, form_data
):
    client = signed_in(customer.pk, "dana@example.com")
    olive_file = Attachment.objects.get(message__ticket=olive_ticket)
    n = olive_ticket.number

    assert client.get(f"/portal/tickets/{n}/").status_code == 404
    assert (
        client.post(f"/portal/tickets/{n}/", {"body": "hi", "submission_id": "a" * 32}).status_code
        == 404
    )
    assert client.post(f"/portal/tickets/{n}/status/", {"status": "solved"}).status_code == 404
    assert client.get(f"/portal/attachments/{olive_file.pk}/").status_code == 404
    assert "Olive secret" not in client.get("/portal/tickets/").content.decode()
    olive_ticket.refresh_from_db()
    assert olive_ticket.status == Status.NEW and olive_ticket.messages.count() == 1
    # And the other way round, with Olive's own link.
    olive = signed_in(other.pk, "olive@example.com")
    assert olive.get(f"/portal/tickets/{dana_ticket.number}/").status_code == 404
    assert olive.get(f"/portal/tickets/{n}/").status_code == 200
    assert olive.get(f"/portal/attachments/{olive_file.pk}/").status_code == 200


def test_it_requires_sign_in_for_every_portal_page(client, dana_ticket):
    for url in (
        "/portal/tickets/",
        f"/portal/tickets/{dana_ticket.number}/",
        "/portal/attachments/1/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/portal/"


def test_it_adds_a_reply_with_attachment_through_ingest(customer, dana_ticket, signed_in):
    client = signed_in(customer.pk, "dana@example.com")
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")

    response = client.post(
        f"/portal/tickets/{dana_ticket.number}/",
        {"body": "Here is a photo", "submission_id": "b" * 32, "attachments": [upload]},
    )

    assert response.status_code == 302
    reply = dana_ticket.messages.order_by("-id").first()
    assert reply.channel == Channel.WEB and reply.body_text == "Here is a photo"
    assert reply.attachments.get().filename == "photo.png"
    assert reply.raw.adapter == "web"


def test_it_keeps_the_reply_text_when_the_upload_is_refused(customer, dana_ticket, signed_in):
    client = signed_in(customer.pk, "dana@example.com")
    upload = SimpleUploadedFile("x.exe", b"MZ" + b"\x00" * 100)

    response = client.post(
        f"/portal/tickets/{dana_ticket.number}/",
        {"body": "Important words", "submission_id": "c" * 32, "attachments": [upload]},
    )

    assert response.status_code == 400
    assert (
        "Important words" in response.content.decode()
        and "program or script" in response.content.decode()
    )
    assert dana_ticket.messages.count() == 1


def test_it_lets_the_customer_solve_and_reopen(customer, dana_ticket, signed_in):
    client = signed_in(customer.pk, "dana@example.com")
    url = f"/portal/tickets/{dana_ticket.number}/status/"

    client.post(url, {"status": "solved"})
    dana_ticket.refresh_from_db()
    assert dana_ticket.status == Status.SOLVED
    client.post(url, {"status": "open"})
    dana_ticket.refresh_from_db()
    assert dana_ticket.status == Status.OPEN
    response = client.post(url, {"status": "closed"}, follow=True)
    dana_ticket.refresh_from_db()
    assert dana_ticket.status == Status.OPEN and b"cannot be changed that way" in response.content


def test_it_opens_a_follow_up_when_replying_to_a_closed_ticket(customer, dana_ticket, signed_in):
    Ticket.objects.filter(pk=dana_ticket.pk).update(status=Status.CLOSED)
    client = signed_in(customer.pk, "dana@example.com")

    response = client.post(
        f"/portal/tickets/{dana_ticket.number}/", {"body": "Again", "submission_id": "d" * 32}
    )

    follow_up = Ticket.objects.get(follow_up_of=dana_ticket)
    assert response["Location"] == f"/portal/tickets/{follow_up.number}/"


def test_it_follows_a_customer_merge(customer, dana_ticket, other, olive_ticket, agent, signed_in):
    client = signed_in(other.pk, "olive@example.com")
    customer_merge(source=other, target=customer, actor=agent)

    html = client.get("/portal/tickets/").content.decode()

    assert "Olive secret" in html and "My order never arrived" in html


def test_it_signs_out(customer, signed_in):
    client = signed_in(customer.pk, "dana@example.com")

    client.post("/portal/logout/")

    assert client.get("/portal/tickets/").status_code == 302


def _link(customer) -> str:
    return f"/portal/login/{portal_token_make(customer_id=customer.pk, email='dana@example.com')}/"


def test_it_asks_to_continue_on_get_so_a_mail_scanner_uses_up_nothing(client, customer):
    link = _link(customer)

    for _ in range(3):  # a scanner, a preview, the customer
        page = client.get(link)
        assert page.status_code == 200 and b'id="portal-continue"' in page.content
    assert client.get("/portal/tickets/").status_code == 302  # not signed in by a GET

    assert client.post(link).status_code == 302
    assert client.get("/portal/tickets/").status_code == 200


def test_it_signs_in_once_per_link(customer):
    link = _link(customer)
    assert Client().post(link).status_code == 302

    replayed = Client().post(link)
    opened_again = Client().get(link)

    assert replayed.status_code == 400 and b"already used" in replayed.content
    assert opened_again.status_code == 400 and b"already used" in opened_again.content


def test_it_lets_a_browser_already_signed_in_follow_its_used_link_again(client, customer):
    link = _link(customer) + "?next=/portal/tickets/"
    client.post(link)

    again = client.get(link)

    assert again.status_code == 302 and again["Location"] == "/portal/tickets/"


def test_it_ends_the_session_on_the_server_when_the_customer_signs_out(customer, signed_in):
    client = signed_in(customer.pk, "dana@example.com")
    stolen = Client()
    stolen.cookies = client.cookies  # the same session cookie, copied elsewhere

    client.post("/portal/logout/")

    assert stolen.get("/portal/tickets/").status_code == 302


def test_it_signs_a_customer_out_everywhere_when_an_agent_asks(customer, signed_in, agent):
    laptop = signed_in(customer.pk, "dana@example.com")
    phone = signed_in(customer.pk, "dana@example.com")
    desk = Client()
    desk.force_login(agent)

    response = desk.post(f"/agent/customers/{customer.pk}/portal-sign-out/")

    assert response.status_code == 302
    assert laptop.get("/portal/tickets/").status_code == 302
    assert phone.get("/portal/tickets/").status_code == 302
    again = desk.post(f"/agent/customers/{customer.pk}/portal-sign-out/", follow=True)
    assert b"was not signed in to the portal anywhere" in again.content


def test_it_refuses_the_portal_sign_out_to_anyone_but_an_agent(client, customer, signed_in):
    signed_in(customer.pk, "dana@example.com")

    response = client.post(f"/agent/customers/{customer.pk}/portal-sign-out/")

    assert response.status_code == 302 and "/agent/login/" in response["Location"]
    assert PortalSignIn.objects.filter(ended_at__isnull=True).count() == 1


def test_it_refuses_a_reusable_link_of_the_old_format(client, customer):
    from django.core import signing

    old = signing.TimestampSigner(salt="helpdesk.portal.magic-link.v1").sign_object(
        {"c": customer.pk, "e": "dana@example.com"}
    )

    assert client.post(f"/portal/login/{old}/").status_code == 400


def test_a_new_client_without_session_sees_nothing(dana_ticket):
    assert Client().get(f"/portal/tickets/{dana_ticket.number}/").status_code == 302
    assert Message.objects.count() == 1


def test_it_redirects_a_merged_ticket_to_the_one_it_lives_on(
    customer, make_inbound, agent, signed_in
):
    from tickets.services import ticket_merge

    first = inbound_message_ingest(message=make_inbound(external_id="m1")).ticket
    second = inbound_message_ingest(message=make_inbound(external_id="m2", subject="Two")).ticket
    ticket_merge(source=first, target=second, actor=agent)
    client = signed_in(customer.pk, "dana@example.com")

    response = client.get(f"/portal/tickets/{first.number}/")

    assert (
        response.status_code == 302 and response["Location"] == f"/portal/tickets/{second.number}/"
    )


def test_it_builds_a_ticket_link_for_the_email_channels_acknowledgements(client, dana_ticket):
    from tickets.portal.notifications import portal_link_for_ticket

    link = portal_link_for_ticket(dana_ticket)

    response = client.post(link.replace("http://127.0.0.1:8000", ""))
    assert response.status_code == 302
    assert response["Location"] == f"/portal/tickets/{dana_ticket.number}/"
    assert client.get(response["Location"]).status_code == 200


def test_it_builds_no_link_for_a_customer_without_email(make_inbound):
    from tickets.portal.notifications import portal_link_for_ticket

    ticket = inbound_message_ingest(
        message=make_inbound(
            external_id="sms9",
            channel=Channel.SMS,
            kind=IdentityKind.PHONE,
            sender="+14155550199",
            subject="",
            text="hi",
        )
    ).ticket

    assert portal_link_for_ticket(ticket) == ""
