"""SMS over Twilio (or a compatible provider): webhooks in, status updates, media, opt-out.

The outbound send is channels_app.sms.sender, found through the channel registry.
"""

import logging
import mimetypes
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels_app.ingest import (
    IngestResult,
    ProcessingDeferred,
    raw_inbound_process,
    raw_inbound_store,
)
from channels_app.models import Delivery, DeliveryStatus, SmsNumber
from channels_app.sms import adapter as sms_adapter
from channels_app.sms.adapter import form_fields, media_links, opt_keyword
from helpdesk.lib.ssrf import UnsafeUrl, url_vet
from helpdesk.lib.urls import absolute_url
from tickets.errors import TicketError
from tickets.identity import normalize_phone
from tickets.models import Channel, ContactIdentity, Direction, IdentityKind, Message, Ticket
from tickets.services import NewFile, attachment_store

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
STATUS_PATH = "/hooks/twilio/status/"

# Provider status -> ours. Earlier ones never overwrite later ones: callbacks can arrive
# out of order ("sent" after "delivered").
STATUS_MAP = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
}
# Which of our statuses a callback may move a delivery out of, per target status.
STATUS_FROM = {
    DeliveryStatus.SENT: [DeliveryStatus.SENDING, DeliveryStatus.QUEUED, DeliveryStatus.SENT],
    DeliveryStatus.DELIVERED: [DeliveryStatus.SENDING, DeliveryStatus.QUEUED, DeliveryStatus.SENT],
    DeliveryStatus.UNDELIVERED: [
        DeliveryStatus.SENDING,
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENT,
    ],
    DeliveryStatus.FAILED: [DeliveryStatus.SENDING, DeliveryStatus.QUEUED, DeliveryStatus.SENT],
}
OPTED_OUT_ERROR = 21610  # Twilio: "Attempt to send to unsubscribed recipient"


# --- reads ------------------------------------------------------------------------------


def sms_number_get(*, phone: str) -> SmsNumber | None:
    try:
        normalized = normalize_phone(phone)
    except TicketError:
        return None
    return SmsNumber.objects.filter(phone=normalized, active=True).select_related("team").first()


def sms_number_for_status(*, sender: str, account_sid: str) -> SmsNumber | None:
    """The number a status callback is about: by our sending number, else by account."""
    number = sms_number_get(phone=sender) if sender else None
    if number is None and account_sid:
        number = SmsNumber.objects.filter(account_sid=account_sid, active=True).first()
    return number


def sms_number_for_ticket(*, ticket: Ticket) -> SmsNumber | None:
    """The number replies on `ticket` go out from: the one the customer last texted, else
    the ticket team's, else any active one."""
    numbers = SmsNumber.objects.filter(active=True).order_by("pk")
    texted = (
        Message.objects.filter(
            ticket=ticket, channel=Channel.SMS, direction=Direction.INBOUND, raw__isnull=False
        )
        .order_by("-created_at", "-id")
        .values_list("raw__meta", flat=True)
        .first()
    )
    number_id = str((texted or {}).get("number_id", ""))
    if number_id.isdigit():
        same = numbers.filter(pk=int(number_id)).first()
        if same is not None:
            return same
    if ticket.team_id:
        team_number = numbers.filter(team_id=ticket.team_id).first()
        if team_number is not None:
            return team_number
    return numbers.filter(Q(team__isnull=True)).first() or numbers.first()


def sms_signature_valid(
    *, number: SmsNumber, url: str, params: Mapping[str, str], signature: str
) -> bool:
    """Twilio signs the public URL it called plus the sorted form fields."""
    if not signature:
        return False
    return bool(RequestValidator(number.auth_token).validate(url, dict(params), signature))


def public_url(path: str) -> str:
    # The URL as Twilio called it, which behind a proxy is not what Django sees.
    return absolute_url(path)


def twilio_client(*, number: SmsNumber) -> Client:
    client = Client(
        number.account_sid,
        number.auth_token,
        http_client=TwilioHttpClient(timeout=settings.HELPDESK_TWILIO_TIMEOUT),
    )
    # Every REST call goes through the api domain; its base is configurable so tests and
    # Twilio-compatible providers work.
    client.api.base_url = settings.HELPDESK_TWILIO_API_BASE
    return client


# --- writes -----------------------------------------------------------------------------


def sms_identity_opt(*, identity: ContactIdentity, opted_out: bool) -> ContactIdentity:
    """STOP and START: nothing is texted to an opted-out number until it opts back in."""
    identity.opted_out_at = timezone.now() if opted_out else None
    identity.save(update_fields=["opted_out_at"])
    logger.info("%s opted %s of SMS", identity.value, "out" if opted_out else "in")
    return identity


