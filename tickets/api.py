"""REST API v1: tickets for agents, inbound messages from other systems."""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.ingest import raw_inbound_process, raw_inbound_store
from channels_app.models import RawInbound
from tickets.models import Channel, Message, Priority, Status
from tickets.selectors import InvalidCursor, TicketFilters, ticket_get_for_agent, ticket_list
from tickets.services import message_reply
from tickets.visibility import visibility_q

logger = logging.getLogger(__name__)

DEFERRED = (
    "Stored; processing failed for now and is retried within minutes. Posting it again "
    "with the same external_id is safe."
)


class TicketOutput(serializers.Serializer):
    number = serializers.IntegerField()
    subject = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    channel = serializers.CharField()
    customer = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_customer(self, ticket: Any) -> dict[str, Any]:
        return {"id": ticket.customer_id, "name": ticket.customer.name}

    def get_assignee(self, ticket: Any) -> str | None:
        return ticket.assignee.get_username() if ticket.assignee else None

    def get_team(self, ticket: Any) -> str | None:
        return ticket.team.name if ticket.team else None

    def get_tags(self, ticket: Any) -> list[str]:
        return [tag.name for tag in ticket.tags.all()]


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    direction = serializers.CharField()
    is_internal = serializers.BooleanField()
    body_text = serializers.CharField()
    body_html = serializers.CharField()
    created_at = serializers.DateTimeField()


class TicketListApi(APIView):
    class FilterInput(serializers.Serializer):
        status = serializers.MultipleChoiceField(choices=Status.choices, required=False)
        priority = serializers.MultipleChoiceField(choices=Priority.choices, required=False)
        channel = serializers.MultipleChoiceField(choices=Channel.choices, required=False)
        team = serializers.IntegerField(required=False)
        assignee = serializers.IntegerField(required=False)
        tag = serializers.CharField(required=False)
        cursor = serializers.CharField(required=False)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)

    @extend_schema(
        parameters=[FilterInput],
        responses=TicketOutput(many=True),
        description="Tickets by last update, newest first; follow `next` for the next page.",
    )
    def get(self, request: Request) -> Response:
        data: dict[str, Any] = {
            key: request.query_params.getlist(key) for key in ("status", "priority", "channel")
        }
        for key in ("team", "assignee", "tag", "cursor", "limit"):
            if key in request.query_params:
                data[key] = request.query_params[key]
        params = self.FilterInput(data=data)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        filters = TicketFilters(
            status=sorted(v.get("status", ())),
            priority=sorted(v.get("priority", ())),
            channel=sorted(v.get("channel", ())),
            team_id=v.get("team"),
            assignee_id=v.get("assignee"),
            tag=v.get("tag"),
            visible=visibility_q(request.user),
        )
        try:
            page = ticket_list(filters=filters, cursor=v.get("cursor"), limit=v["limit"])
        except InvalidCursor as exc:
            raise serializers.ValidationError({"cursor": [str(exc)]}) from exc
        return Response(
            {
                "results": TicketOutput(page.items, many=True).data,
                "next_cursor": page.next_cursor,
            }
        )


class TicketDetailApi(APIView):
    @extend_schema(responses=TicketOutput)
    def get(self, request: Request, number: int) -> Response:
        ticket = ticket_get_for_agent(user=request.user, number=number)
        messages = Message.objects.filter(ticket=ticket).order_by("created_at", "id")
        return Response(
            {
                **TicketOutput(ticket).data,
                "messages": MessageOutput(messages, many=True).data,
            }
        )


class TicketReplyApi(APIView):
    class InputSerializer(serializers.Serializer):
        body_text = serializers.CharField(max_length=200_000)
        is_internal = serializers.BooleanField(default=False)
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)
        set_status = serializers.ChoiceField(choices=Status.choices, required=False)

    @extend_schema(request=InputSerializer, responses={201: MessageOutput})
    def post(self, request: Request, number: int) -> Response:
        ticket = ticket_get_for_agent(user=request.user, number=number)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        if not params.validated_data["is_internal"] and not request.user.has_perm(
            "tickets.reply_public"
        ):
            raise PermissionDenied("Your role adds internal notes only: send is_internal=true.")
        message = message_reply(
            ticket=ticket,
            author=request.user,
            body_text=params.validated_data["body_text"],
            is_internal=params.validated_data["is_internal"],
            channel=params.validated_data.get("channel"),
            set_status=params.validated_data.get("set_status"),
        )
        return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)


class InboundMessageApi(APIView):
    """Another system posts a customer's message; it joins the customer's history."""

    max_bytes = 1024 * 1024

    def _too_large(self) -> Response:
        return Response(
            {
                "error": {
                    "code": "too_large",
                    "message": f"The body is over {self.max_bytes // 1024} kB. Send attachments "
                    "by email, or shorten the text.",
                }
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )

    @extend_schema(
        request={"application/json": dict},
        responses={201: dict, 200: dict, 202: dict, 422: dict},
        parameters=[OpenApiParameter("Idempotency", description="send `external_id`")],
    )
    def post(self, request: Request) -> Response:
        # Refuse by the declared length before reading, so a huge body is never buffered
        # (Django would answer a bare 400 past DATA_UPLOAD_MAX_MEMORY_SIZE).
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_bytes:
            return self._too_large()
        try:
            body = request.body
        except RequestDataTooBig:
            return self._too_large()
        if len(body) > self.max_bytes:
            return self._too_large()
        raw = raw_inbound_store(
            channel=Channel.API,
            adapter="api",
            source=f"api:{request.user.get_username()}",
            payload=body,
            content_type=request.content_type or "application/json",
        )
        try:
            result = raw_inbound_process(raw_id=raw.pk)
        except Exception as exc:  # stored: the retry of stale payloads processes it later
            logger.warning("payload %s stored, processing deferred: %s", raw.pk, exc)
            return Response(
                {"payload": raw.pk, "status": "received", "message": DEFERRED},
                status=status.HTTP_202_ACCEPTED,
            )
        if result is None:
            raw = RawInbound.objects.get(pk=raw.pk)
            return Response(
                {
                    "error": {
                        "code": "unprocessable",
                        "message": f"Stored as payload {raw.pk} but not readable: {raw.error}",
                    }
                },
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(
            {
                "ticket": result.ticket.number,
                "message": result.message.pk,
                "created_ticket": result.created_ticket,
                "duplicate": result.duplicate,
            },
            status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED,
        )
