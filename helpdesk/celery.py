"""The Celery app. Workers run SLA timers and all outbound delivery."""

import functools
import logging
import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

logger = logging.getLogger(__name__)


def _closed_broker_connection_is_a_connection_error() -> None:
    """Keep a worker alive when Redis goes away while it holds unacknowledged tasks.

    With acks_late (every task here) a prefork worker usually holds some. When the broker
    connection drops, kombu still uses the released connection: closing the channel
    pushes the unacknowledged messages back, and a task that finishes across the
    reconnect acknowledges on the old channel. Both reach kombu's Redis channel with its
    connection already gone and fail with AttributeError ("'NoneType' object has no
    attribute 'hostname'"), which Celery treats as unrecoverable: the worker exits.

    Raised as the connection error it is, Celery handles it like any other: it logs,
    reconnects and goes on. The messages concerned stay in Redis's unacked set and come
    back after the visibility timeout; every task is safe to run twice, and the outbox
    relay resends their deliveries well before that.
    """
    from kombu.transport import redis as kombu_redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    channel_class: Any = kombu_redis.Channel  # _connparams is private: not in the stubs
    original = channel_class._connparams
    if getattr(original, "helpdesk_guarded", False):
        return

    @functools.wraps(original)
    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        transport = self.connection
        if transport is None or getattr(transport, "client", None) is None:
            logger.warning("broker connection closed under a channel; reconnecting")
            raise RedisConnectionError("the broker connection is closed")
        return original(self, asynchronous)

    _connparams.helpdesk_guarded = True  # type: ignore[attr-defined]
    channel_class._connparams = _connparams


_closed_broker_connection_is_a_connection_error()

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
