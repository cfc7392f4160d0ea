"""Demo configuration for seed_demo: one SMS number and one chat channel."""

from django.conf import settings

from channels_app.models import ChatChannel, SmsNumber
from tickets.models import Team

DEMO_SMS_NUMBER = "+15005550006"  # Twilio's "magic" test number: valid, never delivered
DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_AUTH_TOKEN = "demo-auth-token-change-me"  # noqa: S105 (demo data, replaced in admin)


def smschat_demo_setup(*, team: Team | None = None) -> tuple[SmsNumber, ChatChannel]:
    """Idempotent: returns the existing demo number and channel on a second call.

    The chat channel allows the desk's own host (PUBLIC_BASE_URL) and localhost, so the
    widget works on local demo pages; the snippet is in the admin.
    """
    number, _ = SmsNumber.objects.get_or_create(
        phone=DEMO_SMS_NUMBER,
        defaults={"account_sid": DEMO_ACCOUNT_SID, "auth_token": DEMO_AUTH_TOKEN, "team": team},
    )
    host = settings.PUBLIC_BASE_URL.split("://", 1)[-1].split("/", 1)[0]
    channel, _ = ChatChannel.objects.get_or_create(
        name="Demo website",
        defaults={
            "allowed_domains": "\n".join(dict.fromkeys([host, "localhost", "127.0.0.1"])),
            "greeting": "Hi! Ask us anything: an agent usually answers within minutes.",
            "team": team,
        },
    )
    return number, channel
