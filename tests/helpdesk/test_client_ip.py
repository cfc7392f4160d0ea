"""Which address is the client's: X-Forwarded-For only from our own proxies."""

import pytest

from helpdesk.lib.net import client_ip


def test_it_ignores_x_forwarded_for_when_no_proxy_is_trusted(settings):
    settings.HELPDESK_TRUSTED_PROXIES = []

    meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}

    assert client_ip(meta) == "127.0.0.1"


def test_it_ignores_x_forwarded_for_from_a_peer_that_is_no_trusted_proxy(settings):
    settings.HELPDESK_TRUSTED_PROXIES = ["10.0.0.5"]

    meta = {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}

    assert client_ip(meta) == "198.51.100.7"


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("203.0.113.9", "203.0.113.9"),
        # The client wrote the first entry itself; our proxies appended the rest.
        ("1.2.3.4, 203.0.113.9", "203.0.113.9"),
        ("1.2.3.4, 203.0.113.9, 172.18.0.3", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::1"),
        ("not-an-address", "10.0.0.5"),
        ("", "10.0.0.5"),
    ],
)
def test_it_reads_x_forwarded_for_from_the_right_past_our_own_proxies(settings, forwarded, client):
    settings.HELPDESK_TRUSTED_PROXIES = ["10.0.0.5", "172.18.0.0/16"]

    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": forwarded}

    assert client_ip(meta) == client
