from typing import Any

import pytest

from tests.tickets.reports.history import History, history_play


@pytest.fixture
def history(db: None) -> History:
    return history_play(seed=18, tickets=40)


@pytest.fixture
def token_client() -> Any:
    from rest_framework.test import APIClient

    from tickets.integrations.tokens import api_token_create

    def make(owner: Any, *scopes: str) -> APIClient:
        new = api_token_create(owner=owner, name="reports", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {new.secret}")
        return client

    return make
