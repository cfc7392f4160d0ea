from typing import Any

from celery.signals import worker_ready


@worker_ready.connect
def _start_heartbeat(**_: Any) -> None:
    from helpdesk.heartbeat import start_thread

    start_thread()
