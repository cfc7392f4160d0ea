"""The channel registry: every channel the help desk speaks, found in one table.

Each channel lives in its own package (channels_app/email/, sms/, chat/, web/, api/)
holding its adapter, sender, hooks, admin and display code. The generic parts (ingest,
the delivery outbox, RawInbound) know no channel by name: they look the channel up here.

The table itself is channels_app.installed.CHANNELS, installed here when the app is ready
(it imports every channel package, which import the outbox: the generic code reads the
table from here, never imports the channels). Adding a channel: a package beside the
others, one ChannelSpec in CHANNELS, the value in tickets.models.Channel and its
migration (docs/architecture.md, "Adding a channel").
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from channels_app.inbound import InboundMessage
from channels_app.senders import Sender
from tickets.models import Channel
from tickets.replies import ReplyRule, reply_rules_install

Parser = Callable[[bytes, dict[str, str]], InboundMessage]


@dataclass(frozen=True)
class ChannelSpec:
    kind: Channel
    reply: ReplyRule
    # RawInbound.adapter name -> the parser of that provider's payloads.
    adapters: Mapping[str, Parser] = field(default_factory=dict)
    # Sends one claimed reply delivery; None: nothing is sent on this channel.
    sender: Sender | None = None
    # Sends the outbox's notifications (acknowledgements, links, alerts) on this channel.
    notification_sender: Sender | None = None
    # Refuses a recipient before a reply is written (raises TicketError): opted-out numbers.
    recipient_check: Callable[[str], None] | None = None
    # Runs in the reply's transaction once its delivery is written.
    reply_queued: Callable[[], None] | None = None
    # Runs in ingest's transaction after a message of this channel is stored.
    ingested: Callable[..., None] | None = None
    # The assignee is mailed when the customer writes again (not for live chat: the
    # conversation is on the agent's screen already).
    notifies_assignee: bool = True
    # (URL prefix, urlconf module) of the provider webhooks, included by helpdesk.urls.
    hooks: tuple[tuple[str, str], ...] = ()
    # The module that registers the channel's configuration in the Django admin.
    admin: str = ""


SPECS: dict[str, ChannelSpec] = {}
ADAPTERS: dict[str, Parser] = {}  # RawInbound.adapter -> parser, of every channel


def registry_install(channels: tuple[ChannelSpec, ...]) -> None:
    """Install the channel table (ChannelsAppConfig.ready) and hand the core its reply
    rules. Notifications go on the first channel that can send them (mail)."""
    SPECS.clear()
    SPECS.update({spec.kind.value: spec for spec in channels})
    ADAPTERS.clear()
    ADAPTERS.update({name: parser for spec in channels for name, parser in spec.adapters.items()})
    fallback = next(s.kind for s in channels if s.notification_sender is not None)
    reply_rules_install({spec.kind.value: spec.reply for spec in channels}, fallback=fallback)


def channel_spec(channel: str) -> ChannelSpec | None:
    return SPECS.get(channel)


def reply_channel_choices() -> list[tuple[str, str]]:
    """(value, label) of the channels an agent can reply on, in registry order."""
    return [(spec.kind.value, spec.kind.label) for spec in SPECS.values() if spec.sender]
