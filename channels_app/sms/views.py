"""Provider webhooks. Thin: check the signature, hand the payload to a service."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_app.ingest import ProcessingDeferred
from channels_app.models import SmsNumber
from channels_app.sms.services import (
    EMPTY_TWIML,
    public_url,
    sms_inbound_receive,
    sms_number_for_status,
    sms_number_get,
    sms_signature_valid,
    sms_status_update,
)

logger = logging.getLogger(__name__)

FORBIDDEN = "The request signature is missing or does not match. Check the number's auth token."


def _signed(request: HttpRequest, number: SmsNumber | None) -> bool:
    if number is None:
        return False
    return sms_signature_valid(
        number=number,
        url=public_url(request.get_full_path()),
        params=request.POST.dict(),
        signature=request.headers.get("X-Twilio-Signature", ""),
    )


def _refuse(request: HttpRequest, what: str) -> HttpResponse:
    logger.warning(
        "refused %s webhook from %s: bad or missing X-Twilio-Signature (To=%s From=%s)",
        what,
        request.META.get("REMOTE_ADDR"),
        request.POST.get("To", ""),
        request.POST.get("From", ""),
    )
    return HttpResponseForbidden(FORBIDDEN, content_type="text/plain")


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    body = request.body  # read before POST so the raw form can be stored as received
    number = sms_number_get(phone=request.POST.get("To", ""))
    if not _signed(request, number):
        return _refuse(request, "inbound SMS")
    assert number is not None
    meta = {"remote_addr": str(request.META.get("REMOTE_ADDR", ""))}
    try:
        sms_inbound_receive(number=number, payload=body, meta=meta)
    except ProcessingDeferred as deferred:
        # Stored: Twilio must not retry (it would only be deduplicated); an error that
        # comes before the store still answers 500, so the provider does retry.
        logger.warning("%s (%s)", deferred, deferred.__cause__)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    number = sms_number_for_status(
        sender=request.POST.get("From", ""), account_sid=request.POST.get("AccountSid", "")
    )
    if not _signed(request, number):
        return _refuse(request, "SMS status")
    sid = request.POST.get("MessageSid", "") or request.POST.get("SmsSid", "")
    delivery = sms_status_update(
        sid=sid,
        status=request.POST.get("MessageStatus", "") or request.POST.get("SmsStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    if delivery is None:
        logger.info("status callback for unknown message %s", sid)
    return HttpResponse(status=204)
