"""`/api/v1/webhooks/`: subscriptions and their delivery logs, for admins in person and
for API tokens with the `webhooks:manage` scope."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.audit.services import audit_record
from helpdesk.roles import IsAgent, is_admin
from tickets.api.permissions import ApiView
from tickets.api.serializers import ErrorOutput
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
from tickets.models import Channel

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
    channels = serializers.ListField(child=serializers.CharField())
    teams = serializers.ListField(child=serializers.IntegerField(), source="team_ids")
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


class _Base(ApiView):
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


_WEBHOOK = {
    "id": 3,
    "name": "CRM",
    "url": "https://crm.example.com/hooks/desk",
    "events": ["message.created", "ticket.created"],
    "channels": [],
    "teams": [2],
    "active": True,
    "disabled_reason": "",
    "failure_count": 0,
    "last_success_at": "2026-12-02T15:20:01Z",
    "created_at": "2026-11-30T09:00:00Z",
    "updated_at": "2026-11-30T09:00:00Z",
}
_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 (the specification's example)
_DELIVERY = {
    "id": 812,
    "event_id": "evt_4f0c2d0e9b3c4e0e8f0a1b2c3d4e5f60",
    "event_type": "ticket.created",
    "status": "pending",
    "attempts": 2,
    "next_attempt_at": "2026-12-02T15:22:10Z",
    "last_status_code": 503,
    "last_error": "The receiver answered 503.",
    "last_response": "upstream unavailable",
    "last_duration_ms": 41,
    "payload": {"id": "evt_4f0c2d0e9b3c4e0e8f0a1b2c3d4e5f60", "type": "ticket.created",
                "timestamp": "2026-12-02T15:20:00Z", "data": {"ticket": {"id": 17}}},
    "created_at": "2026-12-02T15:20:00Z",
    "updated_at": "2026-12-02T15:21:05Z",
    "delivered_at": None,
}  # fmt: skip


def _example(name: str, value: Any, status_code: str = "200") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status_code])


def _page_of(name: str, item: Any) -> Any:
    return inline_serializer(
        name, {"results": item, "next_cursor": serializers.CharField(allow_null=True)}
    )


def _with_secret(webhook: Webhook, secret: str) -> dict[str, Any]:
    return {**WebhookOutput(webhook).data, "secret": secret}


class WebhookPageInput(serializers.Serializer):
    cursor = serializers.IntegerField(
        required=False, min_value=1, help_text="`next_cursor` of the last page."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)


def _params(serializer: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The query's cleaned values, or a 400 naming a bad or unknown parameter."""
    known = set(serializer().fields)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise serializers.ValidationError(
            {n: [f"No such parameter. Parameters here: {', '.join(sorted(known))}."]
             for n in unknown}
        )  # fmt: skip
    params = serializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return dict(params.validated_data)


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
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices),
        required=False,
        help_text="Only tickets on these channels (empty: all).",
    )
    teams = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Only tickets of these teams, by id (empty: all).",
    )


class WebhookListApi(_Base):
    """Webhooks: where the desk tells other systems what happened."""

    @extend_schema(
        summary="List webhooks",
        operation_id="v1_webhooks_list",
        parameters=[WebhookPageInput],
        responses=_page_of("WebhookPage", WebhookOutput(many=True)),
        examples=[_example("A page", {"results": [_WEBHOOK], "next_cursor": None})],
        description="Webhooks, newest first; pass `next_cursor` as `cursor` for the next page.",
    )
    def get(self, request: Request) -> Response:
        items, next_cursor = _page(Webhook.objects.all(), _params(WebhookPageInput, request))
        return Response(
            {"results": WebhookOutput(items, many=True).data, "next_cursor": next_cursor}
        )

    @extend_schema(
        summary="Subscribe a URL to events",
        request=WebhookCreateInput,
        responses={201: WebhookWithSecretOutput},
        examples=[
            _example("The webhook, with its secret", {**_WEBHOOK, "secret": _SECRET}, "201"),
            OpenApiExample(
                "Tickets into a CRM",
                value={
                    "name": "CRM",
                    "url": "https://crm.example.com/hooks/helpdesk",
                    "events": ["ticket.created", "ticket.updated", "message.created"],
                },
                request_only=True,
            ),
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
            channels=data.get("channels", ()),
            team_ids=data.get("teams", ()),
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
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices),
        required=False,
        help_text="Only tickets on these channels (empty: all).",
    )
    teams = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Only tickets of these teams, by id (empty: all).",
    )
    active = serializers.BooleanField(
        required=False, help_text="true enables a disabled webhook; what waited goes out."
    )


