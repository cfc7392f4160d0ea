from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tickets.reports"
    label = "reports"
    verbose_name = "Reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tickets.domain_events import Phase, subscribe
        from tickets.reports.facts import SUBSCRIBERS

        # In the transaction: a ticket's facts commit with the change that moved them,
        # or not at all, so the figures never drift from the record.
        for event_type, handler in SUBSCRIBERS:
            subscribe(event_type, handler, phase=Phase.IN_TRANSACTION)
