"""Sign-in throttling on every way in that takes a password: the agent and admin login
forms and the API's HTTP Basic; per account and per client address; unlock by an admin."""

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset
from django.test import Client, RequestFactory

from helpdesk.lib.lockout import login_cool_off
from tests.factories import AdminFactory, AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def throttled(settings):
    settings.AXES_ENABLED = True
    settings.HELPDESK_LOGIN_LOCKOUT_MINUTES = 15


def _agent_login(client: Client, username: str, password: str):
    return client.post("/agent/login/", {"username": username, "password": password})


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_it_locks_an_agent_out_after_five_wrong_passwords_and_says_when_to_retry(client):
    AgentFactory(username="alex")  # password "pw"
    for _ in range(4):
        assert _agent_login(client, "alex", "guess").status_code == 200  # the form again
    assert _agent_login(client, "alex", "guess").status_code == 429  # the fifth locks

    refused = _agent_login(client, "alex", "pw")

    assert refused.status_code == 429
    assert "Try again in 15 minutes" in refused.content.decode()
    assert refused["Retry-After"] == str(15 * 60)
    logged = AccessFailureLog.objects.filter(username="alex").order_by("id")
    assert [f.locked_out for f in logged] == [False] * 4 + [True, True]
    assert "_auth_user_id" not in client.session


def test_it_locks_the_admin_login_too(client):
    AdminFactory(username="root")
    for _ in range(5):
        client.post("/admin/login/", {"username": "root", "password": "guess"})

    refused = client.post("/admin/login/", {"username": "root", "password": "pw"})

    assert refused.status_code == 429 and "Sign-in paused" in refused.content.decode()


def test_it_locks_http_basic_on_the_api_with_the_apis_error_shape(client):
    from helpdesk.auth import remembered_forget_all

    remembered_forget_all()
    AgentFactory(username="alex")
    for _ in range(4):
        assert client.get("/api/v1/tickets/", **_basic("alex", "guess")).status_code in (401, 403)
    client.get("/api/v1/tickets/", **_basic("alex", "guess"))

    refused = client.get("/api/v1/tickets/", **_basic("alex", "pw"))

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "locked_out"
    assert "Try again in 15 minutes" in refused.json()["error"]["message"]


def test_it_locks_an_address_that_tries_many_accounts(client):
    AgentFactory(username="victim")
    for n in range(5):
        _agent_login(client, f"user{n}", "guess")

    assert _agent_login(client, "victim", "pw").status_code == 429


def test_it_lets_the_right_password_in_before_the_limit_and_logs_the_sign_in(client):
    AgentFactory(username="alex")
    for _ in range(4):
        _agent_login(client, "alex", "guess")

    signed_in = _agent_login(client, "alex", "pw")

    assert signed_in.status_code == 302 and signed_in["Location"] == "/agent/"
    assert AccessLog.objects.filter(username="alex").exists()
    assert not AccessAttempt.objects.filter(username="alex").exists()  # reset on success


def test_it_signs_in_again_once_an_admin_unlocks_the_account(client):
    AgentFactory(username="alex")
    for _ in range(5):
        _agent_login(client, "alex", "guess")
    admin = Client()
    admin.force_login(AdminFactory(username="root"))
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "alex" in listing.content.decode()

    reset(username="alex")  # what deleting the attempt in that list does

    # The address was counted too; unlocking the account is what the person asked for.
    reset(ip="127.0.0.1")
    assert _agent_login(client, "alex", "pw").status_code == 302


def test_it_doubles_the_lockout_with_each_further_round_of_failures(settings):
    from django.utils import timezone

    request = RequestFactory().post("/agent/login/", REMOTE_ADDR="203.0.113.9")
    request.axes_credentials = {"username": "alex"}

    def failures(n: int) -> None:
        AccessFailureLog.objects.bulk_create(
            AccessFailureLog(
                username="alex", ip_address="203.0.113.9", user_agent="", http_accept="",
                path_info="/agent/login/", attempt_time=timezone.now(),
            )
            for _ in range(n)
        )  # fmt: skip

    failures(5)
    assert login_cool_off(request) == timedelta(minutes=15)
    failures(5)
    assert login_cool_off(request) == timedelta(minutes=30)
    failures(10)
    assert login_cool_off(request) == timedelta(minutes=120)
    failures(200)
    assert login_cool_off(request) == timedelta(hours=24)
    assert login_cool_off(None) == timedelta(minutes=15)


def test_it_leaves_authenticate_without_a_request_to_the_model_backend(client):
    AgentFactory(username="alex")

    assert client.login(username="alex", password="pw")  # a script or the test client
    assert not client.login(username="alex", password="guess")
    assert not AccessAttempt.objects.exists()  # nothing to count it against
