"""SMS out through Twilio: opt-outs honoured, a resend asks Twilio first."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from channels_app.models import RESENT_NOTE, Delivery
from channels_app.senders import (
    PermanentDeliveryError,
    TemporaryDeliveryError,
    reply_of,
)
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import ContactIdentity, IdentityKind


def _opted_out_since(phone: str) -> str | None:
    stamp = (
        ContactIdentity.objects.filter(
            kind=IdentityKind.PHONE, value=phone, opted_out_at__isnull=False
        )
        .values_list("opted_out_at", flat=True)
        .first()
    )
    return f"{stamp:%Y-%m-%d %H:%M} UTC" if stamp else None


def sms_recipient_check(phone: str) -> None:
    """The SMS channel's recipient check: a number that opted out gets no reply written."""
    if _opted_out_since(phone) is not None:
        raise TicketError(TicketErrorCode.NO_RECIPIENT, _opted_out_text(phone))


def _opted_out_text(phone: str) -> str:
    return (
        f"{phone} opted out of texts (replied STOP, {_opted_out_since(phone)}). No SMS is "
        "sent until they text START; reply by email instead."
    )


SMS_MAX_LENGTH = 1600  # Twilio's limit for one message; it segments below that itself


def send_sms(delivery: Delivery) -> str:
    from twilio.base.exceptions import TwilioRestException

    from channels_app.sms.services import (
        OPTED_OUT_ERROR,
        STATUS_PATH,
        public_url,
        sms_number_for_ticket,
        twilio_client,
    )

    if _opted_out_since(delivery.recipient) is not None:
        raise PermanentDeliveryError(_opted_out_text(delivery.recipient))
    body = reply_of(delivery).body_text.strip()
    if len(body) > SMS_MAX_LENGTH:
        raise PermanentDeliveryError(
            f"The reply is {len(body)} characters; a text can carry {SMS_MAX_LENGTH}. "
            "Shorten it or reply by email."
        )
    number = sms_number_for_ticket(ticket=reply_of(delivery).ticket)
    if number is None:
        raise PermanentDeliveryError(
            "No active SMS number is configured. An admin can add one under SMS numbers."
        )
    client = twilio_client(number=number)
    try:
        if delivery.last_error == RESENT_NOTE:
            # Cut off mid-send: the provider may have it already. Ask before texting twice.
            earlier = _sms_already_sent(client, delivery=delivery, sender=number.phone, body=body)
            if earlier:
                return earlier
        sent = client.messages.create(
            to=delivery.recipient,
            from_=number.phone,
            body=body,
            status_callback=public_url(STATUS_PATH),
        )
    except TwilioRestException as exc:
        detail = f"Twilio said {exc.status} (error {exc.code}): {exc.msg}"
        if exc.code == OPTED_OUT_ERROR:
            ContactIdentity.objects.filter(
                kind=IdentityKind.PHONE, value=delivery.recipient, opted_out_at__isnull=True
            ).update(opted_out_at=timezone.now())
            raise PermanentDeliveryError(_opted_out_text(delivery.recipient)) from exc
        if exc.status == 429 or exc.status >= 500:
            raise TemporaryDeliveryError(detail) from exc
        raise PermanentDeliveryError(detail) from exc
    except OSError as exc:  # requests' connection errors and timeouts derive from it
        raise TemporaryDeliveryError(f"Could not reach the SMS provider: {exc}") from exc
    return str(sent.sid)


def _sms_already_sent(client: Any, *, delivery: Delivery, sender: str, body: str) -> str:
    """The provider's id of this delivery's text if the provider already has it, else "".

    Twilio takes no idempotency key, but lists what an account sent: the same body from
    our number to the recipient since the delivery was written is this delivery."""
    since = delivery.created_at - timedelta(minutes=1)
    for message in client.messages.list(
        to=delivery.recipient, from_=sender, date_sent_after=since, limit=50
    ):
        created = message.date_created or message.date_sent
        if (message.body or "").strip() == body and (created is None or created >= since):
            return str(message.sid)
    return ""
