"""Celery tasks for tickets: thin wrappers that take ids and call one service."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def sla_tick_task() -> None:
    from tickets.sla.timer import sla_process_due  # keeps the import graph one-way

    sla_process_due()


@shared_task(acks_late=True, ignore_result=True)
def sla_recompute_open_task(*, after_id: int = 0) -> None:
    """One bounded batch, then the next as a new task: never one long transaction."""
    from tickets.sla.services import sla_recompute_open_batch

    last = sla_recompute_open_batch(after_id=after_id)
    if last is not None:
        sla_recompute_open_task.delay(after_id=last)


@shared_task(ignore_result=True)
def sla_publish_task(*, ticket_ids: list[int]) -> None:
    from tickets.sla.timer import sla_publish

    sla_publish(ticket_ids=ticket_ids)
