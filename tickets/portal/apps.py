from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tickets.portal"
    label = "portal"
    verbose_name = "Customer web form and portal"

    def ready(self) -> None:
        from tickets.domain_events import Phase, TicketChanged, subscribe
        from tickets.portal.notifications import satisfaction_request_on_solve

        subscribe(TicketChanged, satisfaction_request_on_solve, phase=Phase.IN_TRANSACTION)
