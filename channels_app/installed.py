"""The channels this help desk speaks: the table channels_app.registry serves.

One entry per channel, each pointing into its own package (channels_app/<channel>/)."""

from channels_app.api import adapter as api_adapter
from channels_app.chat import adapter as chat_adapter
from channels_app.chat.sender import chat_reply_queued, send_chat
from channels_app.email import adapter as email_adapter
from channels_app.email.outbound import email_ingested
from channels_app.email.sender import send_email, send_notification
from channels_app.registry import ChannelSpec
from channels_app.sms import adapter as sms_adapter
from channels_app.sms.sender import send_sms, sms_recipient_check
from channels_app.web import adapter as web_adapter
from tickets.models import Channel, IdentityKind
from tickets.replies import ReplyRule

CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec(
        kind=Channel.EMAIL,
        reply=ReplyRule(
            recipient_kind=IdentityKind.EMAIL,
            reply_on=Channel.EMAIL,
            threaded=True,
            copies_followers=True,
        ),
        adapters={email_adapter.NAME: email_adapter.parse},
        sender=send_email,
        notification_sender=send_notification,
        ingested=email_ingested,
        hooks=(("hooks/", "channels_app.email.urls"),),
        admin="channels_app.email.admin",
    ),
    ChannelSpec(
        kind=Channel.SMS,
        reply=ReplyRule(recipient_kind=IdentityKind.PHONE, reply_on=Channel.SMS),
        adapters={sms_adapter.NAME: sms_adapter.parse},
        sender=send_sms,
        recipient_check=sms_recipient_check,
        hooks=(("hooks/twilio/", "channels_app.sms.urls"),),
        admin="channels_app.sms.admin",
    ),
    ChannelSpec(
        kind=Channel.CHAT,
        reply=ReplyRule(recipient_kind=IdentityKind.CHAT, reply_on=Channel.CHAT),
        adapters={chat_adapter.NAME: chat_adapter.parse},
        sender=send_chat,
        reply_queued=chat_reply_queued,
        notifies_assignee=False,
        admin="channels_app.chat.admin",
    ),
    # Inbound only: the web form and the API take messages in; replies go by email.
    ChannelSpec(
        kind=Channel.WEB,
        reply=ReplyRule(recipient_kind=None, reply_on=Channel.EMAIL),
        adapters={web_adapter.NAME: web_adapter.parse},
    ),
    ChannelSpec(
        kind=Channel.API,
        reply=ReplyRule(recipient_kind=None, reply_on=Channel.EMAIL),
        adapters={api_adapter.NAME: api_adapter.parse},
    ),
    # Logged by agents (a call taken); answered by email.
    ChannelSpec(kind=Channel.PHONE, reply=ReplyRule(recipient_kind=None, reply_on=Channel.EMAIL)),
)
