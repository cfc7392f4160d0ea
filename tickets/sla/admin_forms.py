"""SLA targets in the admin as hours and minutes: two number boxes in, "4h 30m" out.

Targets are stored as whole business minutes (SlaTarget.*_minutes), so a two-minute chat
target and a three-day resolution target are both exact.
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html
from django.utils.safestring import SafeString

from tickets.models import SlaTarget, SlaTargetKind

# A year of round-the-clock hours: far beyond any target, well inside the column's range.
MAX_HOURS = 366 * 24


def hours_minutes(minutes: int | None) -> str:
    """`270` -> "4h 30m", `120` -> "2h", `2` -> "2m"; None -> "" (no target)."""
    if minutes is None:
        return ""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return f"{hours}h {rest}m"
    return f"{hours}h" if hours else f"{rest}m"


class HoursMinutesWidget(forms.MultiWidget):
    """An hours box and a minutes box, with their units after them."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            (
                forms.NumberInput(
                    attrs={"min": 0, "max": MAX_HOURS, "step": 1, "class": "sla-hours"}
                ),
                forms.NumberInput(attrs={"min": 0, "max": 59, "step": 1, "class": "sla-minutes"}),
            ),
            attrs,
        )

    def decompress(self, value: Any) -> list[int | None]:
        if value in (None, ""):
            return [None, None]
        hours, minutes = divmod(int(value), 60)
        return [hours, minutes]

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        # The boxes post as <name>_0 and <name>_1, as MultiWidget names them. Rendered here
        # rather than by a template: the form renderer does not read the
        # project's templates/ directory, and the markup is two inputs and two units.
        values = value if isinstance(value, list | tuple) else self.decompress(value)
        final = self.build_attrs(self.attrs, attrs)
        base_id = final.pop("id", None)
        label = final.pop("aria-label", "Target")
        parts = []
        for index, (widget, suffix, unit) in enumerate(
            zip(self.widgets, ("_0", "_1"), ("hours", "minutes"), strict=True)
        ):
            widget_attrs = {**final, "aria-label": f"{label}, {unit}"}
            if base_id:
                widget_attrs["id"] = f"{base_id}{suffix}"
            item = values[index] if index < len(values) else None
            parts.append(widget.render(name + suffix, item, widget_attrs, renderer))
        return format_html(
            '<span class="sla-duration">{} <span aria-hidden="true">h</span> '
            '{} <span aria-hidden="true">min</span></span>',
            *parts,
        )


class HoursMinutesField(forms.MultiValueField):
    """Whole minutes from an hours box and a minutes box; both empty means no target."""

    widget = HoursMinutesWidget

    def __init__(self, **kwargs: Any) -> None:
        fields = (
            forms.IntegerField(
                required=False,
                min_value=0,
                max_value=MAX_HOURS,
                error_messages={
                    "invalid": "Hours must be a whole number, e.g. 4.",
                    "min_value": "Hours cannot be negative.",
                    "max_value": f"At most {MAX_HOURS} hours (a year).",
                },
            ),
            forms.IntegerField(
                required=False,
                min_value=0,
                max_value=59,
                error_messages={
                    "invalid": "Minutes must be a whole number, e.g. 30.",
                    "min_value": "Minutes cannot be negative.",
                    "max_value": "Minutes go from 0 to 59: put whole hours in the hours box.",
                },
            ),
        )
        kwargs.setdefault("help_text", "Business time, e.g. 4 h 30 min. Empty: no target.")
        super().__init__(fields, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list: list[Any]) -> int | None:
        hours, minutes = [*data_list, None, None][:2]
        if hours is None and minutes is None:
            return None
        total = (hours or 0) * 60 + (minutes or 0)
        if total == 0:
            raise ValidationError(
                "A target of 0 minutes is breached at once. Give a time (e.g. 0 h 2 min), "
                "or leave both boxes empty for no target."
            )
        return int(total)


class SlaTargetForm(forms.ModelForm):
    first_response_minutes = HoursMinutesField(label=SlaTargetKind.FIRST_RESPONSE.label)
    next_response_minutes = HoursMinutesField(label=SlaTargetKind.NEXT_RESPONSE.label)
    resolution_minutes = HoursMinutesField(label=SlaTargetKind.RESOLUTION.label)

    class Meta:
        model = SlaTarget
        fields = (
            "priority", "first_response_minutes", "next_response_minutes", "resolution_minutes",
        )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in SlaTargetKind:
            self.fields[f"{kind.value}_minutes"].widget.attrs["aria-label"] = kind.label
