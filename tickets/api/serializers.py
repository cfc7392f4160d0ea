"""The API's objects as JSON, and the lookups its inputs share (agents, teams, customers)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from helpdesk.lib.urls import absolute_url
from tickets.models import Attachment, Customer, IdentityKind, Organization, Team

# `fields` would shadow Serializer.fields as a declared attribute: built from a dict.
ErrorBody = inline_serializer(
    "ErrorBody",
    {
        "code": serializers.CharField(
            help_text="Stable, for programs: `invalid`, `missing_scope` …"
        ),
        "message": serializers.CharField(help_text="For people: what went wrong and what to do."),
        "fields": serializers.DictField(
            required=False, help_text="Invalid input only: the messages per field."
        ),
    },
)


class ErrorOutput(serializers.Serializer):
    """Every API error has this shape (helpdesk.api.exception_handler)."""

    error = ErrorBody


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


class AttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField(help_text="What the bytes are, not what was declared.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="GET it with `tickets:read`.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        source="created_at", help_text="A file is not changed after it is stored."
    )

    def get_url(self, attachment: Attachment) -> str:
        return absolute_url(reverse("api-attachment-download", args=[attachment.pk]))


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    direction = serializers.CharField()
    is_internal = serializers.BooleanField()
    body_text = serializers.CharField()
    body_html = serializers.CharField()
    attachments = AttachmentOutput(many=True, source="attachments.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        source="created_at", help_text="A message is not edited after it is written."
    )


class CustomerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    organization = serializers.SerializerMethodField()
    emails = serializers.SerializerMethodField()
    phones = serializers.SerializerMethodField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def _values(self, customer: Customer, kind: str) -> list[str]:
        # From the prefetched identities: a list of customers costs one query for them all.
        return sorted(i.value for i in customer.identities.all() if i.kind == kind)

    def get_organization(self, customer: Customer) -> str | None:
        return customer.organization.name if customer.organization else None

    def get_emails(self, customer: Customer) -> list[str]:
        return self._values(customer, IdentityKind.EMAIL)

    def get_phones(self, customer: Customer) -> list[str]:
        return self._values(customer, IdentityKind.PHONE)


class CustomerDetailOutput(CustomerOutput):
    open_tickets = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The numbers of the customer's open tickets you may see.",
    )


class CustomerRefInput(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    email = serializers.EmailField(required=False)
    phone = serializers.CharField(required=False, max_length=40)
    name = serializers.CharField(required=False, max_length=200, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not {"id", "email", "phone"} & set(attrs):
            raise serializers.ValidationError("Give the customer's `id`, `email` or `phone`.")
        return attrs


def agent_by(value: str) -> Any:
    """A user by username or id, for an assignment."""
    users = get_user_model()._default_manager
    found = users.filter(pk=int(value)).first() if value.isdigit() else None
    found = found or users.filter(username=value).first()
    if found is None:
        raise serializers.ValidationError(f"There is no user “{value}”.")
    return found


def team_by(value: str) -> Team:
    found = Team.objects.filter(pk=int(value)).first() if value.isdigit() else None
    found = found or Team.objects.filter(name=value).first()
    if found is None:
        raise serializers.ValidationError(f"There is no team “{value}”.")
    return found


def organization_by(value: str) -> Organization:
    found = Organization.objects.filter(pk=int(value)).first() if value.isdigit() else None
    found = found or Organization.objects.filter(name=value).first()
    if found is None:
        raise serializers.ValidationError(f"There is no organization “{value}”.")
    return found
