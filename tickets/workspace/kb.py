"""The help-centre articles the agent composer inserts: the workspace's side of the
knowledge base (knowledge_base.selectors.kb_search_for_composer finds them)."""

from dataclasses import dataclass

from knowledge_base.selectors import kb_search_for_composer


@dataclass(frozen=True)
class KbArticle:
    title: str
    url: str  # absolute: the reply is read outside the site
    excerpt: str


def kb_search(*, query: str, limit: int = 8) -> list[KbArticle]:
    if not query.strip():
        return []
    return [
        KbArticle(title=hit["title"], url=hit["url"], excerpt=hit["excerpt"])
        for hit in kb_search_for_composer(query=query.strip()[:200], limit=limit)[:limit]
    ]
