"""Macros: the token owner's and the shared ones, and applying one to a ticket (its field
changes, and optionally its text as a reply or note) through tickets.macros, the same
code the agent workspace applies them with."""

from typing import Any

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.api.filters import pk_page
from tickets.api.lookups import ticket_get_for_agent
from tickets.api.permissions import ApiView, require_perm
from tickets.api.serializers import MessageOutput, TicketOutput
from tickets.macros import (
    macro_apply,
    macro_changes_fields,
    macro_get_for,
    macro_render,
    macros_usable_by,
)
from tickets.models import Macro
from tickets.services import message_reply

_MACRO_EXAMPLE = {
    "id": 12,
    "name": "Refund sent",
    "body": "Hi {{ customer.first_name }}, your refund is on its way.",
    "shared": True,
    "set_status": "solved",
    "set_priority": None,
    "set_team": "Billing",
    "set_assignee": None,
    "add_tags": ["refund"],
    "created_at": "2026-03-01T10:00:00Z",
}

_APPLIED_EXAMPLE = {
    "ticket": {
        "number": 1042,
        "subject": "Refund",
        "status": "solved",
        "priority": "normal",
        "channel": "email",
        "customer": {"id": 17, "name": "Dana"},
        "assignee": "alex",
        "team": "Billing",
        "tags": ["refund"],
        "created_at": "2026-03-02T09:14:00Z",
        "updated_at": "2026-03-02T09:30:00Z",
    },
    "text": "Hi Dana, your refund is on its way.",
    "message": None,
}


class MacroOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    body = serializers.CharField(help_text="with placeholders such as {{ customer.first_name }}")
    shared = serializers.SerializerMethodField(help_text="false: the token owner's own")
    set_status = serializers.CharField(allow_null=True)
    set_priority = serializers.CharField(allow_null=True)
    set_team = serializers.SerializerMethodField(help_text="team name")
    set_assignee = serializers.SerializerMethodField(help_text="username")
    add_tags = serializers.ListField(child=serializers.CharField(), source="tag_list")
    created_at = serializers.DateTimeField()

    def to_representation(self, macro: Macro) -> Any:
        body = super().to_representation(macro)
        body["set_status"] = body["set_status"] or None
        body["set_priority"] = body["set_priority"] or None
        return body

    def get_shared(self, macro: Macro) -> bool:
        return macro.owner_id is None

    def get_set_team(self, macro: Macro) -> str | None:
        return macro.set_team.name if macro.set_team is not None else None

    def get_set_assignee(self, macro: Macro) -> str | None:
        return macro.set_assignee.get_username() if macro.set_assignee is not None else None


class MacroListApi(ApiView):
    required_scopes = {"GET": "tickets:read"}

    @extend_schema(
        summary="List macros",
        operation_id="v1_macros_list",
        description="The shared macros and the token owner's own, by id; pass "
        "`next_cursor` as `cursor` for the next page.",
        parameters=[
            OpenApiParameter("cursor", str, description="`next_cursor`"),
            OpenApiParameter("limit", int, description="1-100, default 50"),
        ],
        responses=inline_serializer(
            "MacroPage",
            {
                "results": MacroOutput(many=True),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [_MACRO_EXAMPLE], "next_cursor": None},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        page = pk_page(request, macros_usable_by(request.user), "macro", set())
        return Response(
            {
                "results": MacroOutput(page["items"], many=True).data,
                "next_cursor": page["next_cursor"],
            }
        )


class MacroApplyInput(serializers.Serializer):
    reply = serializers.ChoiceField(
        choices=["none", "public", "internal"],
        default="none",
        help_text="send the macro's text as a public reply, add it as an internal note, or "
        "only answer it in `text`",
    )


class MacroApplyApi(ApiView):
    required_scopes = {"POST": "tickets:write"}

    @extend_schema(
        summary="Apply a macro to a ticket",
        description="Its field changes (priority, team, assignee, tags, then status) and, "
        "with `reply`, its text rendered for this ticket as a public reply or internal "
        "note, all in one transaction. The answer has the ticket as it is now and the "
        "rendered `text`.",
        request=MacroApplyInput,
        responses=inline_serializer(
            "MacroApplied",
            {
                "ticket": TicketOutput(),
                "text": serializers.CharField(),
                "message": MessageOutput(allow_null=True),
            },
        ),
        examples=[
            OpenApiExample("Apply and send", value={"reply": "public"}, request_only=True),
            OpenApiExample(
                "Applied, text not sent",
                value=_APPLIED_EXAMPLE,
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, number: int, macro_id: int) -> Response:
        ticket = ticket_get_for_agent(user=request.user, number=number)
        macro = macro_get_for(user=request.user, macro_id=macro_id)
        if macro is None:
            raise Http404(f"There is no macro {macro_id} you may use.")
        params = MacroApplyInput(data=request.data)
        params.is_valid(raise_exception=True)
        reply = params.validated_data["reply"]
        if macro_changes_fields(macro):
            require_perm(request, "tickets.edit_ticket_fields", "changing ticket fields")
        if reply == "public" and not request.user.has_perm("tickets.reply_public"):
            raise PermissionDenied("Your role adds internal notes only: send reply=internal.")
        text = macro_render(macro=macro, ticket=ticket, agent=request.user)
        message = None
        with transaction.atomic():
            if reply != "none":
                message = message_reply(
                    ticket=ticket,
                    author=request.user,
                    body_text=text,
                    is_internal=reply == "internal",
                )
            macro_apply(macro=macro, ticket=ticket, actor=request.user)
        fresh = ticket_get_for_agent(user=request.user, number=number)
        return Response(
            {
                "ticket": TicketOutput(fresh).data,
                "text": text,
                "message": MessageOutput(message).data if message is not None else None,
            }
        )
