"""How raw payloads are stored on PostgreSQL."""

import os

import pytest
from django.db import connection

from channels_app.models import RawInbound

pytestmark = pytest.mark.django_db


def test_raw_payloads_are_compressed_with_lz4_and_read_back_byte_for_byte():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'channels_app_rawinbound'::regclass AND attname = 'payload'"
        )
        assert cursor.fetchone()[0] == "l"
    # Large enough to be compressed: a long text mail (a quoted thread, a newsletter).
    lines = [f"> line {n} of the quoted history, {os.urandom(4).hex()}" for n in range(5000)]
    payload = ("Subject: x\r\n\r\n" + "\r\n".join(lines)).encode()

    raw = RawInbound.objects.create(channel="email", source="test", payload=payload, meta={})

    assert bytes(RawInbound.objects.get(pk=raw.pk).payload) == payload
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(payload), pg_column_size(payload) "
            "FROM channels_app_rawinbound WHERE id = %s",
            [raw.pk],
        )
        method, stored = cursor.fetchone()
    assert method == "lz4" and stored < len(payload)
