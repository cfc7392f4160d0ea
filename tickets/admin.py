from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tickets.models import (
    Attachment,
    ContactIdentity,
    Customer,
    Macro,
    Message,
    Organization,
    Tag,
    Team,
    Ticket,
    TicketEvent,
)


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    extra = 0
    fields = ("kind", "value", "display_name", "verified", "opted_out_at")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "created_at")
    search_fields = ("name", "domain")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "merged_into", "created_at")
    list_filter = ("organization",)
    search_fields = ("name", "identities__value")
    list_select_related = ("organization", "merged_into")
    raw_id_fields = ("merged_into",)
    inlines = [IdentityInline]


@admin.register(ContactIdentity)
class ContactIdentityAdmin(admin.ModelAdmin):
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


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "number", "subject", "status", "priority", "channel", "customer", "assignee", "team",
        "updated_at",
    )  # fmt: skip
    list_filter = ("status", "priority", "channel", "team")
    search_fields = ("=number", "subject", "customer__name", "customer__identities__value")
    list_select_related = ("customer", "assignee", "team")
    raw_id_fields = ("customer", "assignee", "merged_into", "follow_up_of", "followers")
    readonly_fields = (
        "number", "reply_token", "created_at", "first_response_at", "solved_at", "closed_at",
        "first_response_due_at", "next_response_due_at", "resolution_due_at", "sla_next_due_at",
    )  # fmt: skip
    date_hierarchy = "created_at"
    inlines = [MessageInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        return super().get_queryset(request).distinct()


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


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    """Shared macros (no owner) are managed here; agents keep personal ones in /agent/."""

    list_display = ("name", "owner", "set_status", "set_priority", "add_tags", "is_active")
    list_filter = ("is_active", "set_status")
    search_fields = ("name", "body")
    autocomplete_fields = ()
    raw_id_fields = ("owner", "set_assignee")
