from typing import Any

import pytest

from tests.privacy_world import Person, person_build


@pytest.fixture
def person(db: None, agent: Any, settings: Any) -> Person:
    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    return person_build(marker="zq7marker", agent=agent, phone="+14155550177")


@pytest.fixture
def bystander(db: None, agent: Any, person: Person) -> Person:
    """Someone else, with the same kinds of data, who must come through untouched."""
    return person_build(marker="kx4other", agent=agent, phone="+14155550166")
