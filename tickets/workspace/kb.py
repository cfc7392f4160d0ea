"""The knowledge-base interface the agent composer inserts articles through.

The knowledge base (another app) provides a search function; this module only defines
what the composer needs and finds the provider by the setting
HELPDESK_KB_SEARCH = "dotted.path.to.function". The function takes keyword arguments
`query: str` and `limit: int` and returns an iterable of objects (or dicts) with `title`,
`url` and `excerpt`; an absolute or site-relative `url` is inserted after the excerpt.
Without the setting (or while the provider cannot be imported) the composer hides the
KB button rather than showing a button that finds nothing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class KbArticle:
    title: str
    url: str
    excerpt: str


def kb_provider() -> Callable[..., Iterable[Any]] | None:
    path = getattr(settings, "HELPDESK_KB_SEARCH", "")
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError:
        return None


def _field(item: Any, name: str) -> str:
    value = item.get(name, "") if isinstance(item, dict) else getattr(item, name, "")
    return str(value or "")


def kb_search(*, query: str, limit: int = 8) -> list[KbArticle]:
    provider = kb_provider()
    if provider is None or not query.strip():
        return []
    return [
        KbArticle(title=_field(i, "title"), url=_field(i, "url"), excerpt=_field(i, "excerpt"))
        for i in list(provider(query=query.strip()[:200], limit=limit))[:limit]
    ]
