import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from knowledge_base.models import SupportCategory
from tests.factories import TeamFactory
from tickets.portal.tokens import portal_token_make


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    # Rate-limit counters and sent-mail marks live in Redis: each test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def form_data() -> Any:
    def make(**overrides: Any) -> dict[str, Any]:
        data = {
            "name": "Robin Example",
            "email": "robin@example.com",
            "phone": "",
            "subject": "My parcel never arrived",
            "description": "I ordered a lamp two weeks ago and it has not arrived.",
            "category": "",
            "website": "",
            "submission_id": uuid.uuid4().hex,
        }
        data.update(overrides)
        return data

    return make


@pytest.fixture
def support_category(db: None) -> SupportCategory:
    return SupportCategory.objects.create(
        name="Billing question", team=TeamFactory(name="Billing"), priority="high"
    )


def portal_client(customer_id: int, email: str) -> Client:
    client = Client()
    response = client.post(
        f"/portal/login/{portal_token_make(customer_id=customer_id, email=email)}/"
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def signed_in() -> Any:
    return portal_client
