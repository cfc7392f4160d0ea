"""Query-string filters of the list endpoints (django-filter), validated before any read.

The FilterSets parse and validate; the selectors apply what they return (their keyset
pagination and query plans stay theirs). A bad value, or a parameter no filter knows,
is a 400 in the API's error shape naming the parameter.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

from helpdesk.lib.cursors import pk_cursor, pk_from_cursor
from helpdesk.lib.dates import date_in_range
from tickets.errors import TicketError
from tickets.identity import normalize_identity
from tickets.models import Channel, Customer, Priority, Status, Ticket


class BoundedIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 within 1900-2999 (helpdesk.lib.dates): a far date is a field error."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is not None:
            try:
                date_in_range(result)
            except ValueError as exc:
                raise forms.ValidationError(str(exc), code="out_of_range") from exc
        return result


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class PageInput(serializers.Serializer):
    cursor = serializers.CharField(required=False, help_text="`next_cursor` of the last page.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)


PAGE_PARAMS = frozenset(PageInput().fields)


class TicketFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, help_text="repeatable")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, help_text="repeatable")
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices, help_text="repeatable")
    team = django_filters.NumberFilter(help_text="team id")
    assignee = django_filters.NumberFilter(help_text="user id")
    unassigned = django_filters.BooleanFilter(help_text="only tickets nobody is assigned")
    tag = django_filters.CharFilter(max_length=50)
    customer = django_filters.NumberFilter(help_text="customer id")
    created_after = BoundedIsoDateTimeFilter(help_text="ISO 8601, inclusive")
    created_before = BoundedIsoDateTimeFilter(help_text="ISO 8601, exclusive")
    updated_after = BoundedIsoDateTimeFilter(help_text="ISO 8601, inclusive")
    updated_before = BoundedIsoDateTimeFilter(help_text="ISO 8601, exclusive")
    q = django_filters.CharFilter(max_length=200, help_text="full text: subject and messages")

    class Meta:
        model = Ticket
        fields: list[str] = []


class CustomerFilterSet(django_filters.FilterSet):
    email = django_filters.CharFilter(max_length=320, help_text="exact address, any case")
    phone = django_filters.CharFilter(max_length=40, help_text="any format; compared in E.164")
    organization = django_filters.CharFilter(max_length=200, help_text="name or id")

    class Meta:
        model = Customer
        fields: list[str] = []


def filters_parse(filterset: type[django_filters.FilterSet], query: QueryDict) -> dict[str, Any]:
    """The filters' cleaned values (empty ones left out), or a 400 naming the parameter."""
    unknown = sorted(set(query) - set(filterset.base_filters) - PAGE_PARAMS)
    if unknown:
        known = ", ".join(sorted({*filterset.base_filters, *PAGE_PARAMS}))
        raise serializers.ValidationError(
            {name: [f"No such filter. Filters here: {known}."] for name in unknown}
        )
    parsed = filterset(data=query, queryset=filterset._meta.model.objects.none())
    if not parsed.is_valid():
        raise serializers.ValidationError(
            {name: [str(m) for m in messages] for name, messages in parsed.errors.items()}
        )
    return {k: v for k, v in parsed.form.cleaned_data.items() if v not in (None, "", [])}


def page_parse(query: QueryDict) -> dict[str, Any]:
    page = PageInput(data={k: query[k] for k in PAGE_PARAMS if k in query})
    page.is_valid(raise_exception=True)
    return dict(page.validated_data)


def identity_filter_value(kind: str, value: str, *, field: str) -> str:
    """An email or phone as stored (lowercased, E.164), or a 400 naming the parameter."""
    try:
        return normalize_identity(kind, value)
    except TicketError as exc:
        raise serializers.ValidationError({field: [exc.message]}) from exc


def schema_parameters(filterset: type[django_filters.FilterSet]) -> list[OpenApiParameter]:
    """The FilterSet and the page parameters as OpenAPI query parameters, so the schema
    lists exactly what filters_parse accepts."""
    types = {
        django_filters.NumberFilter: OpenApiTypes.INT,
        django_filters.BooleanFilter: OpenApiTypes.BOOL,
        BoundedIsoDateTimeFilter: OpenApiTypes.DATETIME,
    }
    params = []
    for name, spec in filterset.base_filters.items():
        enum: Iterable[str] | None = None
        if isinstance(spec, django_filters.MultipleChoiceFilter):
            enum = [value for value, _ in spec.extra["choices"]]
        params.append(
            OpenApiParameter(
                name,
                types.get(type(spec), OpenApiTypes.STR),
                OpenApiParameter.QUERY,
                description=str(spec.extra.get("help_text", "")),
                enum=list(enum) if enum else None,
                many=enum is not None,
            )
        )
    params.append(OpenApiParameter("cursor", OpenApiTypes.STR, description="`next_cursor`"))
    params.append(OpenApiParameter("limit", OpenApiTypes.INT, description="1-100, default 50"))
    return params


def pk_page(request: Request, qs: QuerySet[Any], kind: str, allowed: set[str]) -> dict[str, Any]:
    """A page of `qs` by primary key, oldest first, for the short lists (agents, teams,
    macros): `{"items", "next_cursor"}`; a parameter other than `allowed` and the page's
    is a 400 naming it."""
    unknown = sorted(set(request.query_params) - allowed - {"cursor", "limit"})
    if unknown:
        known = ", ".join(sorted({*allowed, "cursor", "limit"}))
        raise serializers.ValidationError(
            {name: [f"No such filter. Filters here: {known}."] for name in unknown}
        )
    page = page_parse(request.query_params)
    if cursor := page.get("cursor"):
        try:
            qs = qs.filter(pk__gt=pk_from_cursor(kind, cursor))
        except ValueError as exc:
            raise serializers.ValidationError(
                {"cursor": ["That page link is no longer valid. Start from the first page."]}
            ) from exc
    items = list(qs.order_by("pk")[: page["limit"] + 1])
    more = len(items) > page["limit"]
    items = items[: page["limit"]]
    return {"items": items, "next_cursor": pk_cursor(kind, items[-1].pk) if more else None}