def sms_inbound_receive(
    *, number: SmsNumber, payload: bytes, meta: dict[str, str]
) -> IngestResult | None:
    """Store a signature-checked webhook form, then ingest it. Precondition: the caller
    verified the signature. Returns None when the form was quarantined; raises
    ProcessingDeferred when it was stored but processing failed (the retry of stale
    payloads runs it again), any other error when nothing was stored."""
    raw = raw_inbound_store(
        channel=Channel.SMS,
        adapter=sms_adapter.NAME,
        source=f"hook:twilio:{number.phone}",
        payload=payload,
        content_type="application/x-www-form-urlencoded",
        meta={
            **meta,
            "team_id": str(number.team_id or ""),
            "thread_window_days": str(settings.HELPDESK_SMS_THREAD_WINDOW_DAYS),
            "number_id": str(number.pk),
        },
    )
    try:
        result = raw_inbound_process(raw_id=raw.pk)
    except Exception as exc:  # stored: the retry of stale payloads processes it later
        raise ProcessingDeferred(raw) from exc
    if result is None or result.duplicate:
        return result
    fields = form_fields(payload)
    keyword = opt_keyword(fields.get("Body", ""))
    identity = result.message.author_identity
    if keyword is not None and identity is not None:
        sms_identity_opt(identity=identity, opted_out=keyword == "out")
    if media_links(fields):
        message_id, number_id = result.message.pk, number.pk
        transaction.on_commit(lambda: _enqueue_media(message_id, number_id))
    return result


def _enqueue_media(message_id: int, number_id: int) -> None:
    from channels_app.tasks import sms_media_fetch_task

    try:
        sms_media_fetch_task.delay(message_id, number_id)
    except Exception:  # the links stay on the message; an admin can fetch again
        logger.warning("could not enqueue media fetch for %s", message_id, exc_info=True)


def sms_status_update(*, sid: str, status: str, error_code: str = "") -> Delivery | None:
    """Apply a provider status callback to the delivery with that provider id."""
    target = STATUS_MAP.get(status.strip().lower())
    delivery = Delivery.objects.filter(channel=Channel.SMS, provider_id=sid).first()
    if delivery is None or target is None:
        # Unknown sid (sent elsewhere) or an intermediate status (queued, sending).
        return delivery
    fields: dict[str, object] = {"status": target, "updated_at": timezone.now()}
    if target in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
        code = error_code.strip() or "unknown"
        fields["last_error"] = (
            f"The carrier reported the text as {target} (Twilio error {code}). "
            "Check the number with the customer or reply on another channel."
        )
        if code == str(OPTED_OUT_ERROR):
            ContactIdentity.objects.filter(
                kind=IdentityKind.PHONE, value=delivery.recipient, opted_out_at__isnull=True
            ).update(opted_out_at=timezone.now())
    elif target == DeliveryStatus.SENT:
        fields["sent_at"] = delivery.sent_at or timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status__in=STATUS_FROM[target]).update(**fields)
    delivery.refresh_from_db()
    return delivery


MEDIA_MAX_REDIRECTS = 3


def _media_get(url: str, *, number: SmsNumber) -> requests.Response:
    """GET a media link with the number's credentials, only from the provider's API host.

    The link comes in the webhook's form: a forged or careless one must not make us send
    the account's credentials, or any request, to another host. The provider redirects
    to its CDN; redirects are followed without credentials, to public https hosts only.
    """
    api = urlsplit(settings.HELPDESK_TWILIO_API_BASE)
    link = urlsplit(url)
    if (link.scheme, link.hostname, link.port) != (api.scheme, api.hostname, api.port):
        raise UnsafeUrl(
            f"{url[:100]!r} is not on the provider's API host {api.scheme}://{api.netloc}."
        )
    response = requests.get(
        url,
        auth=(number.account_sid, number.auth_token),
        timeout=settings.HELPDESK_TWILIO_TIMEOUT,
        stream=True,
        allow_redirects=False,
    )
    for _ in range(MEDIA_MAX_REDIRECTS):
        if not response.is_redirect:
            return response
        target = urljoin(response.url, response.headers["Location"])
        response.close()
        url_vet(target)
        response = requests.get(
            target, timeout=settings.HELPDESK_TWILIO_TIMEOUT, stream=True, allow_redirects=False
        )
    if response.is_redirect:
        response.close()
        raise UnsafeUrl(f"{url[:100]!r} redirects more than {MEDIA_MAX_REDIRECTS} times.")
    return response


def sms_media_fetch(*, message_id: int, number_id: int) -> int:
    """Download the media of an inbound SMS into attachments. Safe to run twice: items
    already stored are skipped. Returns how many were stored now."""
    message = Message.objects.select_related("raw").get(pk=message_id)
    number = SmsNumber.objects.get(pk=number_id)
    if message.raw is None:
        return 0
    links = media_links(form_fields(bytes(message.raw.payload)))
    have = set(message.attachments.values_list("filename", flat=True))
    stored = 0
    for index, (url, declared_type) in enumerate(links, start=1):
        ext = (mimetypes.guess_extension(declared_type) or "") if declared_type else ""
        name = f"media-{index}{ext}"
        if name in have:
            continue
        try:
            response = _media_get(url, number=number)
        except UnsafeUrl as exc:
            logger.warning("media %s of message %s not fetched: %s", index, message_id, exc)
            continue
        response.raise_for_status()
        content = response.raw.read(settings.HELPDESK_INBOUND_MAX_BYTES + 1, decode_content=True)
        if len(content) > settings.HELPDESK_INBOUND_MAX_BYTES:
            logger.warning("media %s of message %s is too large; left as a link", index, message_id)
            continue
        content_type = response.headers.get("Content-Type", declared_type) or declared_type
        attachment_store(
            message=message,
            file=NewFile(name, content_type.split(";")[0].strip(), content),
        )
        stored += 1
    return stored
