from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from helpdesk.roles import ADMINS_GROUP, AGENTS_GROUP
from tests.csp import assert_no_csp_violations, csp_watch
from tests.factories import IdentityFactory, TicketFactory
from tickets.models import Channel, Direction, IdentityKind, Message


def make_user(username: str, first_name: str = "", role: str | None = None, **extra: Any) -> Any:
    """Users built directly: the shared AgentFactory's `role` declaration is shadowed by a
    plain attribute in its subclasses, so it cannot build agents yet."""
    user = get_user_model().objects.create_user(
        username=username,
        password="pw",
        first_name=first_name,
        email=f"{username}@staff.example",
        **extra,
    )
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def agent(db: None) -> Any:
    return make_user("alex", "Alex", AGENTS_GROUP)


@pytest.fixture
def other_agent(db: None) -> Any:
    return make_user("sam", "Sam", AGENTS_GROUP)


@pytest.fixture
def admin_user(db: None) -> Any:
    return make_user("root", "Root", ADMINS_GROUP, is_staff=True)


@pytest.fixture
def plain_user(db: None) -> Any:
    return make_user("visitor", "Vic")


@pytest.fixture
def agent_client(agent: Any) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def make_ticket(customer: Any) -> Any:
    """A ticket with one inbound email from the default customer."""

    def make(
        subject: str = "Where is my order?", body: str = "Hello, where is my order?", **fields: Any
    ) -> Any:
        ticket = TicketFactory(subject=subject, customer=fields.pop("customer", customer), **fields)
        identity = ticket.customer.identities.filter(kind=IdentityKind.EMAIL).first()
        if identity is None:
            identity = IdentityFactory(customer=ticket.customer)
        Message.objects.create(
            ticket=ticket,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            author_identity=identity,
            subject=subject,
            body_text=body,
        )
        return ticket

    return make


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def close_executor_connections() -> None:
    """Close the database connection of asgiref's shared sync thread, where consumers and
    ASGI views ran: otherwise it outlives the test and blocks dropping the test database."""
    import asyncio
    import threading

    from asgiref.sync import sync_to_async
    from django.db import connections

    worker = threading.Thread(target=lambda: asyncio.run(sync_to_async(connections.close_all)()))
    worker.start()
    worker.join(10)


@pytest.fixture
def smtp_sink() -> Any:
    from tests.agent.live_server import SmtpSink

    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def live_url(transactional_db: None, settings: Any, smtp_sink: Any) -> Any:
    """uvicorn serving the project (HTTP and websockets) against the test database."""
    import os

    from django.db import connections

    from tests.agent.live_server import LiveServer, asgi_app

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
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS
        )
        violations = csp_watch(chromium)
        yield chromium
        chromium.close()
    assert_no_csp_violations(violations)


def login(browser: Any, live_url: str, username: str) -> Any:
    """A fresh browser context logged in through the login form."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_url}/agent/")
    assert "/agent/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/agent/")
    return page


@pytest.fixture(scope="session", autouse=True)
def _end_stray_connections(django_db_setup: None, django_db_blocker: Any) -> Any:
    """Browser tests run their body under sync Playwright, whose greenlet gets its own
    context-local Django connection that pytest-django never closes; left open it blocks
    dropping the test database. Once every test here has run, end such sessions."""
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
