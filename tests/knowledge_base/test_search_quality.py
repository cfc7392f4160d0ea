"""Search quality: 30 published articles, 20 customer-worded queries, on PostgreSQL and on
the embedded SQLite default.

Targets (PostgreSQL): the expected article first for 18 of the 20 queries and in the top
3 for 18, and at most 25 other articles shown beside it in the web form's five
suggestions over the 20 queries. SQLite (FTS5, bm25 and trigrams) may fall short of the
first two by MARGIN, one query each; the padding limit is the same.

Measured when the SQLite search was built: PostgreSQL 20 first, 20 in the top 3, 21 other
articles; SQLite 19 first, 20 in the top 3, 11 other articles (the substring matching it
replaced: 12 first, 19 in the top 3, 64 other articles).
"""

from dataclasses import dataclass

import pytest
from django.db import connection

from knowledge_base.models import ArticleStatus, Category
from knowledge_base.selectors import kb_search
from knowledge_base.services import article_create

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

FIRST_TARGET = 18
TOP3_TARGET = 18
OTHERS_IN_SUGGESTIONS_MAX = 25
SUGGESTIONS = 5  # what /support/suggest/ shows
# How many queries fewer SQLite may get right than the PostgreSQL targets.
MARGIN = 1

EXTRA = [
    (
        "Buy and redeem gift cards",
        "Gift cards are sold in amounts from 10 to 500 EUR. Redeem "
        "one under Billing, Gift cards; the balance never expires.",
    ),
    (
        "Earn and spend loyalty points",
        "Every euro spent earns one point. 100 points are worth 5 "
        "EUR off your next order. Points expire after 24 months without purchases.",
    ),
    (
        "Change language and currency",
        "Pick your language and the currency prices are shown in "
        "at the bottom of every page, or in Settings, Region.",
    ),
    (
        "Student discount",
        "Students get 10% off with a verified university email address. "
        "Verify once a year through our partner.",
    ),
    (
        "Phone support opening hours",
        "Call us Monday to Friday from 8 am to 6 pm CET. Outside "
        "these hours, use the contact form and we reply by email.",
    ),
]

QUERIES = [
    ("forgot my password", "How to reset your password"),
    ("pasword reset", "How to reset your password"),
    ("two factor authentication code", "Set up two-step verification"),
    ("change my email address", "Change the email address on your account"),
    ("account locked", "Your account is locked after too many sign-in attempts"),
    ("delete my account", "Delete your account and personal data"),
    ("card expired update payment", "Update your credit card or payment method"),
    ("download invoice", "Download invoices and receipts"),
    ("I was charged twice", "Why was I charged twice?"),
    ("cancel subscription", "Cancel your subscription"),
    ("promo code not working", "Apply a discount code or gift card"),
    ("where is my parcel tracking", "Track your order"),
    ("how long does delivery take", "Delivery times and shipping costs"),
    ("wrong shipping address", "Change the shipping address of an order"),
    ("import tax customs", "Customs duties and import taxes"),
    ("how do I return something", "How to return an item"),
    ("when do I get my refund", "When will I get my refund?"),
    ("item arrived broken", "Received a damaged or wrong item"),
    ("app keeps crashing", "The app crashes or will not open"),
    ("loyalty points expire", "Earn and spend loyalty points"),
]


@pytest.fixture
def corpus(demo):
    extra = Category.objects.create(name="More", slug="more")
    for title, body in EXTRA:
        article_create(title=title, category=extra, body=body, status=ArticleStatus.PUBLISHED)


@dataclass(frozen=True)
class Figures:
    first: int
    top3: int
    others: int  # other articles shown beside the expected one, summed over the queries
    misses: list[tuple[str, str, list[str]]]


def _measure() -> Figures:
    first = top3 = others = 0
    misses = []
    for query, expected in QUERIES:
        titles = [hit.title for hit in kb_search(query=query, limit=SUGGESTIONS)]
        first += titles[:1] == [expected]
        top3 += expected in titles[:3]
        others += len([title for title in titles if title != expected])
        if titles[:1] != [expected]:
            misses.append((query, expected, titles))
    return Figures(first=first, top3=top3, others=others, misses=misses)


def test_it_finds_the_expected_article_in_the_top_three_for_most_queries(corpus):
    margin = 0 if connection.vendor == "postgresql" else MARGIN

    figures = _measure()

    assert figures.top3 >= TOP3_TARGET - margin, figures
    assert figures.first >= FIRST_TARGET - margin, figures


def test_it_suggests_few_other_articles_beside_the_expected_one(corpus):
    figures = _measure()

    assert figures.others <= OTHERS_IN_SUGGESTIONS_MAX, figures


def test_it_forgives_typos_in_the_corpus(corpus):
    assert kb_search(query="pasword")[0].title == "How to reset your password"
    assert kb_search(query="subscripton")[0].title == "Cancel your subscription"
    assert kb_search(query="qzxv wplk") == []  # shares no trigram worth a match
