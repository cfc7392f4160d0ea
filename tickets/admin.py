from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from helpdesk.roles import is_agent
from tickets.admin_privacy import customer_admin_actions
from tickets.errors import TicketError
from tickets.identity import normalize_identity
from tickets.models import (
    AgentPreference,
    Attachment,
    ContactIdentity,
    Customer,
    Macro,
    Message,
    Organization,
    SatisfactionRating,
    Status,
    Tag,
    Team,
    Ticket,
    TicketEvent,
)
from tickets.services import (
    ticket_assign,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_subject,
    ticket_set_team,
)
from tickets.sla import admin as sla_admin  # noqa: F401  (SLA engine: registers its models)


class IdentityForm(forms.ModelForm):
    """Stores the normalized value (lowercased email, E.164 phone) lookups rely on."""

    class Meta:
        model = ContactIdentity
        fields = ("customer", "kind", "value", "display_name", "verified", "opted_out_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, value = data.get("kind"), data.get("value")
        if kind and value:
            try:
                data["value"] = normalize_identity(kind, value)
            except TicketError as exc:
                self.add_error("value", exc.message)
        return data


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    form = IdentityForm
    extra = 0
    fields = ("kind", "value", "display_name", "verified", "opted_out_at")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "created_at")
    search_fields = ("name", "domain")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "merged_into", "created_at", "erased_at")
    list_filter = ("organization",)
    search_fields = ("name", "identities__value")
    list_select_related = ("organization", "merged_into")
    # Merging moves identities and tickets (customer_merge); a hand-set pointer would not.
    readonly_fields = ("merged_into", "created_at", "updated_at", "erased_at")
    inlines = [IdentityInline]
    actions = customer_admin_actions()


@admin.register(ContactIdentity)
class ContactIdentityAdmin(admin.ModelAdmin):
    form = IdentityForm
    list_display = ("value", "kind", "customer", "verified", "opted_out_at")
    list_filter = ("kind", "verified")
    search_fields = ("value", "display_name", "customer__name")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "email")
    search_fields = ("name",)
    filter_horizontal = ("members",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ("channel", "direction", "is_internal", "author_user", "author_identity", "body_text")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False  # messages are written by services (replies, ingest), not by hand


class TicketAdminForm(forms.ModelForm):
    """The rules the services enforce, checked up front so the admin shows them on the form."""

    class Meta:
        model = Ticket
        fields = ("subject", "status", "priority", "team", "assignee")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        assignee = data.get("assignee")
        if assignee is not None and not is_agent(assignee):
            self.add_error("assignee", "Tickets can only be assigned to agents.")
        status = data.get("status")
        if self.instance.status == Status.CLOSED and status and status != Status.CLOSED:
            self.add_error(
                "status",
                "A closed ticket cannot change status. A new message opens a follow-up ticket.",
            )
        return data


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = (
        "number", "subject", "status", "priority", "channel", "customer", "assignee", "team",
        "updated_at",
    )  # fmt: skip
    list_filter = ("status", "priority", "channel", "team")
    search_fields = ("=number", "subject", "customer__name", "customer__identities__value")
    list_select_related = ("customer", "assignee", "team")
    raw_id_fields = ("assignee",)
    # Everything else is written by the services (ingest, merge, replies), never by hand.
    readonly_fields = (
        "number", "channel", "customer", "tags", "followers", "merged_into", "follow_up_of",
        "reply_token", "created_at", "updated_at", "last_inbound_at", "first_response_at",
        "solved_at", "closed_at", "first_response_due_at", "next_response_due_at",
        "resolution_due_at", "sla_next_due_at",
    )  # fmt: skip
    date_hierarchy = "created_at"
    inlines = [MessageInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        return super().get_queryset(request).distinct()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets come in through a channel or ticket_create, which numbers them

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        # Through the services, so every change lands in the audit trail with its actor.
        ticket = Ticket.objects.get(pk=obj.pk)
        actor = request.user
        changed = set(form.changed_data)
        if "subject" in changed:
            ticket_set_subject(ticket=ticket, subject=obj.subject, actor=actor)
        if "priority" in changed:
            ticket_set_priority(ticket=ticket, priority=obj.priority, actor=actor)
        if "team" in changed:
            ticket_set_team(ticket=ticket, team=obj.team, actor=actor)
        if "assignee" in changed:
            ticket_assign(ticket=ticket, agent=obj.assignee, actor=actor)
        if "status" in changed:
            ticket_set_status(ticket=ticket, status=obj.status, actor=actor)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ("filename", "content_type", "size", "sha256")
    readonly_fields = fields


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "ticket", "channel", "direction", "is_internal", "created_at")
    list_filter = ("channel", "direction", "is_internal", "is_automated")
    search_fields = ("ticket__number", "external_id", "rfc_message_id")
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket", "author_user", "author_identity", "raw")
    inlines = [AttachmentInline]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "content_type", "size", "message", "created_at")
    search_fields = ("filename", "sha256")
    raw_id_fields = ("message",)


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "kind", "actor", "created_at")
    list_filter = ("kind",)
    search_fields = ("ticket__number",)
    list_select_related = ("ticket", "actor")
    raw_id_fields = ("ticket", "actor")


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(admin.ModelAdmin):
    list_display = ("ticket", "score", "customer", "created_at", "updated_at")
    list_filter = ("score",)
    search_fields = ("ticket__number", "comment", "customer__name")
    list_select_related = ("ticket", "customer")
    readonly_fields = ("ticket", "customer", "score", "comment", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    """Shared macros (no owner) are managed here; agents keep personal ones in /agent/."""

    list_display = ("name", "owner", "set_status", "set_priority", "add_tags", "is_active")
    list_filter = ("is_active", "set_status")
    search_fields = ("name", "body")
    autocomplete_fields = ()
    raw_id_fields = ("owner", "set_assignee")


@admin.register(AgentPreference)
class AgentPreferenceAdmin(admin.ModelAdmin):
    """Agents change their own under the send buttons; admins can set anyone's here."""

    list_display = ("user", "after_send", "ticket_scope", "updated_at")
    list_filter = ("after_send", "ticket_scope")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
