import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from knowledge_base.models import SupportCategory
from tests.factories import TeamFactory
from tickets.portal.tokens import portal_token_make

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


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


def make_user(username: str, group: str) -> Any:
    # Built directly: the shared AgentFactory's role hook was broken on this branch's base
    # (fixed on main since); these tests need no factory at all.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(
        username=username,
        password="pw",
        first_name=username.title(),
        is_staff=group == "Admins",
    )
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def agent(db: None) -> Any:
    return make_user("alex", "Agents")
