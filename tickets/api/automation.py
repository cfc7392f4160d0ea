"""Automation rules (`automations:manage`): triggers at /api/v1/triggers/ and time rules
at /api/v1/automations/, in the conditions/actions shape of Zendesk's triggers API.
Validation errors name the bad part in `error.fields` ("conditions.all[0].operator")."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.api.permissions import ApiView, require_perm
from tickets.api.serializers import ErrorOutput
from tickets.automation.errors import RuleError
from tickets.automation.models import Rule, TimeRule, Trigger
from tickets.automation.services import rule_create, rule_delete, rule_update, rules_reorder

SCOPE = "automations:manage"
ALL_METHODS = dict.fromkeys(("GET", "POST", "PUT", "PATCH", "DELETE"), SCOPE)

_TRIGGER_EXAMPLE = {
    "id": 3,
    "title": "Refunds to Billing",
    "active": True,
    "position": 10,
    "events": ["ticket.created"],
    "conditions": {
        "all": [
            {"field": "subject", "operator": "contains", "value": "refund"},
            {"field": "channel", "operator": "is", "value": "email"},
        ],
        "any": [],
    },
    "actions": [
        {"field": "team", "value": "Billing"},
        {"field": "priority", "value": "high"},
        {"field": "add_tags", "value": ["refund"]},
    ],
    "fired_count": 12,
    "last_fired_at": "2026-03-01T10:00:00Z",
}
_TIME_RULE_EXAMPLE = {
    "id": 1,
    "title": "Close solved tickets after 4 days",
    "active": True,
    "position": 10,
    "conditions": {
        "all": [
            {"field": "status", "operator": "is", "value": "solved"},
            {"field": "hours_since_solved", "operator": "greater_than", "value": 96,
             "calendar": "calendar"},
        ],
        "any": [],
    },
    "actions": [{"field": "status", "value": "closed"}],
    "fired_count": 40,
    "last_fired_at": "2026-03-01T10:00:00Z",
}  # fmt: skip


class RuleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    active = serializers.BooleanField()
    position = serializers.IntegerField()
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    description = serializers.CharField()
    reply_as = serializers.IntegerField(source="reply_as_id", allow_null=True)
    fired_count = serializers.IntegerField()
    last_fired_at = serializers.DateTimeField(allow_null=True)


class TriggerOutput(RuleOutput):
    events = serializers.ListField(child=serializers.CharField())


class RuleInput(serializers.Serializer):
    title = serializers.CharField(max_length=150, required=False)
    active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(min_value=0, required=False)
    conditions = serializers.JSONField(required=False)
    actions = serializers.JSONField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    reply_as = serializers.IntegerField(required=False, allow_null=True)


class TriggerInput(RuleInput):
    events = serializers.ListField(child=serializers.CharField(), required=False)


class ReorderInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


def _invalid(exc: RuleError) -> serializers.ValidationError:
    return serializers.ValidationError({exc.field: [exc.detail]})


class _RuleApi(ApiView):
    required_scopes = ALL_METHODS
    model: type[Rule] = Trigger
    output: type[serializers.Serializer] = TriggerOutput
    input: type[serializers.Serializer] = TriggerInput

    def _perm(self, request: Request, action: str) -> None:
        label = self.model._meta.verbose_name_plural
        require_perm(request, f"automation.{action}_{self.model._meta.model_name}",
                     f"managing {label}")  # fmt: skip

    def _get(self, rule_id: int) -> Rule:
        rule = self.model._default_manager.filter(pk=rule_id).first()
        if rule is None:
            raise Http404
        return rule

    def _data(self, request: Request, *, partial: bool) -> dict[str, Any]:
        params = self.input(data=request.data, partial=partial)
        params.is_valid(raise_exception=True)
        return dict(params.validated_data)


class _RuleListApi(_RuleApi):
    def get(self, request: Request) -> Response:
        self._perm(request, "view")
        rules = self.model._default_manager.order_by("position", "id")
        return Response({"results": self.output(rules, many=True).data})

    def post(self, request: Request) -> Response:
        self._perm(request, "add")
        data = self._data(request, partial=False)
        if "title" not in data:
            raise serializers.ValidationError({"title": ["This field is required."]})
        try:
            rule = rule_create(model=self.model, data=data)
        except RuleError as exc:
            raise _invalid(exc) from exc
        return Response(self.output(rule).data, status=status.HTTP_201_CREATED)


class _RuleDetailApi(_RuleApi):
    def get(self, request: Request, rule_id: int) -> Response:
        self._perm(request, "view")
        return Response(self.output(self._get(rule_id)).data)

    def patch(self, request: Request, rule_id: int) -> Response:
        self._perm(request, "change")
        rule = self._get(rule_id)
        try:
            rule = rule_update(rule=rule, data=self._data(request, partial=True))
        except RuleError as exc:
            raise _invalid(exc) from exc
        return Response(self.output(rule).data)

    def put(self, request: Request, rule_id: int) -> Response:
        return self.patch(request, rule_id)

    def delete(self, request: Request, rule_id: int) -> Response:
        self._perm(request, "delete")
        rule_delete(rule=self._get(rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _RuleReorderApi(_RuleApi):
    required_scopes = {"POST": SCOPE}

    def post(self, request: Request) -> Response:
        self._perm(request, "change")
        params = ReorderInput(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            rules = rules_reorder(model=self.model, ids=params.validated_data["ids"])
        except RuleError as exc:
            raise _invalid(exc) from exc
        return Response({"results": self.output(rules, many=True).data})


def _list_schema(name: str, example: dict[str, Any], output: Any, input_: Any, slug: str) -> Any:
    return {
        "get": extend_schema(
            summary=f"List {name}",
            operation_id=f"v1_{slug}_list",
            responses=inline_serializer(f"{output.__name__}List", {"results": output(many=True)}),
            examples=[OpenApiExample(name, value={"results": [example]}, response_only=True)],
        ),
        "post": extend_schema(
            summary=f"Create one of the {name}",
            request=input_,
            responses={201: output},
            examples=[
                OpenApiExample(
                    "A rule",
                    value={k: example[k] for k in example if k not in ("id", "fired_count",
                           "last_fired_at")},
                    request_only=True,
                ),
                OpenApiExample("Created", value=example, response_only=True),
            ],
        ),
    }  # fmt: skip


def _detail_schema(name: str, example: dict[str, Any], output: Any, input_: Any) -> Any:
    read = extend_schema(
        summary=f"Read one of the {name}",
        responses=output,
        examples=[OpenApiExample("The rule", value=example, response_only=True)],
    )
    change = extend_schema(
        summary=f"Change one of the {name}",
        request=input_,
        responses=output,
        examples=[
            OpenApiExample("Deactivate", value={"active": False}, request_only=True),
            OpenApiExample("Changed", value={**example, "active": False}, response_only=True),
        ],
    )
    remove = extend_schema(
        summary=f"Delete one of the {name}",
        description="Answers 204 with no body once deleted.",
        responses={204: None, 404: ErrorOutput},
        examples=[
            OpenApiExample(
                "No such rule",
                value={"error": {"code": "not_found", "message": "Not found."}},
                response_only=True,
                status_codes=["404"],
            )
        ],
    )
    return read, change, remove


def _reorder_schema(name: str, example: dict[str, Any], output: Any) -> Any:
    return extend_schema(
        summary=f"Reorder the {name}",
        description="Positions 10, 20, 30 … in the order of `ids`.",
        request=ReorderInput,
        responses=inline_serializer(f"{output.__name__}Reordered", {"results": output(many=True)}),
        examples=[
            OpenApiExample("New order", value={"ids": [3, 1, 2]}, request_only=True),
            OpenApiExample("Reordered", value={"results": [example]}, response_only=True),
        ],
    )


def _views(
    model: type[Rule], name: str, example: dict[str, Any], output: Any, input_: Any, slug: str
) -> Any:
    lists = _list_schema(name, example, output, input_, slug)
    read, change, remove = _detail_schema(name, example, output, input_)

    class ListApi(_RuleListApi):
        @lists["get"]
        def get(self, request: Request) -> Response:
            return super().get(request)

        @lists["post"]
        def post(self, request: Request) -> Response:
            return super().post(request)

    class DetailApi(_RuleDetailApi):
        @read
        def get(self, request: Request, rule_id: int) -> Response:
            return super().get(request, rule_id)

        @change
        def patch(self, request: Request, rule_id: int) -> Response:
            return super().patch(request, rule_id)

        @change
        def put(self, request: Request, rule_id: int) -> Response:
            return super().put(request, rule_id)

        @remove
        def delete(self, request: Request, rule_id: int) -> Response:
            return super().delete(request, rule_id)

    class ReorderApi(_RuleReorderApi):
        @_reorder_schema(name, example, output)
        def post(self, request: Request) -> Response:
            return super().post(request)

    for view in (ListApi, DetailApi, ReorderApi):
        view.model, view.output, view.input = model, output, input_
    return ListApi, DetailApi, ReorderApi


class TimeRuleOutput(RuleOutput):
    pass


TriggerListApi, TriggerDetailApi, TriggerReorderApi = _views(
    Trigger, "triggers", _TRIGGER_EXAMPLE, TriggerOutput, TriggerInput, "triggers"
)
TimeRuleListApi, TimeRuleDetailApi, TimeRuleReorderApi = _views(
    TimeRule, "time rules", _TIME_RULE_EXAMPLE, TimeRuleOutput, RuleInput, "automations"
)
