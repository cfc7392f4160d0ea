"""Create, check and revoke API tokens. The secret is returned once and never stored."""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from helpdesk.errors import DomainError
from helpdesk.roles import is_agent
from tickets.integrations.models import ApiScope, ApiToken

PREFIX = "hd_live_"
# A token's last use is written at most this often: one write per token a minute, not
# one per request.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenErrorCode(Enum):
    INVALID = "token_invalid"
    REVOKED = "token_revoked"
    EXPIRED = "token_expired"
    BAD_SCOPE = "token_bad_scope"
    NOT_AN_AGENT = "token_owner_not_agent"


class TokenError(DomainError):
    pass


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the full bearer value: show it once


def _hash(secret: str) -> str:
    # The secret is 256 random bits: a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(secret.encode()).hexdigest()


def scopes_clean(scopes: Iterable[str]) -> list[str]:
    wanted = [s.strip() for s in scopes if s.strip()]
    unknown = sorted(set(wanted) - set(ApiScope.values))
    if unknown:
        raise TokenError(
            TokenErrorCode.BAD_SCOPE,
            f"Unknown scope {', '.join(unknown)}. Scopes are: {', '.join(ApiScope.values)}.",
        )
    if not wanted:
        raise TokenError(TokenErrorCode.BAD_SCOPE, "Give the token at least one scope.")
    return sorted(set(wanted))


def api_token_create(
    *,
    owner: Any,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    created_by: Any | None = None,
) -> NewToken:
    if not is_agent(owner):
        raise TokenError(
            TokenErrorCode.NOT_AN_AGENT,
            f"{owner.get_username()} is not an agent; a token acts as an agent.",
        )
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name.strip()[:100] or "API token",
        owner=owner,
        scopes=scopes_clean(scopes),
        key_id=secrets.token_hex(6),
        secret_hash=_hash(secret),
        expires_at=expires_at,
        created_by=created_by,
    )
    return NewToken(token=token, secret=f"{token.prefix}_{secret}")


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_token_check(raw: str, *, ip: str) -> ApiToken:
    """The live token `raw` stands for (owner loaded), or TokenError saying why not."""
    key_id, _, secret = raw.removeprefix(PREFIX).partition("_")
    token = None
    if raw.startswith(PREFIX) and key_id and secret:
        token = ApiToken.objects.select_related("owner").filter(key_id=key_id).first()
    if token is None or not constant_time_compare(token.secret_hash, _hash(secret)):
        raise TokenError(TokenErrorCode.INVALID, "The API token is not valid.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenError(
            TokenErrorCode.REVOKED, "The API token was revoked. Ask an admin for a new one."
        )
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenError(
            TokenErrorCode.EXPIRED, "The API token expired. Ask an admin for a new one."
        )
    if not token.owner.is_active:
        raise TokenError(TokenErrorCode.INVALID, "The API token's owner is deactivated.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        # Conditional, so concurrent requests on other processes write it once too.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
        ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now, last_used_ip=ip)
        token.last_used_at, token.last_used_ip = now, ip
    return token
