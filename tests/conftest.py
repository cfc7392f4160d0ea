import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from channels_app.inbound import Identity, InboundMessage
from helpdesk.celery import app as celery_app
from tests.factories import (
    AdminFactory,
    AgentFactory,
    CustomerFactory,
    IdentityFactory,
)
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


# --- the people every area's tests share, built from tests/factories.py ----------------
# One set for the whole suite: a test that needs someone different (a team member, a
# superuser) asks for a fixture that says so.


@pytest.fixture
def agent(db: None) -> Any:
    """Alex, in the Agents group, password "pw", alex@staff.example."""
    return AgentFactory(username="alex", first_name="Alex")


@pytest.fixture
def other_agent(db: None) -> Any:
    return AgentFactory(username="sam", first_name="Sam")


@pytest.fixture
def lead(db: None) -> Any:
    """An agent of the Leads role: assigns others' tickets, manages shared macros."""
    from helpdesk.roles import LEADS_GROUP

    return AgentFactory(username="lou", first_name="Lou", role=LEADS_GROUP)


@pytest.fixture
def admin_user(db: None) -> Any:
    """Root, in the Admins group (staff, not a superuser): what the role itself may do."""
    return AdminFactory(username="root", first_name="Root")


@pytest.fixture
def customer(db: None) -> Any:
    customer = CustomerFactory(name="Dana Customer")
    IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value="dana@example.com")
    return customer


@pytest.fixture
def ticket(customer: Any) -> Any:
    """A new email ticket of `customer` (dana@example.com)."""
    from tickets.services import ticket_create

    return ticket_create(customer=customer, subject="Broken zipper", channel=Channel.EMAIL)


@pytest.fixture
def ingest(make_inbound: Any) -> Any:
    """ingest(**fields): build an InboundMessage and run it through the one ingest path."""
    from channels_app.ingest import inbound_message_ingest

    def run(**fields: Any) -> Any:
        return inbound_message_ingest(message=make_inbound(**fields))

    return run


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


# --- browser tests: the project served by uvicorn, a real Chromium, an SMTP sink -------


@pytest.fixture
def smtp_sink() -> Iterator[Any]:
    from tests.live_server import SmtpSink

    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def live_url(
    transactional_db: None, settings: Any, smtp_sink: Any, _end_stray_connections: None
) -> Iterator[str]:
    """uvicorn serving the project (HTTP and websockets) against the test database."""
    from django.db import connections

    from tests.live_server import LiveServer, asgi_app, close_executor_connections

    # Sync Playwright runs an event loop in this thread; the ORM calls made here between
    # browser steps are still plain blocking calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    # Server threads must not keep connections open past a request: the test database is
    # flushed and dropped after the test.
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    server = LiveServer(asgi_app()).start()
    yield server.url
    server.stop()
    close_executor_connections()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def browser(_end_stray_connections: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from tests.csp import assert_no_csp_violations, csp_watch
    from tests.live_server import BROWSER_ARGS

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS
        )
        violations = csp_watch(chromium)
        yield chromium
        chromium.close()
    assert_no_csp_violations(violations)


@pytest.fixture(scope="session")
def _end_stray_connections(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Browser tests run their body under sync Playwright, whose greenlet gets its own
    context-local Django connection that pytest-django never closes; left open it blocks
    dropping the test database. Once every test has run, end such sessions (torn down
    before django_db_setup, which it depends on, drops the database)."""
    yield
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql" or not settings_dict["NAME"].startswith(
        "test_"
    ):
        return  # SQLite needs no server session ended; no test database, nothing to end
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
