"""Selectors for a ticket's mail identity: its mailbox, its reply address, our own
addresses, and the customer's portal link."""

from django.conf import settings
from django.utils.module_loading import import_string

from channels_app.models import Mailbox
from helpdesk.lib.config_cache import ConfigCache
from tickets.models import Channel, Direction, Message, Ticket


def portal_link_none(ticket: Ticket) -> str:
    """Default of HELPDESK_PORTAL_LINK_FUNCTION: no portal, no link in acknowledgements."""
    return ""


def ticket_portal_link(*, ticket: Ticket) -> str:
    """The customer's portal link for `ticket`, from HELPDESK_PORTAL_LINK_FUNCTION."""
    builder = import_string(settings.HELPDESK_PORTAL_LINK_FUNCTION)
    return str(builder(ticket) or "")


def _load_mailboxes() -> tuple[Mailbox, ...]:
    # What inbound mail needs of every mailbox; the IMAP status columns (written with
    # update(), which sends no signal) are left out, so polling never invalidates.
    return tuple(
        Mailbox.objects.order_by("pk").defer("last_success_at", "last_error", "last_error_at")
    )


# Read for every inbound mail; reloaded after any save or delete of a mailbox (signals,
# see ChannelsAppConfig.ready).
mailboxes_cache = ConfigCache("mailboxes", _load_mailboxes)


def mailboxes_all() -> tuple[Mailbox, ...]:
    """Every mailbox, active or not, by pk. Shared copies: read them, never save them."""
    return mailboxes_cache.get()


def own_addresses() -> set[str]:
    return {mailbox.address.lower() for mailbox in mailboxes_all()}


def mailbox_active(*, mailbox_id: int) -> Mailbox | None:
    """The active mailbox with this pk (a shared copy, read-only)."""
    return next((m for m in mailboxes_all() if m.pk == mailbox_id and m.is_active), None)


def mailbox_for_ticket(*, ticket: Ticket) -> Mailbox | None:
    """The mailbox the customer first wrote to; else the team's; else the default one."""
    meta = (
        Message.objects.filter(
            ticket=ticket, direction=Direction.INBOUND, channel=Channel.EMAIL, raw__isnull=False
        )
        .order_by("created_at", "id")
        .values_list("raw__meta", flat=True)
        .first()
    )
    mailbox_id = str((meta or {}).get("mailbox_id", ""))
    mailbox = None
    if mailbox_id.isdigit():
        mailbox = Mailbox.objects.filter(pk=int(mailbox_id), is_active=True).first()
    if mailbox is None and ticket.team_id:
        mailbox = Mailbox.objects.filter(is_active=True, team_id=ticket.team_id).first()
    return mailbox or Mailbox.objects.filter(is_active=True, is_default=True).first()


def ticket_reply_address(*, ticket: Ticket, mailbox: Mailbox) -> str:
    """support+<token>@example.com when the mailbox's server delivers plus addresses."""
    if not mailbox.plus_addressing:
        return mailbox.address
    local, _, domain = mailbox.address.partition("@")
    return f"{local}+{ticket.reply_token}@{domain}"
