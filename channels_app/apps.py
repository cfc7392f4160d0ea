from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Channels"

    def ready(self) -> None:
        from anymail.signals import inbound, tracking

        from channels_app.agent_notifications import (
            agent_notification_render,
            agent_notify_assigned,
        )
        from channels_app.delivery import deliveries_for_reply
        from channels_app.email.hooks import anymail_inbound_received, anymail_tracking_received
        from channels_app.email.mailboxes import mailboxes_cache
        from channels_app.installed import CHANNELS
        from channels_app.models import DeliveryPurpose, Mailbox
        from channels_app.notifications import notification_register
        from channels_app.privacy import (
            channels_customer_erased,
            export_deliveries,
            export_raw_payloads,
        )
        from channels_app.registry import registry_install
        from channels_app.sla_notices import sla_breach_render, sla_notice_enqueue
        from tickets.domain_events import (
            CustomerErased,
            MessageAdded,
            Phase,
            SlaNoticeDue,
            TicketChanged,
            subscribe,
        )
        from tickets.privacy import export_section_register

        registry_install(CHANNELS)
        inbound.connect(anymail_inbound_received, dispatch_uid="helpdesk-email-inbound")
        tracking.connect(anymail_tracking_received, dispatch_uid="helpdesk-email-tracking")
        mailboxes_cache.watch([Mailbox])
        subscribe(MessageAdded, deliveries_for_reply, phase=Phase.IN_TRANSACTION)
        subscribe(TicketChanged, agent_notify_assigned, phase=Phase.IN_TRANSACTION)
        notification_register(DeliveryPurpose.AGENT_NOTIFICATION, agent_notification_render)
        subscribe(SlaNoticeDue, sla_notice_enqueue, phase=Phase.IN_TRANSACTION)
        notification_register(DeliveryPurpose.SLA_BREACH, sla_breach_render)
        subscribe(CustomerErased, channels_customer_erased, phase=Phase.IN_TRANSACTION)
        export_section_register("raw_payloads", export_raw_payloads)
        export_section_register("deliveries", export_deliveries)
