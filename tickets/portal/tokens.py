"""Signed, expiring, purpose-bound links: the portal's magic link and the CSAT link.

Each purpose has its own salt, so a rating link can never open the portal and the other
way round. A sign-in link carries a nonce and signs in once (tickets/portal/sign_in.py);
a rating link stays valid until it expires or SECRET_KEY changes.
"""

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

from helpdesk.errors import DomainError
from helpdesk.lib.urls import absolute_url
from tickets.portal.errors import PortalErrorCode

# The salt names the link format (v2: a nonce, one sign-in): a link signed for another
# format fails its signature check and is refused.
PORTAL_SALT = "helpdesk.portal.magic-link.v2"
RATING_SALT = "helpdesk.portal.satisfaction.v1"


class PortalLinkError(DomainError):
    code: PortalErrorCode


@dataclass(frozen=True)
class PortalAccess:
    customer_id: int
    email: str
    nonce: str


@dataclass(frozen=True)
class RatingAccess:
    ticket_id: int
    customer_id: int


def portal_token_make(*, customer_id: int, email: str) -> str:
    payload = {"c": customer_id, "e": email, "n": secrets.token_urlsafe(16)}
    return signing.TimestampSigner(salt=PORTAL_SALT).sign_object(payload)


def _read(token: str, *, salt: str, max_age: int, what: str) -> dict[str, object]:
    try:
        data = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise PortalLinkError(
            PortalErrorCode.LINK_EXPIRED,
            f"This {what} link has expired. Ask for a new one below.",
        ) from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise PortalLinkError(
            PortalErrorCode.LINK_INVALID,
            f"This {what} link is not valid. Copy the whole link from the email, or ask for "
            "a new one below.",
        ) from exc
    if not isinstance(data, dict):
        raise PortalLinkError(PortalErrorCode.LINK_INVALID, f"This {what} link is not valid.")
    return data


def portal_token_read(token: str) -> PortalAccess:
    data = _read(
        token, salt=PORTAL_SALT, max_age=settings.HELPDESK_PORTAL_LINK_MAX_AGE, what="sign-in"
    )
    customer_id, email, nonce = data.get("c"), data.get("e"), data.get("n")
    if not (isinstance(customer_id, int) and isinstance(email, str) and isinstance(nonce, str)):
        raise PortalLinkError(PortalErrorCode.LINK_INVALID, "This sign-in link is not valid.")
    return PortalAccess(customer_id=customer_id, email=email, nonce=nonce[:32])


def portal_link_lifetime() -> str:
    """How long a sign-in link works, as the mails and pages say it ("24 hours")."""
    seconds = settings.HELPDESK_PORTAL_LINK_MAX_AGE
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and (seconds % size == 0 or unit == "minute"):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def rating_token_make(*, ticket_id: int, customer_id: int) -> str:
    return signing.TimestampSigner(salt=RATING_SALT).sign_object({"t": ticket_id, "c": customer_id})


def rating_token_read(token: str) -> RatingAccess:
    data = _read(
        token, salt=RATING_SALT, max_age=settings.HELPDESK_CSAT_LINK_MAX_AGE, what="rating"
    )
    ticket_id, customer_id = data.get("t"), data.get("c")
    if not isinstance(ticket_id, int) or not isinstance(customer_id, int):
        raise PortalLinkError(PortalErrorCode.LINK_INVALID, "This rating link is not valid.")
    return RatingAccess(ticket_id=ticket_id, customer_id=customer_id)


def portal_link_url(*, customer_id: int, email: str, next_path: str = "") -> str:
    token = portal_token_make(customer_id=customer_id, email=email)
    url = absolute_url(reverse("portal:login", kwargs={"token": token}))
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def rating_link_url(*, ticket_id: int, customer_id: int) -> str:
    token = rating_token_make(ticket_id=ticket_id, customer_id=customer_id)
    return absolute_url(reverse("portal:rate", kwargs={"token": token}))
