"""The email adapter on the .eml corpus: what each kind of real mail turns into."""

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels_app.email.adapter import _parse, normalize_subject, parse
from channels_app.email.display import email_display_text
from channels_app.inbound import ParseError
from channels_app.registry import ADAPTERS
from tests.channels_app.email.conftest import PAYLOADS, eml

OWN = {"own_addresses": "support@helpdesk.test"}


def test_it_is_registered_as_the_email_adapter():
    assert ADAPTERS["email"] is parse


def test_it_decodes_encoded_word_headers_and_utf8_bodies():
    message = parse(eml("plain_encoded_words.eml"), OWN)

    assert message.sender.value == "juergen@example.de"
    assert message.sender.display_name == "Jürgen Müller"
    assert message.subject == "Bestellung für Größe 42"
    assert message.text == "Hallo, meine Bestellung für Größe 42 ist nicht angekommen."
    assert message.external_id == message.rfc_message_id == "<plain-1@example.de>"
    assert not message.is_automated


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mislabeled_latin1_is_utf8.eml", "Voilà ma facture réglée, merci beaucoup."),
        ("mislabeled_utf8_is_cp1252.eml", "Mi pedido todavía no llegó. ¿Dónde está?"),
        ("unknown_charset.eml", "Le café était froid, très décevant."),
    ],
)
def test_it_reads_wrongly_declared_and_unknown_charsets(name, expected):
    assert expected in parse(eml(name), OWN).text


def test_it_keeps_both_alternatives_and_normalizes_the_subject():
    message = parse(eml("alternative.eml"), OWN)

    assert message.text == "Where is my order?"
    assert "<b>my order</b>" in message.html  # sanitized later, by ingest
    assert message.subject == "Order late"
    assert message.meta["original_subject"] == "Re: AW: Order late"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Fwd: RE: Order", "Order"),
        ("AW: WG: Rechnung", "Rechnung"),
        ("SV: VS: Tilaus", "Tilaus"),
        ("Antw: Bestelling", "Bestelling"),
        ("回复\uff1a订单", "订单"),
        ("Re[2]: [#1234] Broken printer", "Broken printer"),
        ("Regarding: the contract", "Regarding: the contract"),
        ("", ""),
    ],
)
def test_it_normalizes_reply_prefixes_in_many_languages(subject, expected):
    assert normalize_subject(subject) == expected


def test_it_leaves_text_empty_for_html_only_mail_so_ingest_derives_it():
    message = parse(eml("html_only.eml"), OWN)

    assert message.text == ""
    assert "First paragraph" in message.html


def test_it_keeps_attachments_with_safe_names():
    message = parse(eml("attachments.eml"), OWN)

    names = [f.filename for f in message.attachments]
    assert names == ["passwd.pdf", "Résumé final.txt"]
    assert message.attachments[0].content == b"%PDF-1.4 fake pdf body"
    assert message.text == "Please see the attached files."


def test_it_keeps_inline_images_by_content_id():
    message = parse(eml("inline_image.eml"), OWN)

    (image,) = message.attachments
    assert image.content_id == "shot1@example.com"
    assert image.content.startswith(b"\x89PNG")
    assert 'src="cid:shot1@example.com"' in message.html


def test_it_attaches_a_forwarded_message_whole():
    message = parse(eml("forwarded.eml"), OWN)

    (forwarded,) = message.attachments
    assert forwarded.filename == "Your invoice.eml"
    assert forwarded.content_type == "message/rfc822"
    assert b"You owe 12 EUR." in forwarded.content
    assert message.text == "FYI, this is what I got from billing."
    assert "<billing-77@shop.example>" not in message.thread_hints


def test_it_attaches_calendar_invites():
    message = parse(eml("calendar_invite.eml"), OWN)

    (invite,) = message.attachments
    assert invite.filename == "invite.ics"
    assert b"BEGIN:VCALENDAR" in invite.content
    assert message.text == "You are invited to the onboarding call."


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto_reply_rfc3834.eml", "auto-submitted"),
        ("out_of_office_exchange.eml", "out-of-office"),
        ("list_mail.eml", "list-id"),
        ("bounce_dsn.eml", "mailer-daemon"),
    ],
)
def test_it_flags_automated_mail(name, reason):
    message = parse(eml(name), OWN)

    assert message.is_automated
    assert reason in message.meta["automated"]


