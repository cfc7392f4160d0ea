"""A customer's erasure reaches the webhook outbox: payloads name them, quote their
messages and carry their tickets' subjects, in waiting deliveries and in the log."""

from django.db.models import Q
from django.utils import timezone

from tickets.domain_events import CustomerErased
from tickets.integrations.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEvent

ERASED_NOTE = "Not sent: the customer's personal data was erased."


def webhook_deliveries_erase(event: CustomerErased) -> None:
    """CustomerErased subscriber (in the transaction): every delivery about the person
    keeps its id, type and time and loses its data (and the receiver's answer, which may
    echo it); one still waiting is not sent. A delivery in flight at this moment may
    still reach its receiver: the erasure cannot recall what has left."""
    tickets, messages, customers = event.ticket_ids, event.message_ids, event.customer_ids
    about = (
        Q(payload__data__ticket__id__in=tickets)
        | Q(payload__data__message__id__in=messages)
        | Q(event_type=WebhookEvent.TICKET_MERGED, payload__data__source__id__in=tickets)
        | Q(event_type=WebhookEvent.TICKET_MERGED, payload__data__target__id__in=tickets)
        | Q(event_type=WebhookEvent.CUSTOMER_MERGED, payload__data__source__id__in=customers)
        | Q(event_type=WebhookEvent.CUSTOMER_MERGED, payload__data__target__id__in=customers)
    )
    now = timezone.now()
    rows = list(WebhookDelivery.objects.filter(about).select_for_update().only("pk", "payload"))
    waiting = [WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.SENDING]
    for row in rows:
        row.payload = {key: row.payload.get(key) for key in ("id", "type", "timestamp")}
        row.payload["data"] = {"erased": True}
    WebhookDelivery.objects.bulk_update(rows, ["payload"], batch_size=500)
    ids = [row.pk for row in rows]
    WebhookDelivery.objects.filter(pk__in=ids, status__in=waiting).update(
        status=WebhookDeliveryStatus.FAILED, last_error=ERASED_NOTE, updated_at=now
    )
    WebhookDelivery.objects.filter(pk__in=ids).update(last_response="")
