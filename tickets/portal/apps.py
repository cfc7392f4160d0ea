from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tickets.portal"
    label = "portal"
    verbose_name = "Customer web form and portal"

    def ready(self) -> None:
        from channels_app.models import DeliveryPurpose
        from channels_app.notifications import notification_register
        from tickets.domain_events import CustomerErased, Phase, TicketChanged, subscribe
        from tickets.portal import notifications as mails
        from tickets.portal.privacy import export_portal_sign_ins, portal_customer_erased
        from tickets.privacy import export_section_register

        subscribe(TicketChanged, mails.satisfaction_request_on_solve, phase=Phase.IN_TRANSACTION)
        notification_register(DeliveryPurpose.ACKNOWLEDGEMENT, mails.acknowledgement_render)
        notification_register(DeliveryPurpose.SIGN_IN_LINK, mails.sign_in_link_render)
        notification_register(
            DeliveryPurpose.SATISFACTION_REQUEST, mails.satisfaction_request_render
        )
        subscribe(CustomerErased, portal_customer_erased, phase=Phase.IN_TRANSACTION)
        export_section_register("portal_sign_ins", export_portal_sign_ins)