@pytest.mark.parametrize(
    "header",
    [
        "X-Loop: helpdesk",
        "Precedence: bulk",
        "Precedence: junk",
        "X-Autoreply: yes",
        "X-Autorespond: vacation",
        "Return-Path: <>",
    ],
)
def test_it_flags_each_loop_marker(header):
    payload = f"{header}\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n".encode()

    assert parse(payload, OWN).is_automated


def test_it_does_not_flag_auto_submitted_no():
    payload = b"Auto-Submitted: no\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"

    assert not parse(payload, OWN).is_automated


def test_it_reads_the_bounced_message_id_and_recipient_from_a_dsn():
    message = parse(eml("bounce_dsn.eml"), OWN)

    assert message.meta["bounce_message_id"] == "<OUTBOUND-ID@helpdesk.localhost>"
    assert message.meta["bounce_recipient"] == "nobody@customer.example"
    assert message.thread_hints[0] == "<OUTBOUND-ID@helpdesk.localhost>"


def test_it_hashes_sender_date_subject_and_body_when_there_is_no_message_id():
    first = parse(eml("no_message_id.eml"), OWN)
    again = parse(eml("no_message_id.eml"), OWN)
    other = parse(eml("no_message_id.eml", **{"forgot": "lost"}), OWN)

    assert first.external_id.startswith("sha256:")
    assert first.external_id == again.external_id
    assert other.external_id != first.external_id
    assert first.rfc_message_id == ""


def test_it_reads_what_it_can_of_malformed_mail():
    message = parse(eml("malformed.eml"), OWN)

    assert message.sender.value == "lee@example.com"
    assert message.external_id == "<malformed-1@example.com>"
    assert "Hello world" in message.text


def test_it_refuses_a_payload_without_sender_headers():
    with pytest.raises(ParseError, match="no From"):
        parse(eml("not_an_email.eml"), OWN)


def test_it_refuses_an_oversized_message_before_parsing(settings):
    settings.HELPDESK_EMAIL_MAX_BYTES = 100

    with pytest.raises(ParseError, match="over the"):
        parse(b"From: a@example.com\r\n\r\n" + b"x" * 200, OWN)


def test_it_refuses_mail_from_our_own_mailbox_as_a_requester():
    payload = b"From: Support <SUPPORT@helpdesk.test>\r\nSubject: loop\r\n\r\nbody\r\n"

    with pytest.raises(ParseError, match="our own mailbox"):
        parse(payload, OWN)


def test_it_drops_html_too_big_to_sanitize_and_keeps_readable_text(settings):
    settings.HELPDESK_EMAIL_MAX_HTML_BYTES = 3000
    links = "".join(f'<p><a href="https://x.example/{n}">link {n}</a></p>' for n in range(100))
    payload = (
        "From: a@example.com\r\nSubject: big\r\nContent-Type: text/html\r\n\r\n" + links
    ).encode()

    message = parse(payload, OWN)

    assert message.html is None
    assert "link 0" in message.text and "link 99" in message.text
    assert "<a" not in message.text
    (original,) = message.attachments  # nothing lost: the HTML is one click away
    assert original.filename == "original-message.html" and b"link 99" in original.content


def test_it_threads_on_in_reply_to_then_references_newest_first():
    payload = (
        b"From: a@example.com\r\nSubject: Re: x\r\nIn-Reply-To: <c@x>\r\n"
        b"References: <a@x> <b@x> <c@x>\r\n\r\nbody\r\n"
    )

    assert parse(payload, OWN).thread_hints == ("<c@x>", "<b@x>", "<a@x>")


def test_it_takes_the_ticket_reference_from_a_plus_address_before_the_subject():
    payload = (
        b"From: a@example.com\r\nTo: support+0123456789abcdef@helpdesk.test\r\n"
        b"Subject: Re: [#1001] x\r\n\r\nbody\r\n"
    )

    assert parse(payload, OWN).ticket_reference == "0123456789abcdef"


