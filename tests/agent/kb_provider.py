"""A knowledge-base provider for tests, shaped as tickets/workspace/kb.py describes."""

from typing import Any


def search(*, query: str, limit: int) -> list[dict[str, Any]]:
    articles = [
        {"title": "Resetting your password", "url": "/kb/reset-password/", "excerpt": "Click…"},
        {"title": "Shipping times", "url": "/kb/shipping/", "excerpt": "We ship…"},
    ]
    return [a for a in articles if query.lower() in a["title"].lower()][:limit]
