"""HTTP ways in for email: ESP inbound webhooks (django-anymail) and a raw-MIME POST.

Both are thin: check the caller, store the message as received, enqueue processing.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_app.email.inbound import email_receive
from helpdesk.lib.http import BodyTooLarge, body_read_bounded

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponseBase]


def _enqueue_process(raw_id: int) -> None:
    from channels_app.tasks import raw_inbound_process_task

    try:
        raw_inbound_process_task.delay(raw_id)
    except Exception:  # broker down: stored, and the beat's retry of stale payloads runs it
        logger.warning("could not enqueue processing of payload %s", raw_id, exc_info=True)


@csrf_exempt
@require_POST
def raw_email_hook(request: HttpRequest) -> HttpResponse:
    """POST one RFC 5322 message as the body, with the shared secret in X-Helpdesk-Secret."""
    secret = settings.HELPDESK_RAW_EMAIL_SECRET
    given = request.headers.get("X-Helpdesk-Secret", "")
    if not secret or not constant_time_compare(given, secret):
        return JsonResponse(
            {"error": "Wrong or missing X-Helpdesk-Secret. Send HELPDESK_RAW_EMAIL_SECRET."},
            status=403,
        )
    # Read the stream, not request.body: a 25 MB message is over Django's in-memory
    # request limit. Past HELPDESK_INBOUND_MAX_BYTES nothing is stored: the sender is told.
    try:
        payload = body_read_bounded(request, limit=settings.HELPDESK_INBOUND_MAX_BYTES)
    except BodyTooLarge as exc:
        return JsonResponse(
            {"error": f"{exc} Nothing was stored; send a smaller message."}, status=413
        )
    if not payload.strip():
        return JsonResponse({"error": "The body is empty: POST the raw message."}, status=400)
    raw = email_receive(
        payload=payload,
        source="hook:raw",
        recipient=request.headers.get("X-Envelope-Recipient", ""),
    )
    _enqueue_process(raw.pk)
    return JsonResponse({"stored": raw.pk}, status=202)


def anymail_inbound_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """anymail's `inbound` signal: keep the message as MIME, then process it."""
    message = event.message
    raw = email_receive(
        payload=message.as_bytes(),
        source=f"hook:{esp_name.lower()}",
        recipient=str(getattr(message, "envelope_recipient", None) or ""),
    )
    _enqueue_process(raw.pk)


def anymail_tracking_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """anymail's `tracking` signal: delivered and bounced reach the Delivery row."""
    from channels_app.email.sender import delivery_record_provider_event

    delivery_record_provider_event(
        provider_id=str(event.message_id or ""),
        event=str(event.event_type or ""),
        recipient=str(event.recipient or ""),
        detail=str(event.description or event.mta_response or ""),
    )


def anymail_guard(view: View, *, setting: str) -> View:
    """Refuse an ESP webhook whose secret is not configured: anymail alone would accept
    unauthenticated posts (with a warning) when no basic-auth secret is set."""

    @csrf_exempt
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not getattr(settings, "ANYMAIL", {}).get(setting):
            return JsonResponse(
                {"error": f"This webhook is off: set {setting} (env) to turn it on."},
                status=403,
            )
        return view(request, *args, **kwargs)

    return guarded