def test_it_ignores_plus_addresses_of_other_domains():
    payload = (
        b"From: a@example.com\r\nTo: someone+0123456789abcdef@other.example\r\n"
        b"Subject: [#1001] x\r\n\r\nbody\r\n"
    )

    assert parse(payload, OWN).ticket_reference == "1001"


def test_it_makes_cc_and_to_recipients_followers_except_our_own_addresses():
    message = parse(eml("cc_and_quote.eml"), OWN)

    assert [i.value for i in message.cc] == ["ned@example.com", "oli@example.com"]
    assert parse(eml("cc_and_quote.eml"), {**OWN, "cc_followers": "0"}).cc == ()


def test_it_strips_quotes_and_signatures_for_display_only():
    message = parse(eml("cc_and_quote.eml"), OWN)

    shown = email_display_text(message.text)

    assert shown.startswith("The printer on floor 2 is broken again.")
    assert "wrote:" not in shown and "> Is the printer" not in shown
    assert "> Is the printer working now?" in message.text  # the original is whole


def test_it_never_hides_text_written_only_as_quote():
    text = "> quoted line only\n> another"

    assert email_display_text(text) == text


def test_it_refuses_our_own_plus_address_as_a_sender_too():
    payload = b"From: support+0123456789abcdef@helpdesk.test\r\nSubject: x\r\n\r\nbody\r\n"

    with pytest.raises(ParseError, match="our own mailbox"):
        parse(payload, OWN)


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=2000)
    | st.builds(
        lambda headers, body: headers.encode("utf-8", "surrogatepass") + b"\r\n\r\n" + body,
        st.text(max_size=300),
        st.binary(max_size=500),
    )
)
def test_it_only_ever_raises_parse_error_on_arbitrary_bytes(payload):
    # _parse, not parse: the catch-all in parse() is the last line of defence; the
    # parser itself should cope with anything.
    try:
        message = _parse(b"From: fuzz@example.com\r\n" + payload, OWN)
    except ParseError:
        return
    assert message.sender.value


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_it_never_crashes_on_garbage_without_headers(payload):
    with contextlib.suppress(ParseError):
        _parse(payload, OWN)


def test_it_turns_a_parser_crash_into_a_quarantine_error():
    from unittest import mock

    with (
        mock.patch("channels_app.email.adapter._walk", side_effect=AttributeError("boom")),
        pytest.raises(ParseError, match="could not be read"),
    ):
        parse(eml("alternative.eml"), OWN)


def test_it_accepts_a_message_id_without_angle_brackets():
    payload = b"From: a@example.com\r\nMessage-ID: abc123@mail.example\r\n\r\nbody\r\n"

    assert parse(payload, OWN).external_id == "<abc123@mail.example>"


def test_the_header_cache_changes_no_result_over_the_whole_corpus(monkeypatch):
    """The adapter's policy parses each distinct header once; every .eml reads the same as
    with the stdlib's policy.default."""
    from email import policy

    from channels_app.email import adapter as email_adapter

    payloads = [path.read_bytes() for path in sorted(PAYLOADS.glob("*.eml"))]
    assert len(payloads) > 10

    def read_all():
        out = []
        for payload in payloads:
            try:
                out.append(parse(payload, {**OWN, "received_at": "2026-01-01T00:00:00+00:00"}))
            except ParseError as exc:
                out.append(str(exc))
        return out

    cached = read_all()
    cached_again = read_all()  # every header now comes from the cache
    monkeypatch.setattr(email_adapter, "POLICY", policy.default)
    assert cached == cached_again == read_all()


def test_it_parses_each_distinct_header_once():
    from channels_app.email.adapter import POLICY

    value = "text/plain; charset=utf-8"
    first = POLICY.header_fetch_parse("Content-Type", value)
    assert POLICY.header_fetch_parse("Content-Type", value) is first
    assert first.content_type == "text/plain" and first.params["charset"] == "utf-8"
    long_value = "x" * 5000  # long values are parsed each time, never kept
    assert POLICY.header_fetch_parse("Subject", long_value) is not POLICY.header_fetch_parse(
        "Subject", long_value
    )
