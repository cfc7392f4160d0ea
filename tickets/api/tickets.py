"""Tickets: list (filtered, keyset-paginated), create for a customer, read, update, reply."""

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.api.actions import ticket_create_from_api, ticket_update_from_api
from tickets.api.attachments import body_length_check, uploads_read
from tickets.api.etags import etag_check, ticket_etag
from tickets.api.filters import (
    TicketFilterSet,
    filters_parse,
    page_parse,
    schema_parameters,
)
from tickets.api.lookups import ticket_get_for_agent
from tickets.api.permissions import ApiView, require_perm
from tickets.api.serializers import (
    CustomerRefInput,
    ErrorOutput,
    MessageOutput,
    TicketOutput,
    agent_by,
    team_by,
)
from tickets.models import Channel, Message, Priority, Status, Ticket
from tickets.selectors import InvalidCursor, TicketFilters, ticket_list
from tickets.services import message_reply
from tickets.visibility import customers_visible_to, visibility_q

_MESSAGE_EXAMPLE = {
    "id": 5121,
    "channel": "email",
    "direction": "outbound",
    "is_internal": False,
    "body_text": "Your refund is on its way.",
    "body_html": "",
    "attachments": [
        {
            "id": 88,
            "filename": "label.pdf",
            "content_type": "application/pdf",
            "size": 48213,
            "sha256": "5cea5d14d26b61ee13dd8cc4264928297574f98e53f79ac645eb7d736393462a",
            "url": "https://desk.example.com/api/v1/attachments/88/",
            "created_at": "2026-03-02T09:20:00Z",
            "updated_at": "2026-03-02T09:20:00Z",
        }
    ],
    "created_at": "2026-03-02T09:20:00Z",
    "updated_at": "2026-03-02T09:20:00Z",
}
_TICKET_EXAMPLE = {
    "number": 1042,
    "subject": "Your order 77",
    "status": "open",
    "priority": "high",
    "channel": "email",
    "customer": {"id": 17, "name": "Dana"},
    "assignee": "alex",
    "team": "Billing",
    "tags": ["refund"],
    "created_at": "2026-03-02T09:14:00Z",
    "updated_at": "2026-03-02T09:20:00Z",
}


class TicketCreateInput(serializers.Serializer):
    CHANNELS = [Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.WEB, Channel.API]

    customer = CustomerRefInput()
    subject = serializers.CharField(max_length=300)
    text = serializers.CharField(max_length=200_000)
    channel = serializers.ChoiceField(choices=CHANNELS, default=Channel.API)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    team = serializers.CharField(required=False, help_text="name or id")
    assignee = serializers.CharField(required=False, help_text="username or id")
    tags = serializers.ListField(child=serializers.CharField(max_length=50), default=list)

    def validate_assignee(self, value: str) -> Any:
        return agent_by(value)

    def validate_team(self, value: str) -> Any:
        return team_by(value)


class TicketUpdateInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    assignee = serializers.CharField(
        required=False, allow_null=True, help_text="username or id; null unassigns"
    )
    team = serializers.CharField(
        required=False, allow_null=True, help_text="name or id; null clears"
    )
    subject = serializers.CharField(required=False, max_length=300)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, help_text="the whole set"
    )
    add_tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    remove_tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)

    def validate_assignee(self, value: str | None) -> Any:
        return None if value is None else agent_by(value)

    def validate_team(self, value: str | None) -> Any:
        return None if value is None else team_by(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        if "tags" in attrs and ("add_tags" in attrs or "remove_tags" in attrs):
            raise serializers.ValidationError(
                "Send `tags` (the whole set) or add/remove, not both."
            )
        return attrs


def _ticket_filters(values: dict[str, Any], user: Any) -> TicketFilters:
    return TicketFilters(
        status=sorted(values.get("status", ())),
        priority=sorted(values.get("priority", ())),
        channel=sorted(values.get("channel", ())),
        team_id=int(values["team"]) if "team" in values else None,
        assignee_id=int(values["assignee"]) if "assignee" in values else None,
        unassigned=bool(values.get("unassigned")),
        tag=values.get("tag"),
        customer_id=int(values["customer"]) if "customer" in values else None,
        created_after=values.get("created_after"),
        created_before=values.get("created_before"),
        updated_after=values.get("updated_after"),
        updated_before=values.get("updated_before"),
        search=values.get("q", ""),
        visible=visibility_q(user),
    )


class TicketDetailOutput(TicketOutput):
    messages = MessageOutput(many=True, help_text="Oldest first, internal notes included.")


_TicketPage = inline_serializer(
    "TicketPage",
    {
        "results": TicketOutput(many=True),
        "next_cursor": serializers.CharField(allow_null=True),
    },
)


class TicketListApi(ApiView):
    required_scopes = {"GET": "tickets:read", "POST": "tickets:write"}

    @extend_schema(
        summary="Create a ticket for a customer",
        description="An existing customer (`id`) or one found or made by `email`/`phone`. "
        "On `email` and `sms` the text is the first message, sent through the outbox; on "
        "`phone`, `web` and `api` it is recorded as the customer's message on that channel.",
        request=TicketCreateInput,
        responses={201: TicketOutput},
        examples=[
            OpenApiExample(
                "A new customer by email",
                value={
                    "customer": {"email": "dana@example.com", "name": "Dana"},
                    "subject": "Your order 77",
                    "text": "Hi Dana, your refund is on its way.",
                    "channel": "email",
                    "priority": "high",
                    "team": "Billing",
                    "assignee": "alex",
                    "tags": ["refund"],
                },
                request_only=True,
            ),
            OpenApiExample(
                "A phone call, written up",
                value={
                    "customer": {"id": 17},
                    "subject": "Lamp arrived broken",
                    "text": "Called: the lamp arrived with a cracked shade.",
                    "channel": "phone",
                },
                request_only=True,
            ),
            OpenApiExample("The ticket", value=_TICKET_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        params = TicketCreateInput(data=request.data)
        params.is_valid(raise_exception=True)
        ticket = ticket_create_from_api(
            actor=request.user,
            data=params.validated_data,
            customers=customers_visible_to(request.user),
        )
        assert ticket.number is not None  # a saved ticket has its number
        body = TicketOutput(ticket_get_for_agent(user=request.user, number=ticket.number)).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"ETag": ticket_etag(body)})

    @extend_schema(
        summary="List tickets",
        operation_id="v1_tickets_list",
        description="Tickets you may see, by last update, newest first; pass `next_cursor` "
        "as `cursor` for the next page. Repeat `status`, `priority` or `channel` for any of "
        "several values.",
        parameters=schema_parameters(TicketFilterSet),
        responses=_TicketPage,
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [_TICKET_EXAMPLE], "next_cursor": "MjAyNi0wMy0wMlQwOToyMDo"},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        values = filters_parse(TicketFilterSet, request.query_params)
        page_params = page_parse(request.query_params)
        try:
            page = ticket_list(
                filters=_ticket_filters(values, request.user),
                cursor=page_params.get("cursor"),
                limit=page_params["limit"],
            )
        except InvalidCursor as exc:
            raise serializers.ValidationError({"cursor": [str(exc)]}) from exc
        return Response(
            {"results": TicketOutput(page.items, many=True).data, "next_cursor": page.next_cursor}
        )


class TicketDetailApi(ApiView):
    required_scopes = {"GET": "tickets:read", "PATCH": "tickets:write"}

    @extend_schema(
        summary="Change a ticket",
        description="With `If-Match: <the ETag of your read>` the change applies only to the "
        "ticket as you read it: changed since (by anyone), it is 412 `precondition_failed` "
        "and nothing changes. Read it again and retry.",
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                description="the `ETag` of a GET or PATCH answer",
            )
        ],
        request=TicketUpdateInput,
        responses={200: TicketOutput, 412: ErrorOutput},
        examples=[
            OpenApiExample(
                "Assign and tag",
                value={"status": "pending", "assignee": "alex", "add_tags": ["vip"]},
                request_only=True,
            ),
            OpenApiExample("The ticket as it is now", value=_TICKET_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request: Request, number: int) -> Response:
        ticket = ticket_get_for_agent(user=request.user, number=number)
        # As on the agent page: a Light agent's role adds notes but changes no field.
        require_perm(request, "tickets.edit_ticket_fields", "changing the ticket's fields")
        params = TicketUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        with transaction.atomic():
            if_match = request.headers.get("If-Match")
            if if_match is not None:
                # Locked, so a concurrent write cannot slip in between check and change.
                Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
                ticket = ticket_get_for_agent(user=request.user, number=number)
                etag_check(if_match, ticket_etag(TicketOutput(ticket).data))
            ticket_update_from_api(ticket=ticket, actor=request.user, changes=params.validated_data)
        body = TicketOutput(ticket_get_for_agent(user=request.user, number=number)).data
        return Response(body, headers={"ETag": ticket_etag(body)})

    @extend_schema(
        summary="Read a ticket with its messages",
        description="The `ETag` header versions the ticket's fields (not its messages): "
        "send it as `If-Match` on a PATCH to refuse a lost update.",
        responses=TicketDetailOutput,
        examples=[
            OpenApiExample(
                "The ticket",
                value={**_TICKET_EXAMPLE, "messages": [_MESSAGE_EXAMPLE]},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, number: int) -> Response:
        ticket = ticket_get_for_agent(user=request.user, number=number)
        messages = (
            Message.objects.filter(ticket=ticket)
            .prefetch_related("attachments")
            .order_by("created_at", "id")
        )
        body = TicketOutput(ticket).data
        return Response(
            {**body, "messages": MessageOutput(messages, many=True).data},
            headers={"ETag": ticket_etag(body)},
        )


class TicketReplyInput(serializers.Serializer):
    body_text = serializers.CharField(max_length=200_000, allow_blank=True, default="")
    is_internal = serializers.BooleanField(default=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    set_status = serializers.ChoiceField(choices=Status.choices, required=False)
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="multipart/form-data only; the web form's limits and checks apply",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["body_text"].strip() and not self.context.get("files"):
            raise serializers.ValidationError({"body_text": ["Write a message, or attach a file."]})
        return attrs


class TicketReplyApi(ApiView):
    required_scopes = {"POST": "tickets:write"}
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def body_check(self, request: Request) -> None:
        body_length_check(request)

    @extend_schema(
        summary="Reply to the customer, or add an internal note",
        description="JSON, or multipart/form-data with files in `attachments` (each at most "
        "HELPDESK_WEB_MAX_FILE_BYTES, at most HELPDESK_WEB_MAX_FILES; programs and scripts "
        "are refused by their content and name).",
        request={
            "application/json": TicketReplyInput,
            "multipart/form-data": TicketReplyInput,
        },
        responses={201: MessageOutput, 413: ErrorOutput},
        examples=[
            OpenApiExample(
                "An internal note",
                value={"body_text": "Refund approved by finance.", "is_internal": True},
                request_only=True,
            ),
            OpenApiExample(
                "A public reply that solves the ticket",
                value={"body_text": "Your refund is on its way.", "set_status": "solved"},
                request_only=True,
            ),
            OpenApiExample("The message", value=_MESSAGE_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request, number: int) -> Response:
        ticket = ticket_get_for_agent(user=request.user, number=number)
        files = uploads_read(request)
        fields = {k: v for k, v in request.data.items() if k != "attachments"}
        params = TicketReplyInput(data=fields, context={"files": files})
        params.is_valid(raise_exception=True)
        d = params.validated_data
        if not d["is_internal"] and not request.user.has_perm("tickets.reply_public"):
            raise PermissionDenied("Your role adds internal notes only: send is_internal=true.")
        message = message_reply(
            ticket=ticket,
            author=request.user,
            body_text=d["body_text"],
            is_internal=d["is_internal"],
            channel=d.get("channel"),
            set_status=d.get("set_status"),
            attachments=files,
        )
        return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)
