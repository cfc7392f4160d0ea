"""Knowledge base search and the web form on PostgreSQL.

- KB search: kb_search() latency (p50/p95/max) over BENCH_KB_ARTICLES published articles
  (default 10,000), for a mix of queries: common words, several words, phrases, typos
  (trigram fallback) and nothing-found.
- Web form: submissions per second end to end through Django's test client (form
  validation, RawInbound, web adapter, ingest, acknowledgement email to locmem).

    BENCH_KB_ARTICLES=2000 BENCH_KB_FORMS=50 python -m bench.bench_kb   # quick
    python -m bench.bench_kb                                            # the issue's run
"""

import itertools
import os
import random
import statistics
import tempfile
import time
import uuid
from typing import Any

from django.test import override_settings

BENCH_CATEGORY = "bench-kb"
# Support vocabulary: each appears in a few percent of articles, as in a real help centre.
DOMAIN = [
    "account", "password", "reset", "sign", "login", "email", "verification", "invoice",
    "payment", "card", "refund", "charge", "subscription", "cancel", "order", "parcel",
    "delivery", "shipping", "tracking", "address", "customs", "return", "exchange", "size",
    "colour", "damaged", "broken", "wrong", "item", "app", "crash", "update", "browser",
    "notification", "error", "declined", "bank", "limit", "warehouse", "carrier", "label",
    "courier", "weekend", "express", "standard", "international", "gift", "voucher",
    "discount", "code", "points", "loyalty", "student", "phone", "support", "hours",
    "language", "currency", "privacy", "data", "delete", "export", "security", "device",
]  # fmt: skip
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    # Pronounceable filler words: a large vocabulary, so matches are as sparse as in
    # real prose rather than every article containing every query word.
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))))
    return sorted(words)


QUERIES = [
    "reset password", "refund", "parcel tracking", "cancel subscription", "card declined",
    "how do I return a damaged item", "change delivery address", "app crash after update",
    "\"gift voucher\"", "invoice download pdf", "pasword", "delivry", "subscripton cancel",
    "zebra quantum", "xylophone", "email verification code", "loyalty points expire",
    "customs charges international order", "login", "privacy data export",
]  # fmt: skip


def _seed(count: int) -> None:
    from knowledge_base.models import Article, ArticleStatus, Category
    from knowledge_base.services import article_index_refresh, article_render

    category, _ = Category.objects.get_or_create(
        slug=BENCH_CATEGORY, defaults={"name": "Benchmark articles"}
    )
    have = Article.objects.filter(category=category).count()
    if have >= count:
        return
    rng = random.Random(7)
    vocabulary = _vocabulary(rng, 20_000)
    # Zipf-like: a few filler words are common, most are rare.
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))

    def sentence(k: int) -> str:
        words = rng.choices(vocabulary, cum_weights=cumulative, k=k)
        for _ in range(max(1, k // 25)):
            words[rng.randrange(k)] = rng.choice(DOMAIN)
        return " ".join(words)

    batch: list[Article] = []
    for n in range(have, count):
        title = sentence(rng.randint(4, 8)).capitalize()
        paragraphs = [sentence(rng.randint(40, 90)) for _ in range(3)]
        body = "\n\n".join(f"{p.capitalize()}." for p in paragraphs)
        html, text = article_render(body=body)
        batch.append(
            Article(
                title=title,
                slug=f"bench-{n}",
                category=category,
                excerpt=paragraphs[0][:200],
                body=body,
                body_html=html,
                body_text=text,
                status=ArticleStatus.PUBLISHED,
                view_count=rng.randint(0, 5000),
            )
        )
        if len(batch) == 1000:
            Article.objects.bulk_create(batch)
            batch = []
    if batch:
        Article.objects.bulk_create(batch)
    article_index_refresh(articles=Article.objects.filter(category=category))


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _search_rows(count: int, rounds: int) -> list[dict[str, Any]]:
    from django.db import connection

    from knowledge_base.selectors import kb_search

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_base_article")
    for query in QUERIES:  # warm caches and plans
        kb_search(query=query, limit=10)
    timings: list[float] = []
    for _ in range(rounds):
        for query in QUERIES:
            t0 = time.perf_counter()
            kb_search(query=query, limit=10)
            timings.append((time.perf_counter() - t0) * 1000)
    name = f"kb_search ({count} articles)"
    return [
        {"benchmark": name, "metric": "p50 ms", "value": statistics.median(timings), "target": ""},
        {
            "benchmark": name,
            "metric": "p95 ms",
            "value": _percentile(timings, 95),
            "target": "< 20",
        },
        {"benchmark": name, "metric": "max ms", "value": max(timings), "target": ""},
    ]


def _form_rows(count: int) -> list[dict[str, Any]]:
    from django.test import Client

    from helpdesk.celery import app as celery_app

    run_id = uuid.uuid4().hex[:8]
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944"
        "4154789c63f80f00000101000518d84e0000000049454e44ae426082"
    )
    client = Client()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the acknowledgement is sent in-process
    try:
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(
                MEDIA_ROOT=media,
                EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                HELPDESK_WEB_RATE_PER_IP=10**9,
                HELPDESK_WEB_RATE_PER_EMAIL=10**9,
            ),
        ):
            from django.core.files.uploadedfile import SimpleUploadedFile

            started = time.perf_counter()
            for n in range(count):
                data: dict[str, Any] = {
                    "name": f"Bench Customer {n}",
                    "email": f"bench-{run_id}-{n % 500}@example.com",
                    "subject": "My parcel never arrived",
                    "description": "Tracking says delivered but nothing is here. " * 5,
                    "submission_id": uuid.uuid4().hex,
                }
                if n % 5 == 0:
                    data["attachments"] = [SimpleUploadedFile("shot.png", png, "image/png")]
                response = client.post("/support/new/", data)
                if response.status_code != 302:
                    raise RuntimeError(f"web form answered {response.status_code}")
            total = time.perf_counter() - started
    finally:
        celery_app.conf.task_always_eager = eager
    return [
        {
            "benchmark": f"web form submit ({count} posts, 20% with a file)",
            "metric": "submits/s",
            "value": count / total,
            "target": "report",
        }
    ]


def run() -> list[dict[str, Any]]:
    articles = int(os.environ.get("BENCH_KB_ARTICLES", "10000"))
    rounds = int(os.environ.get("BENCH_KB_ROUNDS", "10"))
    forms = int(os.environ.get("BENCH_KB_FORMS", "200"))
    _seed(articles)
    return _search_rows(articles, rounds) + _form_rows(forms)


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    for row in run():
        print(f"{row['benchmark']:<48} {row['metric']:<10} {row['value']:>10.2f}  {row['target']}")
