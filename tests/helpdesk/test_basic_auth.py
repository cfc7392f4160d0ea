"""HTTP Basic on the API: the password hash is checked once, then the pair is remembered
(helpdesk/auth.py) for as long as the user and password stay what they were."""

import base64
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import authenticate

from helpdesk import auth

URL = "/api/v1/tickets/"


def basic(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {encoded}"}


@pytest.fixture(autouse=True)
def _forget() -> Iterator[None]:
    auth.remembered_forget_all()
    yield
    auth.remembered_forget_all()


@pytest.fixture
def verifications() -> Iterator[mock.MagicMock]:
    """Counts the full checks (the backend and its password hash)."""
    with mock.patch("rest_framework.authentication.authenticate", wraps=authenticate) as spy:
        yield spy


def test_it_checks_the_password_once_then_remembers_it(
    client: Any, agent: Any, verifications: mock.MagicMock
) -> None:
    for _ in range(3):
        assert client.get(URL, **basic("alex", "pw")).status_code == 200
    assert verifications.call_count == 1


def test_it_refuses_a_wrong_password_after_a_right_one(
    client: Any, agent: Any, verifications: mock.MagicMock
) -> None:
    assert client.get(URL, **basic("alex", "pw")).status_code == 200
    response = client.get(URL, **basic("alex", "pw-wrong"))
    # 401: bearer-token authentication comes first and its challenge is sent.
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    # Failures are not remembered: a wrong guess costs a full check every time.
    assert client.get(URL, **basic("alex", "pw-wrong")).status_code == 401
    assert verifications.call_count == 3


def test_it_forgets_a_password_that_was_changed(client: Any, agent: Any) -> None:
    assert client.get(URL, **basic("alex", "pw")).status_code == 200
    agent.set_password("a-new-password")
    agent.save(update_fields=["password"])
    assert client.get(URL, **basic("alex", "pw")).status_code == 401
    assert client.get(URL, **basic("alex", "a-new-password")).status_code == 200


def test_it_refuses_a_deactivated_user_at_once(client: Any, agent: Any) -> None:
    assert client.get(URL, **basic("alex", "pw")).status_code == 200
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert client.get(URL, **basic("alex", "pw")).status_code == 401


def test_it_refuses_a_deleted_or_renamed_user(client: Any, agent: Any, other_agent: Any) -> None:
    assert client.get(URL, **basic("alex", "pw")).status_code == 200
    assert client.get(URL, **basic("sam", "pw")).status_code == 200
    agent.delete()
    other_agent.username = "samuel"
    other_agent.save(update_fields=["username"])
    assert client.get(URL, **basic("alex", "pw")).status_code == 401
    assert client.get(URL, **basic("sam", "pw")).status_code == 401
    assert client.get(URL, **basic("samuel", "pw")).status_code == 200


def test_it_checks_again_once_the_pair_expires(
    client: Any, agent: Any, verifications: mock.MagicMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get(URL, **basic("alex", "pw")).status_code == 200
    later = auth.time.monotonic() + auth.REMEMBER_SECONDS + 1
    monkeypatch.setattr(auth.time, "monotonic", lambda: later)
    assert client.get(URL, **basic("alex", "pw")).status_code == 200
    assert verifications.call_count == 2


def test_it_keeps_no_password_and_a_bounded_number_of_pairs(
    client: Any, agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "REMEMBER_MAX", 2)
    for password in ("wrong-1", "pw"):
        client.get(URL, **basic("alex", password))
    kept = dict(auth._verified)
    assert list(kept) == [auth.credentials_digest("alex", "pw")]
    assert "pw" not in repr(kept).replace(agent.password, "")
    other = [("sam", "x"), ("kim", "y")]
    for name, password in other:
        user = type(agent).objects.create_user(username=name, password=password)
        user.groups.set(agent.groups.all())
        assert client.get(URL, **basic(name, password)).status_code == 200
    assert list(auth._verified) == [auth.credentials_digest(n, p) for n, p in other]


def test_it_is_the_api_s_basic_scheme_in_the_schema(client: Any) -> None:
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["basicAuth"] == {
        "type": "http",
        "scheme": "basic",
    }
