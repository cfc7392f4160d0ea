from typing import Any

import pytest

from channels_app.chat.presence import agent_key
from channels_app.ingest import inbound_message_ingest
from tests.conftest import inbound
from tests.factories import TeamFactory
from tickets.automation.models import Trigger
from tickets.automation.rules import rule_validate
from tickets.models import Ticket


@pytest.fixture(autouse=True)
def _nobody_online() -> None:
    # Presence counts live in the cache and outlive a test run; user ids repeat after the
    # test database is recreated.
    from django.core.cache import cache

    cache.delete_many([agent_key(user_id) for user_id in range(1, 2000)])


@pytest.fixture
def make_trigger(db: None) -> Any:
    def make(
        title: str = "Rule",
        *,
        events: list[str] | None = None,
        all: list[dict[str, Any]] | None = None,
        any: list[dict[str, Any]] | None = None,
        actions: list[dict[str, Any]] | None = None,
        position: int = 100,
        **kwargs: Any,
    ) -> Trigger:
        conditions, cleaned_actions, cleaned_events = rule_validate(
            conditions={"all": all or [], "any": any or []},
            actions=actions or [{"field": "add_tags", "value": ["hit"]}],
            events=events or ["ticket.created"],
        )
        return Trigger.objects.create(
            title=title,
            events=cleaned_events,
            conditions=conditions,
            actions=cleaned_actions,
            position=position,
            **kwargs,
        )

    return make


@pytest.fixture
def ingest(db: None, django_capture_on_commit_callbacks: Any) -> Any:
    """Ingest one message and run what waits for the commit (the triggers' actions)."""
    counter = iter(range(1, 10_000))

    def run(**kwargs: Any) -> Ticket:
        kwargs.setdefault("external_id", f"auto-{next(counter)}")
        with django_capture_on_commit_callbacks(execute=True):
            result = inbound_message_ingest(message=inbound(**kwargs))
        return Ticket.objects.get(pk=result.ticket.pk)

    return run


@pytest.fixture
def billing(db: None) -> Any:
    return TeamFactory(name="Billing")
