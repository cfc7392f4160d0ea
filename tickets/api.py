"""REST API v1: tickets for agents, inbound messages from other systems."""

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api import adapter as api_adapter
from channels_app.ingest import raw_inbound_process, raw_inbound_store
from channels_app.models import RawInbound
from tickets.models import (
    Channel,
    Customer,
    IdentityKind,
    Message,
    Priority,
    Status,
    Team,
    Ticket,
)
from tickets.selectors import InvalidCursor, TicketFilters, ticket_get_for_agent, ticket_list
from tickets.services import (
    identity_add,
    identity_resolve,
    message_reply,
    ticket_assign,
    ticket_create,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_subject,
    ticket_set_team,
    ticket_tags_change,
)
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


class CustomerRefInput(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    email = serializers.EmailField(required=False)
    phone = serializers.CharField(required=False, max_length=40)
    name = serializers.CharField(required=False, max_length=200, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not {"id", "email", "phone"} & set(attrs):
            raise serializers.ValidationError("Give the customer's `id`, `email` or `phone`.")
        return attrs


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
        return _agent_by(value)

    def validate_team(self, value: str) -> Team:
        return _team_by(value)


def _customer_for(ref: dict[str, Any], *, actor: Any) -> Customer:
    if "id" in ref:
        found = Customer.objects.filter(pk=ref["id"]).first()
        if found is None:
            raise serializers.ValidationError({"customer": [f"There is no customer {ref['id']}."]})
        return found
    first, other = (
        (IdentityKind.EMAIL, IdentityKind.PHONE) if "email" in ref else (IdentityKind.PHONE, None)
    )
    identity = identity_resolve(kind=first, value=ref[first], display_name=ref["name"])
    if other is not None and ref.get(other):
        identity_add(customer=identity.customer, kind=other, value=ref[other], actor=actor)
    return identity.customer


def ticket_create_from_api(*, actor: Any, data: dict[str, Any]) -> Ticket:
    """A ticket for a customer: on `email` (and `sms`) the text is the first message sent to
    the customer through the outbox; on `phone`, `web` and `api` it is recorded as a note."""
    with transaction.atomic():
        customer = _customer_for(data["customer"], actor=actor)
        ticket = ticket_create(
            customer=customer,
            subject=data["subject"],
            channel=data["channel"],
            actor=actor,
            priority=data["priority"],
            team=data.get("team"),
            assignee=data.get("assignee"),
        )
        sends = data["channel"] in (Channel.EMAIL, Channel.SMS)
        message_reply(
            ticket=ticket,
            author=actor,
            body_text=data["text"],
            is_internal=not sends,
            channel=data["channel"] if sends else None,
        )
        if data["tags"]:
            ticket_tags_change(ticket=ticket, actor=actor, add=data["tags"])
    return ticket


class TicketListApi(APIView):
    required_scopes = {"GET": "tickets:read", "POST": "tickets:write"}

    @extend_schema(
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
            )
        ],
    )
    def post(self, request: Request) -> Response:
        params = TicketCreateInput(data=request.data)
        params.is_valid(raise_exception=True)
        ticket = ticket_create_from_api(actor=request.user, data=params.validated_data)
        assert ticket.number is not None  # a saved ticket has its number
        return Response(
            TicketOutput(ticket_get_for_agent(user=request.user, number=ticket.number)).data,
            status=status.HTTP_201_CREATED,
        )

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


def _agent_by(value: str) -> Any:
    """An agent by username or id, for an assignment."""
    users = get_user_model()._default_manager
    found = users.filter(pk=int(value)).first() if value.isdigit() else None
    found = found or users.filter(username=value).first()
    if found is None:
        raise serializers.ValidationError(f"There is no user “{value}”.")
    return found


def _team_by(value: str) -> Team:
    found = Team.objects.filter(pk=int(value)).first() if value.isdigit() else None
    found = found or Team.objects.filter(name=value).first()
    if found is None:
        raise serializers.ValidationError(f"There is no team “{value}”.")
    return found


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
        return None if value is None else _agent_by(value)

    def validate_team(self, value: str | None) -> Team | None:
        return None if value is None else _team_by(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        if "tags" in attrs and ("add_tags" in attrs or "remove_tags" in attrs):
            raise serializers.ValidationError(
                "Send `tags` (the whole set) or add/remove, not both."
            )
        return attrs


def ticket_update_from_api(*, ticket: Ticket, actor: Any, changes: dict[str, Any]) -> None:
    """Apply a PATCH through the services, all or nothing."""
    with transaction.atomic():
        if "subject" in changes:
            ticket = ticket_set_subject(ticket=ticket, subject=changes["subject"], actor=actor)
        if "priority" in changes:
            ticket = ticket_set_priority(ticket=ticket, priority=changes["priority"], actor=actor)
        if "team" in changes:
            ticket = ticket_set_team(ticket=ticket, team=changes["team"], actor=actor)
        if "assignee" in changes:
            ticket = ticket_assign(ticket=ticket, agent=changes["assignee"], actor=actor)
        if "status" in changes:
            ticket = ticket_set_status(ticket=ticket, status=changes["status"], actor=actor)
        add, remove = list(changes.get("add_tags", ())), list(changes.get("remove_tags", ()))
        if "tags" in changes:
            current = set(ticket.tags.values_list("name", flat=True))
            wanted = set(changes["tags"])
            add, remove = sorted(wanted - current), sorted(current - wanted)
        if add or remove:
            ticket_tags_change(ticket=ticket, actor=actor, add=add, remove=remove)


class TicketDetailApi(APIView):
    required_scopes = {"GET": "tickets:read", "PATCH": "tickets:write"}

    @extend_schema(
        request=TicketUpdateInput,
        responses=TicketOutput,
        examples=[
            OpenApiExample(
                "Assign and tag",
                value={"status": "pending", "assignee": "alex", "add_tags": ["vip"]},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request, number: int) -> Response:
        ticket = ticket_get_for_agent(user=request.user, number=number)
        params = TicketUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        ticket_update_from_api(ticket=ticket, actor=request.user, changes=params.validated_data)
        return Response(TicketOutput(ticket_get_for_agent(user=request.user, number=number)).data)

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
    required_scopes = {"POST": "tickets:write"}

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

    required_scopes = {"POST": "tickets:write"}
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
            adapter=api_adapter.NAME,
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
