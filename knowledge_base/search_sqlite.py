"""Help-centre search on the embedded SQLite default, ranked like the PostgreSQL one.

Two FTS5 tables, created and kept current by SQL triggers (migration 0003), hold the
published articles only (rowid = article id):

- `kb_article_fts` (title, excerpt, body_text), porter-stemmed words: bm25 with the
  column weights of PostgreSQL's A/B/C (1.0 / 0.4 / 0.2) ranks word matches;
- `kb_article_trigram` (title), the trigram tokenizer (SQLite 3.34+): finds the titles
  that share trigrams with a mistyped word; similarity is then measured here, on those
  few titles, with pg_trgm's threshold.

The steps mirror knowledge_base.selectors' PostgreSQL search: every term, then the terms
some article has, then any of them (keeping only hits close to the best, so suggestions
are not padded with articles that share one common word), then typos.

Without FTS5 the caller falls back to substring matching; without the trigram tokenizer
typos are measured against the published titles (up to 2,000, most read first).
"""

import re
from dataclasses import dataclass

from django.db import connection

from knowledge_base.models import Article, ArticleStatus

FTS_TABLE = "kb_article_fts"
TRIGRAM_TABLE = "kb_article_trigram"
# bm25 column weights: title, excerpt, body (PostgreSQL's default A, B, C weights).
WEIGHTS = (5.0, 2.0, 1.0)
# "Any of the words" keeps hits scoring at least this share of the best one: measured on
# tests/knowledge_base/test_search_quality.py, it drops the articles that share a single
# common word ("keeps", "not") and keeps the ones that share the query's subject.
ANY_WORD_MIN_SHARE = 0.5
# Below this, a trigram match is noise rather than a typo (pg_trgm's default too).
TRIGRAM_MIN_SIMILARITY = 0.5
TRIGRAM_CANDIDATES = 100
SNIPPET_TOKENS = 24

# PostgreSQL's `english` stop words (the Snowball list), so both backends ignore the same
# words: "how do I return something" searches for "return" and "something".
_STOP_WORDS_TEXT = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did
doing a an the and but if or because as until while of at by for with about against
between into through during before after above below to from up down in out on off over
under again further then once here there when where why how all any both each few more
most other some such no nor not only own same so than too very s t can will just don
should now
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_WORD = re.compile(r"\w+", re.UNICODE)
# Web search syntax, as PostgreSQL's websearch_to_tsquery reads it: "quoted phrases",
# -exclusions (a dash after a space: "two-step" is words) and `or`; the rest are words.
_SYNTAX = re.compile(r'"([^"]*)"|(?:(?<!\S)(-))?(\w+)', re.UNICODE)

_complete: set[str] = set()  # databases known to have both tables


@dataclass(frozen=True)
class Ranked:
    article_id: int
    rank: float
    snippet: str | None  # body fragment with highlight markers; None: use the excerpt


def _tables() -> frozenset[str]:
    """Which of the two search tables this database has. Remembered once both exist; a
    database without them (no FTS5, or not migrated yet) is asked again next time."""
    name = str(connection.settings_dict["NAME"])
    if name in _complete:
        return frozenset({FTS_TABLE, TRIGRAM_TABLE})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (%s, %s)",
            [FTS_TABLE, TRIGRAM_TABLE],
        )
        found = frozenset(row[0] for row in cursor.fetchall())
    if len(found) == 2:
        _complete.add(name)
    return found


def available() -> bool:
    return FTS_TABLE in _tables()


def _quote(text: str) -> str:
    # An FTS5 string: operators and punctuation inside are plain text.
    return '"' + text.replace('"', '""') + '"'


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def _strict_expression(query: str) -> str:
    """The query as an FTS5 expression: every term, phrases, `or`, -exclusions."""
    parts: list[str] = []
    excluded: list[str] = []
    pending_or = False
    for phrase, minus, word in _SYNTAX.findall(query.lower()):
        if word == "or" and not minus:
            pending_or = bool(parts)
            continue
        words = _content_words(phrase) if phrase else _content_words(word)
        if not words:
            continue
        term = _quote(" ".join(words))
        if minus:
            excluded.append(term)
            continue
        if parts:
            parts.append("OR" if pending_or else "AND")
        parts.append(term)
        pending_or = False
    if not parts:
        return ""
    expression = " ".join(parts)
    if excluded:
        expression = f"({expression}) NOT ({' OR '.join(excluded)})"
    return expression


def _ranked(expression: str, limit: int, marks: tuple[str, str]) -> list[Ranked]:
    weights = ", ".join(str(w) for w in WEIGHTS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {FTS_TABLE}.rowid, -bm25({FTS_TABLE}, {weights}) AS score,"  # noqa: S608
            f" snippet({FTS_TABLE}, 2, %s, %s, ' … ', {SNIPPET_TOKENS})"
            f" FROM {FTS_TABLE} JOIN knowledge_base_article a ON a.id = {FTS_TABLE}.rowid"
            f" WHERE {FTS_TABLE} MATCH %s AND a.status = 'published'"
            " ORDER BY score DESC, a.view_count DESC, a.id LIMIT %s",
            [marks[0], marks[1], expression, limit],
        )
        return [Ranked(pk, float(score), snippet) for pk, score, snippet in cursor.fetchall()]


def _known_words(words: list[str]) -> list[str]:
    """The words some published article has, in one round trip."""
    probe = f"EXISTS (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"  # noqa: S608
    probes = ", ".join(probe for _ in words)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {probes}", [_quote(w) for w in words])
        found = cursor.fetchone()
    return [word for word, hit in zip(words, found, strict=True) if hit]


