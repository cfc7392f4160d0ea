from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "tickets.integrations"
    label = "integrations"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tickets.domain_events import CustomerErased, Phase, subscribe
        from tickets.integrations.idempotency import idempotency_answers_erase
        from tickets.integrations.models import Webhook
        from tickets.integrations.webhooks.outbox import active_webhooks, deliveries_for_event
        from tickets.integrations.webhooks.payloads import BUILDERS
        from tickets.integrations.webhooks.privacy import webhook_deliveries_erase

        active_webhooks.watch([Webhook])
        # In the transaction: the deliveries commit with the change, or neither does.
        for event_type in BUILDERS:
            subscribe(event_type, deliveries_for_event, phase=Phase.IN_TRANSACTION)
        subscribe(CustomerErased, webhook_deliveries_erase, phase=Phase.IN_TRANSACTION)
        subscribe(CustomerErased, idempotency_answers_erase, phase=Phase.IN_TRANSACTION)
