"""The channel registry is complete: every channel has one entry, and what it promises
(a sender, a reply rule, webhooks, an admin) is really there."""

from importlib import import_module

import pytest
from django.contrib import admin
from django.urls import resolve

from channels_app.installed import CHANNELS
from channels_app.models import ChatChannel, Mailbox, SmsNumber
from channels_app.registry import ADAPTERS, SPECS, channel_spec, reply_channel_choices
from tickets.models import Channel
from tickets.replies import reply_channel_for, reply_channels, reply_rule


def test_every_channel_has_exactly_one_spec():
    kinds = [spec.kind for spec in CHANNELS]

    assert sorted(kinds) == sorted(Channel), "add a ChannelSpec for each Channel value"
    assert len(set(kinds)) == len(kinds)
    assert set(SPECS) == set(Channel.values)


def test_a_channel_that_sends_says_to_whom_and_one_that_does_not_says_where_replies_go():
    for spec in CHANNELS:
        if spec.sender is not None:
            assert spec.reply.recipient_kind, f"{spec.kind}: a sender needs a recipient kind"
            assert spec.reply.reply_on == spec.kind
        else:  # inbound only: its tickets are answered on a channel that sends
            assert spec.reply.recipient_kind is None
            assert SPECS[spec.reply.reply_on].sender is not None, spec.kind


def test_the_core_gets_the_registry_rules():
    assert reply_channels() == [value for value, _ in reply_channel_choices()]
    assert reply_channel_for(Channel.WEB) == Channel.EMAIL
    assert reply_channel_for(Channel.SMS) == Channel.SMS
    assert reply_rule(Channel.EMAIL).threaded and reply_rule(Channel.EMAIL).copies_followers
    assert not reply_rule(Channel.CHAT).threaded


def test_every_adapter_name_parses_and_belongs_to_one_channel():
    names = [name for spec in CHANNELS for name in spec.adapters]

    assert len(names) == len(set(names))
    assert set(ADAPTERS) == set(names)
    assert {"email", "twilio_sms", "chat", "web", "api"} <= set(ADAPTERS)


@pytest.mark.parametrize("spec", [s for s in CHANNELS if s.hooks], ids=lambda s: s.kind)
def test_each_declared_webhook_is_routed(spec):
    for prefix, urlconf in spec.hooks:
        patterns = import_module(urlconf).urlpatterns
        assert patterns, urlconf
        for pattern in patterns:
            route = str(getattr(pattern.pattern, "_route", "")) or ""
            if route and "<" not in route:
                assert resolve(f"/{prefix}{route}").func is not None


def test_each_channel_admin_registers_its_configuration():
    assert {Mailbox, SmsNumber, ChatChannel} <= set(admin.site._registry)
    for spec in CHANNELS:
        if spec.admin:
            import_module(spec.admin)


def test_an_unknown_channel_has_no_spec():
    assert channel_spec("carrier-pigeon") is None
