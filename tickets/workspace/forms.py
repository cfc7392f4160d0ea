"""Typed input for the agent workspace views."""

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.db import models
from django.utils import timezone

from channels_app.registry import reply_channel_choices
from helpdesk.lib.dates import BoundedDateField
from tickets.models import AfterSend, Channel, IdentityKind, Priority, Status
from tickets.selectors import SORTS, TicketFilters
from tickets.workspace.search_selectors import customer_ids_matching
from tickets.workspace.selectors import ALL_VIEW, VIEW_KEYS, QueueChoice, queue_choice

VIEW_CHOICES = [(k, k) for k in (*VIEW_KEYS, ALL_VIEW)]


class QueueForm(forms.Form):
    view = forms.ChoiceField(choices=VIEW_CHOICES, required=False)
    q = forms.CharField(required=False, max_length=200)
    status = forms.MultipleChoiceField(choices=Status.choices, required=False)
    priority = forms.MultipleChoiceField(choices=Priority.choices, required=False)
    channel = forms.MultipleChoiceField(choices=Channel.choices, required=False)
    assignee = forms.CharField(required=False, max_length=20)
    team = forms.IntegerField(required=False, min_value=1)
    tag = forms.CharField(required=False, max_length=50)
    customer = forms.IntegerField(required=False, min_value=1)
    # A customer by name or email address; resolved to their ids in clean_customer_q.
    customer_q = forms.CharField(required=False, max_length=200)
    created_after = BoundedDateField(required=False)
    created_before = BoundedDateField(required=False)
    sort = forms.ChoiceField(choices=[(s, s) for s in SORTS], required=False)
    cursor = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer_ids: list[int] = []

    def clean_assignee(self) -> str:
        value = self.cleaned_data["assignee"].strip()
        if value and value != "none" and not value.isdigit():
            raise forms.ValidationError("Pick an agent from the list, or “Unassigned”.")
        return value

    def clean_customer_q(self) -> str:
        text = self.cleaned_data["customer_q"].strip()
        self.customer_ids = customer_ids_matching(text=text) if text else []
        if text and not self.customer_ids:
            raise forms.ValidationError(
                f"No customer matches “{text}”. Try their email address or part of their name."
            )
        return text

    def choice(self, *, user: Any, team_ids: Sequence[int], now: datetime) -> QueueChoice:
        """The queue page the query string asks for. One that does not parse is the
        default view unfiltered (the page shows the form's errors above it)."""
        valid = self.is_valid()
        data = self.cleaned_data if valid else {}
        return queue_choice(
            view=data.get("view"),
            sort=data.get("sort"),
            base=self.filters() if valid else TicketFilters(),
            user=user,
            team_ids=team_ids,
            now=now,
            cursor=data.get("cursor"),
        )

    def filters(self) -> TicketFilters:
        data = self.cleaned_data
        tz = timezone.get_current_timezone()

        def day(value: Any) -> datetime | None:
            return datetime.combine(value, time.min, tzinfo=tz) if value else None

        after = day(data.get("created_after"))
        before = day(data.get("created_before"))
        assignee = data.get("assignee") or ""
        return TicketFilters(
            status=data.get("status") or (),
            priority=data.get("priority") or (),
            channel=data.get("channel") or (),
            assignee_id=int(assignee) if assignee.isdigit() else None,
            unassigned=assignee == "none",
            team_id=data.get("team"),
            tag=(data.get("tag") or "").strip().lower() or None,
            customer_id=data.get("customer"),
            customer_ids=tuple(self.customer_ids),
            created_after=after,
            # The "to" date is inclusive: everything before the next midnight.
            created_before=before + timedelta(days=1) if before else None,
            search=data.get("q") or "",
        )


class _AnyIds(forms.TypedMultipleChoiceField):
    """Ticket ids, any number: the view loads only the tickets that exist and are visible."""

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


class BulkForm(forms.Form):
    ids = _AnyIds(coerce=int, choices=(), required=True)
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("assign", "status", "priority", "tag", "merge")]
    )
    assignee = forms.CharField(required=False, max_length=20)
    status = forms.ChoiceField(choices=Status.choices, required=False)
    priority = forms.ChoiceField(choices=Priority.choices, required=False)
    tag = forms.CharField(required=False, max_length=50)
    merge_into = forms.CharField(required=False, max_length=20)
    next = forms.CharField(required=False, max_length=2000)

    def value(self) -> str:
        """The action's argument: the status, priority or tag picked, or the ticket number
        to merge into."""
        d = self.cleaned_data
        by_action = {"status": d["status"], "priority": d["priority"], "tag": d["tag"]}
        return by_action.get(d["action"], d["merge_into"]) or ""


class ReplyKind(models.TextChoices):
    REPLY = "reply", "Public reply"
    NOTE = "note", "Internal note"


class ReplyForm(forms.Form):
    body = forms.CharField(required=False, max_length=100_000, widget=forms.Textarea)
    kind = forms.ChoiceField(choices=ReplyKind.choices)
    channel = forms.ChoiceField(choices=reply_channel_choices, required=False)
    then = forms.ChoiceField(
        choices=[("", "Send"), (Status.PENDING, "pending"), (Status.SOLVED, "solved")],
        required=False,
    )
    macro = forms.IntegerField(required=False, min_value=1)
    # Where the page goes after this send; a changed choice becomes the agent's default.
    after_send = forms.ChoiceField(choices=AfterSend.choices, required=False)
    last_message_id = forms.IntegerField(required=False, min_value=0)
    confirm_collision = forms.BooleanField(required=False)


TICKET_FIELDS = (
    "subject",
    "status",
    "priority",
    "assignee",
    "team",
    "tag_add",
    "tag_remove",
    "follower_add",
    "follower_remove",
)


class TicketFieldForm(forms.Form):
    field = forms.ChoiceField(choices=[(f, f) for f in TICKET_FIELDS])
    value = forms.CharField(required=False, max_length=255)


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea, max_length=10_000)


class IdentityForm(forms.Form):
    kind = forms.ChoiceField(choices=IdentityKind.choices)
    value = forms.CharField(max_length=320)


class MacroForm(forms.Form):
    name = forms.CharField(max_length=120)
    body = forms.CharField(widget=forms.Textarea, max_length=20_000, required=False)
    set_status = forms.ChoiceField(choices=[("", "—"), *Status.choices], required=False)
    set_priority = forms.ChoiceField(choices=[("", "—"), *Priority.choices], required=False)
    add_tags = forms.CharField(max_length=255, required=False)
    shared = forms.BooleanField(required=False)
