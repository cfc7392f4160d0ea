"""What the timeline shows of an email, through the template filters."""

import pytest
from django.template import Context, Template

from tickets.models import Attachment

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template("{% load email_display %}" + source).render(Context(context))


def test_it_shows_the_new_text_and_says_more_is_hidden(deliver, load_eml, mailbox):
    result, _ = deliver(load_eml("cc_and_quote.eml"), mailbox)

    shown = render("{{ m|display_text }}|{{ m|has_hidden_text }}", m=result.message)

    text, hidden = shown.rsplit("|", 1)
    assert text.strip().endswith("Mia") and "wrote:" not in text
    assert hidden == "True"
    assert "Is the printer working now?" in result.message.body_text


def test_it_escapes_the_text_it_shows(deliver, mailbox):
    result, _ = deliver(
        b"From: a@example.com\r\nSubject: x\r\n\r\n<script>x()</script>\r\n", mailbox
    )

    assert "&lt;script&gt;" in render("{{ m|display_text }}", m=result.message)


def test_it_points_inline_images_at_their_attachment(deliver, load_eml, mailbox):
    result, _ = deliver(load_eml("inline_image.eml"), mailbox)
    image = Attachment.objects.get(content_id="shot1@example.com")

    from channels_app.email.display import message_display_html

    html = message_display_html(result.message)

    assert f'src="/agent/attachments/{image.pk}/"' in html and "cid:" not in html
