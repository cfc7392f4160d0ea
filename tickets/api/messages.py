"""POST /api/v1/messages/: another system posts a customer's message."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.api.receive import ApiReceipt, api_message_receive
from helpdesk.lib.http import BodyTooLarge, body_read_bounded
from tickets.api.permissions import ApiView
from tickets.api.serializers import ErrorOutput

MAX_BYTES = 1024 * 1024
DEFERRED = (
    "Stored; processing failed for now and is retried within minutes. Posting it again "
    "with the same external_id is safe."
)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = (
        f"The body is over {MAX_BYTES // 1024} kB. Send attachments by email, or shorten the text."
    )


class Unprocessable(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def _receipt_response(receipt: ApiReceipt) -> Response:
    if receipt.deferred:
        body = {"payload": receipt.payload_id, "status": "received", "message": DEFERRED}
        return Response(body, status=status.HTTP_202_ACCEPTED)
    result = receipt.result
    if result is None:
        raise Unprocessable(
            f"Stored as payload {receipt.payload_id} but not readable: {receipt.error}"
        )
    body = {
        "ticket": result.ticket.number,
        "message": result.message.pk,
        "created_ticket": result.created_ticket,
        "duplicate": result.duplicate,
    }
    return Response(body, status=status.HTTP_200_OK if result.duplicate else 201)


_Result = inline_serializer(
    "InboundMessageResult",
    {
        "ticket": serializers.IntegerField(),
        "message": serializers.IntegerField(),
        "created_ticket": serializers.BooleanField(),
        "duplicate": serializers.BooleanField(),
    },
)
_Deferred = inline_serializer(
    "InboundMessageDeferred",
    {
        "payload": serializers.IntegerField(),
        "status": serializers.CharField(),
        "message": serializers.CharField(),
    },
)
_Input = inline_serializer(
    "InboundMessageInput",
    {
        "external_id": serializers.CharField(help_text="your id for it: the dedup key"),
        "from": inline_serializer(
            "InboundSender",
            {
                "email": serializers.EmailField(required=False),
                "phone": serializers.CharField(required=False),
                "external_id": serializers.CharField(required=False),
                "name": serializers.CharField(required=False),
            },
        ),
        "subject": serializers.CharField(required=False),
        "text": serializers.CharField(),
        "ticket": serializers.IntegerField(required=False, help_text="a ticket number"),
        "priority": serializers.CharField(required=False),
        "received_at": serializers.DateTimeField(required=False),
    },
)


class InboundMessageApi(ApiView):
    """Another system posts a customer's message; it joins the customer's history."""

    required_scopes = {"POST": "tickets:write"}

    @extend_schema(
        summary="Post a customer's message",
        description="Stored before it is read, deduplicated on `external_id`, threaded to "
        "the customer's ticket (or `ticket`), or a new ticket.",
        request=_Input,
        responses={
            201: _Result,
            200: OpenApiResponse(_Result, description="A duplicate: the stored message."),
            202: OpenApiResponse(_Deferred, description="Stored; processed within minutes."),
            413: ErrorOutput,
            422: OpenApiResponse(ErrorOutput, description="Stored, but not readable."),
        },
        examples=[
            OpenApiExample(
                "A customer's message from a shop",
                value={
                    "external_id": "shop-msg-5521",
                    "from": {"email": "dana@example.com", "name": "Dana"},
                    "subject": "Where is order 77?",
                    "text": "It has been a week.",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Stored on a new ticket",
                value={"ticket": 1042, "message": 5120, "created_ticket": True, "duplicate": False},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        # Bounded, so a huge body is refused by its declared length and never buffered.
        try:
            body = body_read_bounded(request._request, limit=MAX_BYTES)
        except BodyTooLarge as exc:
            raise PayloadTooLarge() from exc
        receipt = api_message_receive(
            payload=body,
            content_type=request.content_type,
            source=f"api:{request.user.get_username()}",
        )
        return _receipt_response(receipt)
