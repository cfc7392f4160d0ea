"""A ticket's timeline: its messages and events interleaved, oldest first, keyset-paginated
(tickets.timeline)."""

from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.roles import is_agent
from tickets.api.filters import page_parse
from tickets.api.lookups import ticket_get_for_agent
from tickets.api.permissions import ApiView
from tickets.api.serializers import MessageOutput
from tickets.models import Message, TicketEvent
from tickets.timeline import InvalidTimelineCursor, ticket_timeline_page


class TimelineMessageOutput(MessageOutput):
    type = serializers.SerializerMethodField(help_text="`message`")
    author = serializers.SerializerMethodField(
        help_text='`{"agent": username}` or `{"customer": id, "address": …}`; null for the system'
    )

    def get_type(self, message: Message) -> str:
        return "message"

    def get_author(self, message: Message) -> dict[str, Any] | None:
        if message.author_user is not None:
            return {"agent": message.author_user.get_username()}
        if message.author_identity is not None:
            identity = message.author_identity
            return {"customer": identity.customer_id, "address": identity.value}
        return None


class TimelineEventOutput(serializers.Serializer):
    type = serializers.SerializerMethodField(help_text="`event`")
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="`status`, `assigned`, `tags`, `merged` …")
    actor = serializers.SerializerMethodField(help_text="username; null for the system")
    details = serializers.DictField(
        source="data", help_text='what changed, e.g. `{"from": …, "to": …}`'
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        source="created_at", help_text="An event is not edited after it happened."
    )

    def get_type(self, event: TicketEvent) -> str:
        return "event"

    def get_actor(self, event: TicketEvent) -> str | None:
        return event.actor.get_username() if event.actor is not None else None


_Entry = PolymorphicProxySerializer(
    component_name="TimelineEntry",
    serializers={"message": TimelineMessageOutput, "event": TimelineEventOutput},
    resource_type_field_name="type",
)
_EXAMPLE = {
    "results": [
        {
            "type": "message",
            "id": 5120,
            "channel": "email",
            "direction": "inbound",
            "is_internal": False,
            "body_text": "Where is my refund?",
            "body_html": "",
            "attachments": [],
            "author": {"customer": 17, "address": "dana@example.com"},
            "created_at": "2026-03-02T09:14:00Z",
            "updated_at": "2026-03-02T09:14:00Z",
        },
        {
            "type": "event",
            "id": 900,
            "kind": "status",
            "actor": "alex",
            "details": {"from": "new", "to": "open"},
            "created_at": "2026-03-02T09:20:00Z",
            "updated_at": "2026-03-02T09:20:00Z",
        },
    ],
    "next_cursor": None,
}


def entry_body(item: Message | TicketEvent) -> Any:
    if isinstance(item, TicketEvent):
        return TimelineEventOutput(item).data
    return TimelineMessageOutput(item).data


class TicketTimelineApi(ApiView):
    required_scopes = {"GET": "tickets:read"}

    @extend_schema(
        summary="Read a ticket's timeline",
        operation_id="v1_tickets_timeline",
        description="Messages and events interleaved, oldest first (at one instant an event "
        "before a message); pass `next_cursor` as `cursor` for the next page. Internal notes "
        "are included for agents; `public_only=true` leaves them out (for mirroring the "
        "conversation to the customer elsewhere).",
        parameters=[
            OpenApiParameter("public_only", bool, description="leave internal notes out"),
            OpenApiParameter("cursor", str, description="`next_cursor`"),
            OpenApiParameter("limit", int, description="1-100, default 50"),
        ],
        responses=inline_serializer(
            "TimelinePage",
            {
                "results": serializers.ListField(child=_Entry),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
        examples=[OpenApiExample("A page", value=_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, number: int) -> Response:
        params = _TimelineParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        page_params = page_parse(request.query_params)
        ticket = ticket_get_for_agent(user=request.user, number=number)
        internal = is_agent(request.user) and not params.validated_data["public_only"]
        try:
            page = ticket_timeline_page(
                ticket=ticket,
                include_internal=internal,
                cursor=page_params.get("cursor"),
                limit=page_params["limit"],
            )
        except InvalidTimelineCursor as exc:
            raise serializers.ValidationError({"cursor": [str(exc)]}) from exc
        return Response(
            {"results": [entry_body(i) for i in page.items], "next_cursor": page.next_cursor}
        )


class _TimelineParams(serializers.Serializer):
    public_only = serializers.BooleanField(default=False)
    cursor = serializers.CharField(required=False)
    limit = serializers.IntegerField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {n: ["No such filter. Filters here: cursor, limit, public_only."] for n in unknown}
            )
        return attrs
