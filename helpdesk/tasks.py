from celery import shared_task


@shared_task(ignore_result=False)
def ping() -> str:
    """Round-trip check: the worker answers 'pong'."""
    return "pong"
