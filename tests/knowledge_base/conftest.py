from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from knowledge_base.demo import kb_demo_seed
from knowledge_base.models import ArticleStatus, Category
from knowledge_base.services import article_create


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(db: None) -> int:
    return kb_demo_seed()


@pytest.fixture
def category(db: None) -> Category:
    return Category.objects.create(name="Orders", slug="orders", description="Parcels")


@pytest.fixture
def publish(category: Category) -> Any:
    def make(title: str, body: str = "Body text.", **kwargs: Any) -> Any:
        kwargs.setdefault("status", ArticleStatus.PUBLISHED)
        return article_create(
            title=title, category=kwargs.pop("category", category), body=body, **kwargs
        )

    return make


@pytest.fixture
def sqlite() -> None:
    # SQLite-only behaviour: runs in the embedded pass (make pytest-embedded).
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: runs in make pytest-embedded")
