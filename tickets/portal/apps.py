from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tickets.portal"
    label = "portal"
    verbose_name = "Customer web form and portal"

    def ready(self) -> None:
        from channels_app.models import DeliveryPurpose
        from channels_app.notifications import notification_register
        from tickets.domain_events import Phase, TicketChanged, subscribe
        from tickets.portal import notifications as mails

        subscribe(TicketChanged, mails.satisfaction_request_on_solve, phase=Phase.IN_TRANSACTION)
        notification_register(DeliveryPurpose.ACKNOWLEDGEMENT, mails.acknowledgement_render)
        notification_register(DeliveryPurpose.SIGN_IN_LINK, mails.sign_in_link_render)
        notification_register(
            DeliveryPurpose.SATISFACTION_REQUEST, mails.satisfaction_request_render
        )
