"""Portal sign-in: a magic link opens one session, once; sessions end on the server."""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tickets.portal.errors import PortalErrorCode
from tickets.portal.models import PortalSignIn
from tickets.portal.selectors import customer_resolve
from tickets.portal.tokens import PortalAccess, PortalLinkError, portal_token_read


def portal_link_check(*, token: str) -> PortalAccess:
    """The link's customer and address, if it may still sign in (valid, unused)."""
    access = portal_token_read(token)
    if PortalSignIn.objects.filter(nonce=access.nonce).exists():
        raise PortalLinkError(
            PortalErrorCode.LINK_USED,
            "This sign-in link was already used. Enter your email address below and we "
            "will send you a new one.",
        )
    return access


def portal_sign_in(*, token: str) -> tuple[PortalSignIn, PortalAccess]:
    """Use the link: one sign-in per link, however often it is followed or replayed."""
    access = portal_link_check(token=token)
    customer = customer_resolve(customer_id=access.customer_id)
    if customer is None:
        raise PortalLinkError(
            PortalErrorCode.LINK_INVALID,
            "This sign-in link is not valid any more. Ask for a new one below.",
        )
    try:
        with transaction.atomic():
            return PortalSignIn.objects.create(nonce=access.nonce, customer=customer), access
    except IntegrityError as exc:  # the same link used twice at once: one wins
        raise PortalLinkError(
            PortalErrorCode.LINK_USED, "This sign-in link was already used. Ask for a new one."
        ) from exc


def portal_sign_in_active(*, sign_in_id: int, customer_id: int) -> bool:
    return PortalSignIn.objects.filter(
        pk=sign_in_id, customer_id=customer_id, ended_at__isnull=True
    ).exists()


def portal_sign_out(*, sign_in_id: int) -> None:
    PortalSignIn.objects.filter(pk=sign_in_id, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


def portal_sign_out_everywhere(*, customer_id: int) -> int:
    """End every portal session of the customer (and of records merged into them)."""
    return PortalSignIn.objects.filter(
        Q(customer_id=customer_id) | Q(customer__merged_into_id=customer_id),
        ended_at__isnull=True,
    ).update(ended_at=timezone.now())
