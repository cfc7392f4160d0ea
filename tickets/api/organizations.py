"""Organizations: list, read (every agent), create and change (the owner needs the admin's
organization permissions: an organization carries SLA policies and auto-joins customers
by email domain, so it is the admins' to shape)."""

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.lib.cursors import pk_cursor, pk_from_cursor
from tickets.api.filters import page_parse
from tickets.api.permissions import ApiView, require_perm
from tickets.customer_services import organization_create, organization_update
from tickets.models import Organization

_EXAMPLE = {
    "id": 3,
    "name": "Acme",
    "domain": "acme.example",
    "notes": "Enterprise plan",
    "customers": 42,
    "created_at": "2026-03-01T10:00:00Z",
}


class OrganizationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField(help_text="new customers with an email at it join")
    notes = serializers.CharField()
    customers = serializers.IntegerField(source="customer_count", help_text="live customers")
    created_at = serializers.DateTimeField()


class OrganizationInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    domain = serializers.CharField(max_length=253, allow_blank=True, required=False)
    notes = serializers.CharField(max_length=10_000, allow_blank=True, required=False)


class OrganizationUpdateInput(OrganizationInput):
    name = serializers.CharField(max_length=200, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


def _counted() -> QuerySet[Organization]:
    live = Q(customers__merged_into__isnull=True, customers__erased_at__isnull=True)
    return Organization.objects.annotate(customer_count=Count("customers", filter=live))


def _get(organization_id: int) -> Organization:
    found = _counted().filter(pk=organization_id).first()
    if found is None:
        raise Http404(f"There is no organization {organization_id}.")
    return found


class OrganizationListApi(ApiView):
    required_scopes = {"GET": "customers:read", "POST": "customers:write"}

    @extend_schema(
        summary="List organizations",
        operation_id="v1_organizations_list",
        description="Newest first, with their number of customers; `q` finds by name.",
        parameters=[
            OpenApiParameter("q", str, description="part of the name, any case"),
            OpenApiParameter("cursor", str, description="`next_cursor`"),
            OpenApiParameter("limit", int, description="1-100, default 50"),
        ],
        responses=inline_serializer(
            "OrganizationPage",
            {
                "results": OrganizationOutput(many=True),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
        examples=[
            OpenApiExample(
                "A page", value={"results": [_EXAMPLE], "next_cursor": None}, response_only=True
            )
        ],
    )
    def get(self, request: Request) -> Response:
        unknown = sorted(set(request.query_params) - {"q", "cursor", "limit"})
        if unknown:
            raise serializers.ValidationError(
                {name: ["No such filter. Filters here: cursor, limit, q."] for name in unknown}
            )
        page = page_parse(request.query_params)
        qs = _counted()
        if q := request.query_params.get("q", "").strip():
            qs = qs.filter(name__icontains=q[:200])
        if cursor := page.get("cursor"):
            try:
                qs = qs.filter(pk__lt=pk_from_cursor("organization", cursor))
            except ValueError as exc:
                raise serializers.ValidationError(
                    {"cursor": ["That page link is no longer valid. Start from the first page."]}
                ) from exc
        items = list(qs.order_by("-pk")[: page["limit"] + 1])
        more = len(items) > page["limit"]
        items = items[: page["limit"]]
        return Response(
            {
                "results": OrganizationOutput(items, many=True).data,
                "next_cursor": pk_cursor("organization", items[-1].pk) if more else None,
            }
        )

    @extend_schema(
        summary="Create an organization",
        request=OrganizationInput,
        responses={201: OrganizationOutput},
        examples=[
            OpenApiExample(
                "Acme",
                value={"name": "Acme", "domain": "acme.example", "notes": "Enterprise plan"},
                request_only=True,
            ),
            OpenApiExample("The organization", value=_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        require_perm(request, "tickets.add_organization", "adding organizations")
        params = OrganizationInput(data=request.data)
        params.is_valid(raise_exception=True)
        made = organization_create(actor=request.user, **params.validated_data)
        return Response(OrganizationOutput(_get(made.pk)).data, status=status.HTTP_201_CREATED)


class OrganizationDetailApi(ApiView):
    required_scopes = {"GET": "customers:read", "PATCH": "customers:write"}

    @extend_schema(
        summary="Read an organization",
        responses=OrganizationOutput,
        examples=[OpenApiExample("The organization", value=_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, organization_id: int) -> Response:
        return Response(OrganizationOutput(_get(organization_id)).data)

    @extend_schema(
        summary="Change an organization",
        description="Any of `name`, `domain`, `notes`.",
        request=OrganizationUpdateInput,
        responses=OrganizationOutput,
        examples=[OpenApiExample("A new domain", value={"domain": "acme.com"}, request_only=True)],
    )
    def patch(self, request: Request, organization_id: int) -> Response:
        organization = _get(organization_id)
        require_perm(request, "tickets.change_organization", "editing organizations")
        params = OrganizationUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        organization_update(
            organization=organization, actor=request.user, changes=params.validated_data
        )
        return Response(OrganizationOutput(_get(organization_id)).data)
