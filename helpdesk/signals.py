"""Celery worker lifecycle: the heartbeat /healthz reads lives as long as the worker."""

from typing import Any

from celery.signals import worker_ready, worker_shutdown


@worker_ready.connect
def _start_heartbeat(**_: Any) -> None:
    from helpdesk.heartbeat import start_thread

    start_thread()


@worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    from helpdesk.heartbeat import stop_thread

    stop_thread()
