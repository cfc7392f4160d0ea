"""Opaque cursors for lists paginated by primary key (newest first): `?cursor=` values
that say which list they belong to, so one list's cursor is refused by another."""

import base64
import binascii


def pk_cursor(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}|{pk}".encode()).decode().rstrip("=")


def pk_from_cursor(kind: str, cursor: str) -> int:
    """The primary key `cursor` carries; ValueError when it is not one of `kind`'s."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError("not a cursor") from exc
    found, _, pk = raw.partition("|")
    number = int(pk) if found == kind and pk.isdigit() else 0
    if not 0 < number < 2**63:
        raise ValueError("not a cursor of this list")
    return number


def key_cursor(kind: str, *parts: str) -> str:
    """A cursor carrying a compound sort key (a time, a rank, an id), for keyset pages
    ordered by more than the primary key."""
    raw = "|".join((kind, *parts))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def key_from_cursor(kind: str, cursor: str, *, parts: int) -> list[str]:
    """The `parts` values `cursor` carries; ValueError when it is not one of `kind`'s."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError("not a cursor") from exc
    found, *values = raw.split("|")
    if found != kind or len(values) != parts:
        raise ValueError("not a cursor of this list")
    return values
