import json
import re

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from channels_app.models import RawInbound, RawStatus
from knowledge_base.models import ArticleStatus, Category, SearchLog
from knowledge_base.services import article_create
from tests.factories import PNG
from tickets.models import Attachment, Channel, ContactIdentity, Message, Ticket

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_it_shows_the_form_with_a_fresh_submission_id(client):
    response = client.get("/support/new/")

    assert response.status_code == 200
    assert b'name="submission_id"' in response.content
    assert b'hx-get="/support/suggest/"' in response.content
    assert b"vendor/htmx.min.js" in response.content


def test_it_creates_a_web_ticket_through_ingest_and_acknowledges_with_a_magic_link(
    client, form_data, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/support/new/", form_data(phone="+44 20 7946 0958"))

    assert response.status_code == 302 and response["Location"] == "/support/thanks/"
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.WEB and ticket.subject == "My parcel never arrived"
    raw = RawInbound.objects.get()
    assert raw.adapter == "web" and raw.status == RawStatus.PROCESSED
    assert ticket.customer.identities.filter(kind="phone", value="+442079460958").exists()
    page = client.get("/support/thanks/")
    assert f"#{ticket.number}".encode() in page.content
    assert len(mail.outbox) == 1
    ack = mail.outbox[0]
    assert ack.to == ["robin@example.com"] and f"#{ticket.number}" in ack.subject
    link = re.search(r"http://\S+/portal/login/\S+", ack.body).group(0)
    opened = client.post(link.replace("http://127.0.0.1:8000", ""), follow=True)
    assert ticket.subject.encode() in opened.content


def test_it_routes_by_the_chosen_request_type(client, form_data, support_category):
    client.post("/support/new/", form_data(category=str(support_category.pk)))

    ticket = Ticket.objects.get()
    assert ticket.team == support_category.team and ticket.priority == "high"


def test_it_lands_a_resubmitted_form_on_the_same_ticket(client, form_data):
    data = form_data()
    client.post("/support/new/", data)
    client.post("/support/new/", data)

    assert Ticket.objects.count() == 1 and Message.objects.count() == 1


def test_it_keeps_values_and_shows_errors_next_to_fields(client, form_data):
    response = client.post("/support/new/", form_data(email="not-an-email", subject="", phone="12"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert "does not look like a phone number" in html
    assert 'value="Robin Example"' in html
    assert "I ordered a lamp two weeks ago" in html
    assert Ticket.objects.count() == 0 and RawInbound.objects.count() == 0


def test_it_stores_attachments_with_the_sniffed_type(client, form_data):
    upload = SimpleUploadedFile("screenshot.txt", PNG, content_type="text/plain")

    client.post("/support/new/", {**form_data(), "attachments": [upload]})

    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/png" and attachment.size == len(PNG)
    assert attachment.message.ticket.channel == Channel.WEB
    assert attachment.file.read() == PNG
    staged = json.loads(bytes(RawInbound.objects.get().payload))["attachments"][0]["path"]
    assert not default_storage.exists(staged)  # the staged copy is gone once ingested


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 200),
        ("notes.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 100),
        ("run.sh", b"echo hello"),
        ("script.txt", b"#!/bin/sh\nrm -rf /\n"),
    ],
)
def test_it_refuses_executables_whatever_they_are_called(client, form_data, name, content):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")

    response = client.post("/support/new/", {**form_data(), "attachments": [upload]})

    assert response.status_code == 400
    assert "is a program or script" in response.content.decode()
    assert "attach them once more" in response.content.decode()
    assert Ticket.objects.count() == 0


@override_settings(HELPDESK_WEB_MAX_FILE_BYTES=1000)
def test_it_refuses_an_oversized_file(client, form_data):
    upload = SimpleUploadedFile("big.png", PNG + b"\x00" * 2000, content_type="image/png")

    response = client.post("/support/new/", {**form_data(), "attachments": [upload]})

    assert response.status_code == 400
    assert "each file may be at most 1000" in response.content.decode()
    assert Ticket.objects.count() == 0


def test_it_refuses_too_many_files(client, form_data):
    uploads = [SimpleUploadedFile(f"f{i}.png", PNG, content_type="image/png") for i in range(6)]

    response = client.post("/support/new/", {**form_data(), "attachments": uploads})

    assert response.status_code == 400
    assert "the limit is 5" in response.content.decode()
    assert Ticket.objects.count() == 0


def test_it_renders_xss_in_every_field_inert(client, form_data, django_capture_on_commit_callbacks):
    data = form_data(name=XSS, subject=f"Help {XSS}", description=XSS, email="x@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/support/new/", data)
    ticket = Ticket.objects.get()
    message = ticket.messages.get()
    assert message.body_html == ""  # text only: nothing to render as HTML

    from tickets.portal.tokens import portal_token_make

    client.post(
        f"/portal/login/{portal_token_make(customer_id=ticket.customer_id, email='x@example.com')}/"
    )
    for url in ("/portal/tickets/", f"/portal/tickets/{ticket.number}/"):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html

    bad = client.post("/support/new/", form_data(name=XSS, email=XSS, phone=XSS))
    assert "<script>alert" not in bad.content.decode()


def test_it_drops_a_honeypot_submission_silently(client, form_data):
    response = client.post("/support/new/", form_data(website="http://spam.example"))

    assert response.status_code == 200 and b"we have your request" in response.content
    assert Ticket.objects.count() == 0 and RawInbound.objects.count() == 0


@override_settings(HELPDESK_WEB_RATE_PER_EMAIL=2)
def test_it_rate_limits_per_email_with_a_clear_page(client, form_data):
    for _ in range(2):
        assert client.post("/support/new/", form_data()).status_code == 302

    response = client.post("/support/new/", form_data())

    assert response.status_code == 429
    assert "try again in" in response.content.decode() and int(response["Retry-After"]) > 0
    assert Ticket.objects.count() == 2


@override_settings(HELPDESK_WEB_RATE_PER_IP=1)
def test_it_rate_limits_per_ip(client, form_data):
    client.post("/support/new/", form_data(email="a@example.com"))

    response = client.post("/support/new/", form_data(email="b@example.com"))

    assert response.status_code == 429 and Ticket.objects.count() == 1


def test_it_requires_csrf(form_data):
    response = Client(enforce_csrf_checks=True).post("/support/new/", form_data())

    assert response.status_code == 403 and Ticket.objects.count() == 0


def test_it_suggests_published_articles_while_typing(client):
    category = Category.objects.create(name="Orders", slug="orders")
    article_create(
        title="Track your order",
        category=category,
        body="Use the tracking number.",
        status=ArticleStatus.PUBLISHED,
    )
    article_create(title="Track draft", category=category, body="tracking draft")

    response = client.get("/support/suggest/", {"subject": "track order"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert "Track your order" in html and "Track draft" not in html
    assert "from=support" in html and "<html" not in html
    assert SearchLog.objects.get().source == "suggest"
    full = client.get("/support/suggest/", {"subject": "track order"})
    assert "<html" in full.content.decode()


def test_it_quarantines_a_submission_whose_staged_file_vanished(form_data, settings, tmp_path):
    from django.core.files.storage import default_storage

    from tickets.portal.services import WebRequest, web_request_submit
    from tickets.uploads import CheckedFile

    original_save = default_storage.save

    def save_then_lose(name, content, **kwargs):
        stored = original_save(name, content, **kwargs)
        default_storage.delete(stored)
        return stored

    default_storage.save = save_then_lose
    try:
        result = web_request_submit(
            request=WebRequest(
                name="R",
                email="r@example.com",
                subject="s",
                description="d",
                submission_id="abc",
                files=(CheckedFile("a.png", "image/png", PNG),),
            )
        )
    finally:
        default_storage.save = original_save

    assert result.ticket is None
    assert RawInbound.objects.get(pk=result.raw_id).status == RawStatus.QUARANTINED
    assert not ContactIdentity.objects.exists() or Ticket.objects.count() == 0


@override_settings(HELPDESK_WEB_MAX_FILES=1, HELPDESK_WEB_MAX_FILE_BYTES=1000)
def test_it_refuses_a_body_larger_than_all_allowed_files_before_reading_it(client, form_data):
    upload = SimpleUploadedFile("big.png", PNG + b"\x00" * 2_000_000, content_type="image/png")

    response = client.post("/support/new/", {**form_data(), "attachments": [upload]})

    assert response.status_code == 413 and b"too large" in response.content
    assert Ticket.objects.count() == 0


def test_it_never_lands_a_copied_submission_id_on_someone_elses_ticket(client, form_data):
    data = form_data()
    client.post("/support/new/", data)

    other = Client()
    other.post("/support/new/", {**data, "email": "mallory@example.com", "subject": "Mine"})

    assert Ticket.objects.count() == 2
    page = other.get("/support/thanks/").content.decode()
    assert f"#{Ticket.objects.get(subject='Mine').number}" in page


def test_it_does_not_acknowledge_an_opted_out_address(
    client, form_data, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from tests.factories import CustomerFactory, IdentityFactory

    IdentityFactory(
        customer=CustomerFactory(), value="robin@example.com", opted_out_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/support/new/", form_data())

    assert Ticket.objects.count() == 1 and mail.outbox == []


def test_it_counts_a_sender_once_however_it_rotates_x_forwarded_for(client, settings, form_data):
    settings.HELPDESK_TRUSTED_PROXIES = []
    settings.HELPDESK_WEB_RATE_PER_IP = 2
    statuses = [
        client.post(
            "/support/new/",
            form_data(email=f"x{n}@example.com"),
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(3)
    ]

    assert statuses == [302, 302, 429]
