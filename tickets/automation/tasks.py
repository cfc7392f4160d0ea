from celery import shared_task


@shared_task(acks_late=True)
def automations_run_task() -> None:
    from tickets.automation.time_rules import automations_run

    automations_run()
