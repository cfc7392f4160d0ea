import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from channels_app.inbound import Identity, InboundMessage
from helpdesk.celery import app as celery_app
from tests.factories import AdminFactory, AgentFactory, CustomerFactory, IdentityFactory
from tickets.models import Channel, IdentityKind


def _flush_by_delete() -> None:
    # A transactional test ends with `flush`, which PostgreSQL runs as one TRUNCATE of
    # every table: 2-3 s here, because each truncated table gets new files synced to
    # disk. DELETE of the few rows a test leaves takes 5-40 ms (measured on 60 tables),
    # and transactional tests are a large part of the suite. Foreign keys are deferrable
    # on PostgreSQL, so the order of the deletes does not matter inside the transaction
    # that execute_sql_flush opens; the audit trail's append-only trigger lets a delete
    # through only when asked, as its purge does.
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(
        self: DatabaseOperations,
        style: Any,
        tables: Any,
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if not tables or reset_sequences:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            "SET CONSTRAINTS ALL DEFERRED",
            "SET LOCAL helpdesk.audit_purge = 'on'",
            # Table names come from the model registry, quoted.
            *(f"DELETE FROM {self.quote_name(table)}" for table in tables),  # noqa: S608
        ]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    # CI must test what production runs. Never fall back to SQLite silently.
    from django.conf import settings

    _flush_by_delete()

    # Fast hashing for every test, module-scoped fixtures included (set here, not in a
    # function-scoped fixture, so a user hashed at module setup verifies in the test).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Sign-in throttling needs the request at authenticate(), which Client.login() does
    # not pass; tests/helpdesk/test_login_lockout.py turns it on for real.
    settings.AXES_ENABLED = False
    # Every test shares the loopback address and the minute: tests/tickets/api/
    # test_rate_limits.py sets a limit it means to hit.
    settings.HELPDESK_API_RATE_LIMIT = 1_000_000
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine and os.environ.get("HELPDESK_TESTS_ALLOW_SQLITE"):
        # The embedded-default pass (make pytest-embedded) runs what a new user's first
        # run serves, on SQLite, the in-memory layer and the file cache: only tests that
        # say they hold there. A PostgreSQL-only construct in a page's path fails here.
        markexpr = config.getoption("markexpr") or ""
        if "embedded" not in markexpr:
            config.option.markexpr = f"embedded and ({markexpr})" if markexpr else "embedded"
    if "postgresql" not in engine and not os.environ.get("HELPDESK_TESTS_ALLOW_SQLITE"):
        pytest.exit(
            "Tests run on PostgreSQL: set DATABASE_URL (make test sets "
            "postgres://postgres@127.0.0.1:5432/helpdesk) or HELPDESK_TESTS_ALLOW_SQLITE=1.",
            returncode=2,
        )
    if not settings.REDIS_URL and not os.environ.get("HELPDESK_TESTS_ALLOW_SQLITE"):
        pytest.exit("Tests run on Redis: set REDIS_URL (make test does).", returncode=2)


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    # Tasks enqueued on commit run inline; the real-worker test opts out.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_config_caches() -> None:
    # Every test starts on a database rolled back or flushed, which sends no signals: no
    # per-process copy of configuration (SLA policies, mailboxes) may outlive a test.
    from helpdesk.lib.config_cache import config_caches_forget

    config_caches_forget()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    # Each async test runs on its own event loop. channels-redis keeps receive state (a
    # lock bound to the loop that made it) on the layer object; one shared across tests
    # can carry a lock left held by a previous test's loop ("bound to a different event
    # loop"). A fresh layer per test has none.
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _no_lane_threads_left() -> Iterator[None]:
    # Ingest lane threads keep their own database connections; one left open would keep
    # the test database from being dropped at the end of the run.
    yield
    from channels_app.ingest_lanes import lanes_shutdown

    lanes_shutdown()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def agent(db: None) -> Any:
    return AgentFactory(username="alex", first_name="Alex")


@pytest.fixture
def other_agent(db: None) -> Any:
    return AgentFactory(username="sam", first_name="Sam")


@pytest.fixture
def admin_user(db: None) -> Any:
    return AdminFactory(username="root")


@pytest.fixture
def customer(db: None) -> Any:
    customer = CustomerFactory(name="Dana Customer")
    IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value="dana@example.com")
    return customer


def inbound(
    *,
    external_id: str | None = "ext-1",
    sender: str = "dana@example.com",
    kind: str = IdentityKind.EMAIL,
    channel: str = Channel.EMAIL,
    subject: str = "My order never arrived",
    text: str = "Hello, where is my order?",
    received_at: datetime | None = None,
    **kwargs: Any,
) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        external_id=external_id,
        sender=Identity(kind=kind, value=sender, display_name=kwargs.pop("name", "")),
        subject=subject,
        text=text,
        html=kwargs.pop("html", None),
        received_at=received_at or timezone.now(),
        **kwargs,
    )


@pytest.fixture
def make_inbound() -> Any:
    return inbound


@pytest.fixture
def pg(db: None) -> None:
    assert connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _embedded_cache_clean(request: pytest.FixtureRequest) -> None:
    # On the embedded default the cache is a directory: rate-limit counters and marks of
    # one test must not reach the next (on Redis the tests that care clear it themselves).
    from django.conf import settings

    if "filebased" in settings.CACHES["default"]["BACKEND"]:
        from django.core.cache import cache

        cache.clear()
