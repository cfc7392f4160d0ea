"""The fixed vocabularies of the history: channels, directions, statuses, priorities,
identity kinds."""

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    CHAT = "chat", "Chat"
    WEB = "web", "Web form"
    API = "api", "API"
    PHONE = "phone", "Phone"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


# A customer writing to a ticket in these states reopens it (to open).
REOPENABLE_STATUSES = frozenset({Status.PENDING, Status.SOLVED})
ACTIVE_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def priority_rank() -> models.Case:
    """A ticket's priority as its rank (PRIORITY_RANK): the priority sort's key. The index
    ticket_working_priority is built on this very expression, which is how PostgreSQL
    matches the sort to it: change both together."""
    return models.Case(
        *(models.When(priority=p, then=models.Value(rank)) for p, rank in PRIORITY_RANK.items()),
        default=models.Value(0),
        output_field=models.IntegerField(),
    )


class IdentityKind(models.TextChoices):
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"
    CHAT = "chat", "Chat visitor"
    EXTERNAL = "external", "External id"
