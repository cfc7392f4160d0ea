from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from tickets.models import BusinessHours, BusinessInterval, Holiday, SlaPolicy, SlaTarget
        from tickets.sla.services import active_policies_cache

        active_policies_cache.watch(
            [SlaPolicy, SlaTarget, BusinessHours, BusinessInterval, Holiday]
        )
