"""The portal's part of a customer's export and erasure: sign-ins and browser sessions."""

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tickets.models import IdentityKind
from tickets.portal.models import PortalSignIn
from tickets.portal.views import DONE_KEY, SESSION_KEY
from tickets.privacy import CustomerScope

_CHUNK = 2000


def export_portal_sign_ins(scope: CustomerScope) -> list[dict[str, Any]]:
    rows = PortalSignIn.objects.filter(customer_id__in=scope.customer_ids).order_by("created_at")
    return [
        {
            "created_at": row.created_at.isoformat(),
            "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        }
        for row in rows
    ]


def _names_person(data: dict[str, Any], customer_ids: set[int], emails: set[str]) -> bool:
    portal, done = data.get(SESSION_KEY), data.get(DONE_KEY)
    if isinstance(portal, dict) and (
        portal.get("c") in customer_ids or str(portal.get("e", "")).lower() in emails
    ):
        return True
    return isinstance(done, dict) and str(done.get("email", "")).lower() in emails


def portal_customer_erased(event: Any) -> None:
    """CustomerErased subscriber (in the transaction): their portal sign-ins go, and so do
    the browser sessions that hold their id or address (signed in, or the web form's
    thanks page). Sessions are read one chunk at a time: an erasure is rare, and a session
    does not say whose it is without being decoded."""
    customer_ids = set(event.customer_ids)
    PortalSignIn.objects.filter(customer_id__in=customer_ids).delete()
    if settings.SESSION_ENGINE not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return
    emails = {value.lower() for kind, value in event.identities if kind == IdentityKind.EMAIL}
    doomed: list[str] = []
    live = Session.objects.filter(expire_date__gt=timezone.now()).order_by("session_key")
    last = ""
    while True:
        chunk = list(live.filter(session_key__gt=last)[:_CHUNK])
        if not chunk:
            break
        last = chunk[-1].session_key
        doomed.extend(
            s.session_key for s in chunk if _names_person(s.get_decoded(), customer_ids, emails)
        )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in doomed:
        store(session_key=key).delete()  # the cached_db engine's cache copy too
