"""Absolute URLs for links that leave the site (mails, SMS, webhooks, snippets), and the
checks that the public address they are built on is right."""

import os
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host


def absolute_url(path: str) -> str:
    """`path` (starting with /) on the desk's public address, PUBLIC_BASE_URL."""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def public_base_url_problems() -> list[str]:
    """What is wrong with PUBLIC_BASE_URL for this deployment, in words an operator acts on.

    Every link a customer or a provider follows is built on it, so a wrong one fails far
    from here: a magic link to another port, a Twilio signature that never matches.
    """
    url = settings.PUBLIC_BASE_URL
    parts = urlsplit(url)
    problems: list[str] = []
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            f"PUBLIC_BASE_URL ({url!r}) is not an http(s) address such as https://help.example.com."
        ]
    if not settings.DEBUG:
        if "PUBLIC_BASE_URL" not in os.environ:
            problems.append(
                f"PUBLIC_BASE_URL is not set: links in mails and webhook URLs point at {url}. "
                "Set it to the address customers and providers reach."
            )
        if parts.scheme != "https":
            problems.append(
                f"PUBLIC_BASE_URL ({url}) is plain http while DEBUG is off: links and "
                "webhook signatures should use the https address."
            )
    if not validate_host(parts.hostname, settings.ALLOWED_HOSTS) and not (
        settings.DEBUG and not settings.ALLOWED_HOSTS
    ):
        problems.append(
            f"PUBLIC_BASE_URL's host {parts.hostname!r} is not in ALLOWED_HOSTS "
            f"({', '.join(settings.ALLOWED_HOSTS)}): requests to the links it builds are refused."
        )
    return problems
