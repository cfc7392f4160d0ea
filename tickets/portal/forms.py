"""Customer-facing forms. Validation messages say what is wrong and how to fix it."""

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy

from knowledge_base.models import SupportCategory
from tickets.errors import TicketError
from tickets.identity import normalize_identity
from tickets.models import IdentityKind, SatisfactionRating
from tickets.portal.services import WebRequest
from tickets.uploads import check_uploads


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files; check_uploads decides what is acceptable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _submission_id(value: str) -> str:
    try:
        return uuid.UUID(value).hex
    except (ValueError, AttributeError, TypeError) as exc:
        raise ValidationError(
            "This form has expired. Reload the page and send it again.", code="bad_submission"
        ) from exc


class _WithFiles(forms.Form):
    submission_id = forms.CharField(widget=forms.HiddenInput)
    attachments = MultipleFileField(label="Attachments")

    def clean_submission_id(self) -> str:
        return _submission_id(self.cleaned_data["submission_id"])

    def clean_attachments(self) -> Any:
        return check_uploads(self.cleaned_data.get("attachments") or [])


class WebRequestForm(_WithFiles):
    name = forms.CharField(
        max_length=200,
        label="Your name",
        error_messages={"required": "Tell us your name, so we know how to address you."},
    )
    email = forms.EmailField(
        max_length=254,
        label="Email address",
        error_messages={"required": "Enter your email address: that is where we reply."},
    )
    phone = forms.CharField(max_length=40, required=False, label="Phone (optional)")
    category = forms.ModelChoiceField(
        queryset=SupportCategory.objects.filter(is_active=True),
        required=False,
        empty_label="Choose a topic (optional)",
        label="Topic",
    )
    subject = forms.CharField(
        max_length=255,
        min_length=3,
        label="Subject",
        error_messages={"required": "Write a short subject, e.g. “Parcel not delivered”."},
    )
    description = forms.CharField(
        max_length=20_000,
        error_messages={"required": "Describe your question or problem, so we can help."},
        widget=forms.Textarea(attrs={"rows": 8}),
        label="How can we help?",
    )
    # The honeypot: hidden from people by CSS; bots fill every field.
    website = forms.CharField(required=False, label="Leave this field empty")

    field_order = ["name", "email", "phone", "category", "subject", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["phone"].widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        # htmx: matching articles appear while the subject is typed (debounced).
        self.fields["subject"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("portal:support-suggest"),
                "hx-trigger": "input changed delay:400ms, search",
                "hx-target": "#suggestions",
                "hx-sync": "this:replace",
                "autocomplete": "off",
            }
        )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if len(subject) < 3:
            raise ValidationError("Write a short subject, at least 3 characters.")
        return subject

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if not phone:
            return ""
        try:
            return normalize_identity(IdentityKind.PHONE, phone)
        except TicketError as exc:
            raise ValidationError(
                "That does not look like a phone number. Include the country code, "
                "e.g. +44 20 7946 0958, or leave it empty."
            ) from exc

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def web_request(self, *, client_ip: str) -> WebRequest:
        """The valid form as the service's input."""
        data = self.cleaned_data
        return WebRequest(
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            subject=data["subject"],
            description=data["description"],
            category=data["category"],
            submission_id=data["submission_id"],
            files=tuple(data["attachments"]),
            client_ip=client_ip,
        )


class PortalReplyForm(_WithFiles):
    body = forms.CharField(
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Your reply",
        error_messages={"required": "Write your reply before sending."},
    )


class LinkRequestForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="Your email address",
        error_messages={"required": "Enter the email address you wrote to us from."},
    )


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[
            (5, "5 - Very happy"),
            (4, "4 - Happy"),
            (3, "3 - Okay"),
            (2, "2 - Unhappy"),
            (1, "1 - Very unhappy"),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        label="How did we do?",
        error_messages={
            "required": "Choose a rating from 1 to 5.",
            "invalid_choice": "Choose a rating from 1 to 5.",
        },
    )
    comment = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything you want to add? (optional)",
    )

    @classmethod
    def for_rating(cls, rating: SatisfactionRating | None, *, score: str | None) -> "RatingForm":
        """The form showing the customer's rating, or, before they rated, the score their
        link's button picked."""
        initial: dict[str, Any] = (
            {"score": rating.score, "comment": rating.comment} if rating else {}
        )
        if score is not None and rating is None:
            initial["score"] = score
        return cls(initial=initial)
