"""Customers: list (filtered, keyset-paginated), read, create, update. An agent sees the
customers of the tickets they may see, and customers with no ticket yet
(tickets.visibility.customers_visible_to); any other is a 404."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.api.filters import (
    CustomerFilterSet,
    filters_parse,
    identity_filter_value,
    page_parse,
    schema_parameters,
)
from tickets.api.lookups import customer_get_for_agent
from tickets.api.permissions import ApiView, require_perm
from tickets.api.serializers import (
    CustomerDetailOutput,
    CustomerOutput,
    organization_by,
)
from tickets.customer_services import customer_create, customer_details_change
from tickets.models import IdentityKind, Organization
from tickets.selectors import CustomerFilters, InvalidCursor, customer_list

CUSTOMER_EXAMPLE = {
    "id": 17,
    "name": "Dana Smith",
    "organization": "Acme",
    "emails": ["dana@example.com"],
    "phones": ["+14155550100"],
    "merged_into": None,
    "created_at": "2026-03-01T10:00:00Z",
    "updated_at": "2026-03-02T09:20:00Z",
}


def _organization(value: str | None) -> Organization | None:
    return None if value is None else organization_by(value)


class CustomerInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    emails = serializers.ListField(
        child=serializers.EmailField(), max_length=20, required=False, help_text="the whole set"
    )
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=20,
        required=False,
        help_text="the whole set; any format, stored in E.164",
    )
    organization = serializers.CharField(
        allow_null=True, required=False, help_text="name or id; null clears"
    )

    def validate_organization(self, value: str | None) -> Organization | None:
        return _organization(value)


class CustomerCreateInput(CustomerInput):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("emails") and not attrs.get("phones"):
            raise serializers.ValidationError("Give at least one of `emails` or `phones`.")
        return attrs


class CustomerUpdateInput(CustomerInput):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


def _customer_filters(values: dict[str, Any]) -> CustomerFilters:
    email = values.get("email")
    phone = values.get("phone")
    organization = values.get("organization")
    return CustomerFilters(
        email=identity_filter_value(IdentityKind.EMAIL, email, field="email") if email else None,
        phone=identity_filter_value(IdentityKind.PHONE, phone, field="phone") if phone else None,
        organization_id=_organization_id(organization) if organization else None,
    )


def _organization_id(value: str) -> int:
    try:
        return organization_by(value).pk
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"organization": exc.detail}) from exc


class CustomerListApi(ApiView):
    required_scopes = {"GET": "customers:read", "POST": "customers:write"}

    @extend_schema(
        summary="List customers",
        operation_id="v1_customers_list",
        description="Customers you may see, newest first; pass `next_cursor` as `cursor` "
        "for the next page. Merged records are left out.",
        parameters=schema_parameters(CustomerFilterSet),
        responses=inline_serializer(
            "CustomerPage",
            {
                "results": CustomerOutput(many=True),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [CUSTOMER_EXAMPLE], "next_cursor": None},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        filters = _customer_filters(filters_parse(CustomerFilterSet, request.query_params))
        page_params = page_parse(request.query_params)
        try:
            page = customer_list(
                user=request.user,
                filters=filters,
                cursor=page_params.get("cursor"),
                limit=page_params["limit"],
            )
        except InvalidCursor as exc:
            raise serializers.ValidationError({"cursor": [str(exc)]}) from exc
        return Response(
            {
                "results": CustomerOutput(page.items, many=True).data,
                "next_cursor": page.next_cursor,
            }
        )

    @extend_schema(
        summary="Create a customer",
        request=CustomerCreateInput,
        responses={201: CustomerDetailOutput},
        examples=[
            OpenApiExample(
                "A customer with an email and a phone",
                value={
                    "name": "Dana Smith",
                    "emails": ["dana@example.com"],
                    "phones": ["+1 415 555 0100"],
                    "organization": "Acme",
                },
                request_only=True,
            ),
            OpenApiExample(
                "The customer",
                value={**CUSTOMER_EXAMPLE, "open_tickets": []},
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        require_perm(request, "tickets.add_customer", "adding customers")
        params = CustomerCreateInput(data=request.data)
        params.is_valid(raise_exception=True)
        d = params.validated_data
        customer = customer_create(
            actor=request.user,
            name=d.get("name", ""),
            emails=d.get("emails", ()),
            phones=d.get("phones", ()),
            organization=d.get("organization"),
        )
        detail = customer_get_for_agent(user=request.user, customer_id=customer.pk)
        return Response(detail_body(detail), status=status.HTTP_201_CREATED)


def detail_body(detail: Any) -> dict[str, Any]:
    return {**CustomerOutput(detail.customer).data, "open_tickets": list(detail.open_tickets)}


class CustomerDetailApi(ApiView):
    required_scopes = {"GET": "customers:read", "PATCH": "customers:write"}

    @extend_schema(
        summary="Read a customer",
        responses=CustomerDetailOutput,
        examples=[
            OpenApiExample(
                "The customer",
                value={**CUSTOMER_EXAMPLE, "open_tickets": [1042]},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, customer_id: int) -> Response:
        return Response(
            detail_body(customer_get_for_agent(user=request.user, customer_id=customer_id))
        )

    @extend_schema(
        summary="Change a customer",
        description="Any of `name`, `organization`, and `emails` / `phones`, each the whole "
        "set: an address left out is removed (refused with `identity_in_use` while it wrote "
        "messages), a new one added (refused with `identity_taken` when it is another "
        "customer's). All or nothing.",
        request=CustomerUpdateInput,
        responses=CustomerDetailOutput,
        examples=[
            OpenApiExample(
                "A second address and a new organization",
                value={"emails": ["dana@example.com", "dana@acme.example"], "organization": "Acme"},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request, customer_id: int) -> Response:
        detail = customer_get_for_agent(user=request.user, customer_id=customer_id)
        require_perm(request, "tickets.change_customer", "editing customers")
        params = CustomerUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        customer_details_change(
            customer=detail.customer, actor=request.user, changes=params.validated_data
        )
        return Response(
            detail_body(customer_get_for_agent(user=request.user, customer_id=customer_id))
        )