def _trigrams(word: str) -> list[str]:
    # pg_trgm's, in order: two spaces before the word, one after.
    padded = f"  {word} "
    return list(dict.fromkeys(padded[i : i + 3] for i in range(len(padded) - 2)))


def _word_similarity(grams: set[str], word_grams: list[str]) -> float:
    """pg_trgm's word_similarity within one word: the best Jaccard similarity between the
    query word's trigrams and a contiguous run of the title word's, so "parcle" matches
    "parcel" on the shared "parc" as PostgreSQL measures it."""
    best = 0.0
    for start in range(len(word_grams)):
        shared = 0
        for end in range(start, len(word_grams)):
            shared += word_grams[end] in grams
            best = max(best, shared / (len(grams) + end - start + 1 - shared))
    return best


def similarity(query_words: list[str], title: str) -> float:
    """How well `title` matches possibly mistyped words, 0..1: for each query word its
    best word similarity to a title word, averaged by the words' trigram counts."""
    title_grams = [_trigrams(w) for w in _WORD.findall(title.lower())]
    if not title_grams or not query_words:
        return 0.0
    total = weight = 0.0
    for word in query_words:
        grams = set(_trigrams(word))
        total += max(_word_similarity(grams, other) for other in title_grams) * len(grams)
        weight += len(grams)
    return total / weight


def _typo_candidates(words: list[str], tables: frozenset[str]) -> list[tuple[int, str, int]]:
    if TRIGRAM_TABLE not in tables:
        return list(
            Article.objects.filter(status=ArticleStatus.PUBLISHED)
            .order_by("-view_count", "id")
            .values_list("pk", "title", "view_count")[:2000]
        )
    # Every inner trigram of every word, any of them: the titles sharing some.
    grams = sorted({w[i : i + 3] for w in words for i in range(len(w) - 2)})
    if not grams:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {TRIGRAM_TABLE}.rowid, {TRIGRAM_TABLE}.title, a.view_count"  # noqa: S608
            f" FROM {TRIGRAM_TABLE} JOIN knowledge_base_article a"
            f" ON a.id = {TRIGRAM_TABLE}.rowid"
            f" WHERE {TRIGRAM_TABLE} MATCH %s AND a.status = 'published'"
            f" ORDER BY bm25({TRIGRAM_TABLE}) LIMIT %s",
            [" OR ".join(_quote(g) for g in grams), TRIGRAM_CANDIDATES],
        )
        return list(cursor.fetchall())


def _typo_ranked(words: list[str], limit: int, tables: frozenset[str]) -> list[Ranked]:
    words = [w for w in words if len(w) >= 3] or words
    scored: list[tuple[float, int, int]] = []
    for pk, title, views in _typo_candidates(words, tables):
        score = similarity(words, title)
        if score >= TRIGRAM_MIN_SIMILARITY:
            scored.append((score, views, pk))
    scored.sort(key=lambda row: (-row[0], -row[1], row[2]))
    return [Ranked(pk, score, None) for score, _, pk in scored[:limit]]


def _close_to_best(rows: list[Ranked]) -> list[Ranked]:
    if not rows:
        return rows
    floor = rows[0].rank * ANY_WORD_MIN_SHARE
    return [row for row in rows if row.rank >= floor]


def sqlite_search(*, query: str, limit: int, marks: tuple[str, str]) -> list[Ranked]:
    """Published articles for `query`, best first: one query when every term matches,
    at most five when it comes down to typos. Call only when available() is true."""
    tables = _tables()
    strict = _strict_expression(query)
    if strict:
        ranked = _ranked(strict, limit, marks)
        if ranked:
            return ranked
    words = list(dict.fromkeys(_content_words(query)))[:12]
    known = _known_words(words) if words else []
    if known:
        ranked = _ranked(" AND ".join(_quote(w) for w in known), limit, marks)
        if ranked:
            return ranked
    if len(known) > 1:
        ranked = _close_to_best(_ranked(" OR ".join(_quote(w) for w in known), limit, marks))
        if ranked:
            return ranked
    typo_words = words or _WORD.findall(query.lower())
    return _typo_ranked(typo_words, limit, tables)


def index_rebuild(*, article_ids: list[int] | None = None) -> None:
    """Rewrite the search rows of these articles (all when None) from the article table.

    The triggers keep the tables current on every write; this repairs an index out of
    step, e.g. after a later migration rebuilt the article table (SQLite drops a table's
    triggers with it, which tests/knowledge_base/test_search_sqlite.py would catch)."""
    if article_ids == []:
        return
    ids = "" if article_ids is None else ", ".join(["%s"] * len(article_ids))
    params = [] if article_ids is None else list(article_ids)
    tables = _tables()
    with connection.cursor() as cursor:
        for table, columns in ((FTS_TABLE, "title, excerpt, body_text"), (TRIGRAM_TABLE, "title")):
            if table not in tables:
                continue
            cursor.execute(
                f"DELETE FROM {table}" + (f" WHERE rowid IN ({ids})" if ids else ""),  # noqa: S608
                params,
            )
            cursor.execute(
                f"INSERT INTO {table}(rowid, {columns}) SELECT id, {columns}"  # noqa: S608
                " FROM knowledge_base_article WHERE status = 'published'"
                + (f" AND id IN ({ids})" if ids else ""),
                params,
            )
