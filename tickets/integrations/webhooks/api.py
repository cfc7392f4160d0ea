"""`/api/v1/webhooks/`: subscriptions and their delivery logs, for admins in person and
for API tokens with the `webhooks:manage` scope."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.audit.services import audit_record
from helpdesk.roles import IsAgent, is_admin
from tickets.integrations.auth import TokenScopes
from tickets.integrations.models import (
    ApiScope,
    ApiToken,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
)
from tickets.integrations.webhooks.services import (
    webhook_create,
    webhook_deliveries_replay,
    webhook_secret_rotate,
    webhook_send_test,
    webhook_update,
)

MANAGE = dict.fromkeys(("GET", "POST", "PATCH", "DELETE"), ApiScope.WEBHOOKS_MANAGE.value)


class AdminOrToken(BasePermission):
    """Webhooks send the desk's data elsewhere: an agent in person must be an admin; a
    token needs the scope an admin gave it (TokenScopes checks that)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if isinstance(request.auth, ApiToken) or is_admin(request.user):
            return True
        raise exceptions.PermissionDenied(
            "Only admins manage webhooks, or an API token with the webhooks:manage scope.",
            code="admin_only",
        )


class WebhookOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField(source="is_active")
    disabled_reason = serializers.CharField()
    failure_count = serializers.IntegerField()
    last_success_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookWithSecretOutput(WebhookOutput):
    secret = serializers.CharField(help_text="The signing secret: shown only in this answer.")


class DeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    last_response = serializers.CharField()
    last_duration_ms = serializers.IntegerField(allow_null=True)
    payload = serializers.JSONField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class _Base(APIView):
    permission_classes = [IsAgent, TokenScopes, AdminOrToken]
    required_scopes = MANAGE

    def webhook(self, webhook_id: int) -> Webhook:
        webhook = Webhook.objects.filter(pk=webhook_id).first()
        if webhook is None:
            raise Http404("No such webhook.")
        return webhook


def _audit(request: Request, action: str, webhook: Webhook, **data: Any) -> None:
    """Where the desk sends its data is configuration worth a trail, as admin edits are."""
    token = request.auth if isinstance(request.auth, ApiToken) else None
    audit_record(
        action=action,
        actor=request.user,
        target=webhook,
        request=request._request,
        summary=f"webhook: {webhook.name} ({webhook.url})"[:500],
        data={**data, **({"via": "api", "api_token": token.pk} if token else {})},
    )


def _with_secret(webhook: Webhook, secret: str) -> dict[str, Any]:
    return {**WebhookOutput(webhook).data, "secret": secret}


class WebhookPageInput(serializers.Serializer):
    cursor = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)


def _page(rows: Any, params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """Newest first by id (keyset: stable while rows are added)."""
    if "cursor" in params:
        rows = rows.filter(pk__lt=params["cursor"])
    items = list(rows.order_by("-id")[: params["limit"] + 1])
    more = len(items) > params["limit"]
    items = items[: params["limit"]]
    return items, str(items[-1].pk) if more else None


class WebhookCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, default="")
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False
    )


class WebhookListApi(_Base):
    @extend_schema(parameters=[WebhookPageInput], responses=WebhookOutput(many=True))
    def get(self, request: Request) -> Response:
        params = WebhookPageInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        items, next_cursor = _page(Webhook.objects.all(), params.validated_data)
        return Response(
            {"results": WebhookOutput(items, many=True).data, "next_cursor": next_cursor}
        )

    @extend_schema(
        request=WebhookCreateInput,
        responses={201: WebhookWithSecretOutput},
        examples=[
            OpenApiExample(
                "Tickets into a CRM",
                value={
                    "name": "CRM",
                    "url": "https://crm.example.com/hooks/helpdesk",
                    "events": ["ticket.created", "ticket.updated", "message.created"],
                },
                request_only=True,
            )
        ],
        description="Subscribe a URL; the answer carries the signing secret, once.",
    )
    def post(self, request: Request) -> Response:
        params = WebhookCreateInput(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        new = webhook_create(
            name=data["name"] or "Webhook",
            url=data["url"],
            events=data["events"],
            created_by=request.user,
        )
        _audit(request, "webhook.add", new.webhook, events=new.webhook.events)
        return Response(_with_secret(new.webhook, new.secret), status=status.HTTP_201_CREATED)


class WebhookUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        allow_empty=False,
        required=False,
    )
    active = serializers.BooleanField(
        required=False, help_text="true enables a disabled webhook; what waited goes out."
    )


class WebhookDetailApi(_Base):
    @extend_schema(responses=WebhookOutput)
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(WebhookOutput(self.webhook(webhook_id)).data)

    @extend_schema(request=WebhookUpdateInput, responses=WebhookOutput)
    def patch(self, request: Request, webhook_id: int) -> Response:
        params = WebhookUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        webhook = webhook_update(
            webhook=self.webhook(webhook_id),
            name=data.get("name"),
            url=data.get("url"),
            events=data.get("events"),
            is_active=data.get("active"),
        )
        _audit(request, "webhook.change", webhook, fields=sorted(data))
        return Response(WebhookOutput(webhook).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, webhook_id: int) -> Response:
        webhook = self.webhook(webhook_id)
        _audit(request, "webhook.delete", webhook)
        webhook.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretApi(_Base):
    @extend_schema(request=None, responses=WebhookWithSecretOutput)
    def post(self, request: Request, webhook_id: int) -> Response:
        new = webhook_secret_rotate(webhook=self.webhook(webhook_id))
        _audit(request, "webhook.secret_rotate", new.webhook)
        return Response(_with_secret(new.webhook, new.secret))


class WebhookTestApi(_Base):
    @extend_schema(
        request=None,
        responses={202: DeliveryOutput},
        description="Send a `webhook.test` event to this webhook; follow it in its deliveries.",
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        delivery = webhook_send_test(webhook=self.webhook(webhook_id), actor=request.user)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryFilterInput(WebhookPageInput):
    status = serializers.ChoiceField(choices=WebhookDeliveryStatus.choices, required=False)


class WebhookDeliveryListApi(_Base):
    @extend_schema(
        parameters=[WebhookDeliveryFilterInput],
        responses=DeliveryOutput(many=True),
        description="The webhook's deliveries, newest first; follow `next_cursor`.",
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        params = WebhookDeliveryFilterInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = WebhookDelivery.objects.filter(webhook=self.webhook(webhook_id))
        if "status" in params.validated_data:
            rows = rows.filter(status=params.validated_data["status"])
        items, next_cursor = _page(rows, params.validated_data)
        return Response(
            {"results": DeliveryOutput(items, many=True).data, "next_cursor": next_cursor}
        )


class WebhookDeliveryReplayApi(_Base):
    @extend_schema(
        request=None,
        responses={202: DeliveryOutput},
        description="Send a failed delivery again (same `webhook-id`, a new retry window).",
    )
    def post(self, request: Request, webhook_id: int, delivery_id: int) -> Response:
        delivery = WebhookDelivery.objects.filter(
            pk=delivery_id, webhook=self.webhook(webhook_id)
        ).first()
        if delivery is None:
            raise Http404("No such delivery.")
        if not webhook_deliveries_replay(deliveries=[delivery]):
            raise exceptions.ValidationError(
                {"status": [f"Only a failed delivery is replayed; this one is {delivery.status}."]}
            )
        delivery.refresh_from_db()
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