class WebhookDetailApi(_Base):
    """One webhook."""

    @extend_schema(
        summary="Read a webhook",
        responses=WebhookOutput,
        examples=[_example("A webhook", _WEBHOOK)],
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(WebhookOutput(self.webhook(webhook_id)).data)

    @extend_schema(
        summary="Change or enable a webhook",
        request=WebhookUpdateInput,
        responses=WebhookOutput,
        examples=[
            OpenApiExample("Enable it again", value={"active": True}, request_only=True),
            _example("The webhook", _WEBHOOK),
        ],
    )
    def patch(self, request: Request, webhook_id: int) -> Response:
        params = WebhookUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        webhook = webhook_update(
            webhook=self.webhook(webhook_id),
            name=data.get("name"),
            url=data.get("url"),
            events=data.get("events"),
            channels=data.get("channels"),
            team_ids=data.get("teams"),
            is_active=data.get("active"),
        )
        _audit(request, "webhook.change", webhook, fields=sorted(data))
        return Response(WebhookOutput(webhook).data)

    @extend_schema(
        summary="Delete a webhook and its deliveries",
        responses={
            204: OpenApiResponse(description="Deleted."),
            404: OpenApiResponse(
                ErrorOutput,
                description="No such webhook.",
                examples=[
                    _example(
                        "No such webhook",
                        {"error": {"code": "not_found", "message": "No such webhook."}},
                        "404",
                    )
                ],
            ),
        },
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        webhook = self.webhook(webhook_id)
        _audit(request, "webhook.delete", webhook)
        webhook.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretApi(_Base):
    """A new signing secret for a webhook."""

    @extend_schema(
        summary="Rotate the signing secret",
        description="A new secret, in this answer only; the old one also signs for 24 hours.",
        request=None,
        responses=WebhookWithSecretOutput,
        examples=[_example("The new secret", {**_WEBHOOK, "secret": _SECRET})],
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        new = webhook_secret_rotate(webhook=self.webhook(webhook_id))
        _audit(request, "webhook.secret_rotate", new.webhook)
        return Response(_with_secret(new.webhook, new.secret))


class WebhookTestApi(_Base):
    """A test event for a webhook."""

    @extend_schema(
        summary="Send a test event",
        request=None,
        responses={202: DeliveryOutput},
        description="Send a `webhook.test` event to this webhook; follow it in its deliveries.",
        examples=[_example("The delivery", {**_DELIVERY, "event_type": "webhook.test"}, "202")],
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        delivery = webhook_send_test(webhook=self.webhook(webhook_id), actor=request.user)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryFilterInput(WebhookPageInput):
    status = serializers.ChoiceField(choices=WebhookDeliveryStatus.choices, required=False)


class WebhookDeliveryListApi(_Base):
    """A webhook's delivery log."""

    @extend_schema(
        summary="A webhook's deliveries",
        operation_id="v1_webhooks_deliveries_list",
        parameters=[WebhookDeliveryFilterInput],
        responses=_page_of("WebhookDeliveryPage", DeliveryOutput(many=True)),
        description="The webhook's deliveries, newest first; pass `next_cursor` as `cursor`.",
        examples=[_example("A page", {"results": [_DELIVERY], "next_cursor": "811"})],
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        params = _params(WebhookDeliveryFilterInput, request)
        rows = WebhookDelivery.objects.filter(webhook=self.webhook(webhook_id))
        if "status" in params:
            rows = rows.filter(status=params["status"])
        items, next_cursor = _page(rows, params)
        return Response(
            {"results": DeliveryOutput(items, many=True).data, "next_cursor": next_cursor}
        )


class WebhookDeliveryReplayApi(_Base):
    """Send a failed delivery again."""

    @extend_schema(
        summary="Replay a failed delivery",
        request=None,
        responses={202: DeliveryOutput},
        description="Send a failed delivery again (same `webhook-id`, a new retry window).",
        examples=[_example("The delivery, pending again", {**_DELIVERY, "attempts": 0}, "202")],
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
