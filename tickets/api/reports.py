"""Reports: the summary of tickets created in a period (docs/reports.md defines every
figure). An agent's figures count the tickets they may see (tickets.visibility); admins
and agents who see all tickets get the whole desk's. Included under /api/v1/reports/."""

from datetime import date
from typing import Any

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.lib.dates import date_in_range
from helpdesk.lib.timezones import known_timezones
from tickets.api.permissions import ApiView
from tickets.models import Channel
from tickets.reports.metrics import ReportFilters, report_summary

# A period longer than this is refused: past two years a summary is an export's job.
MAX_DAYS = 731


class ReportQueryInput(serializers.Serializer):
    # `from` is a Python keyword: the field is declared under it in __init__.
    to = serializers.DateField(help_text="last day, inclusive (YYYY-MM-DD)")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    team = serializers.IntegerField(min_value=1, required=False, help_text="team id")
    agent = serializers.IntegerField(min_value=1, required=False, help_text="assignee's user id")
    tz = serializers.CharField(
        required=False, max_length=64, help_text="IANA zone of the days; default the server's"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = serializers.DateField(help_text="first day (YYYY-MM-DD)")

    def validate_tz(self, value: str) -> str:
        if value not in known_timezones():
            raise serializers.ValidationError(
                f"Unknown time zone {value!r}: use an IANA name such as Europe/Berlin."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["from"], attrs["to"]
        for name, day in (("from", start), ("to", end)):
            try:
                date_in_range(day)
            except ValueError as exc:
                raise serializers.ValidationError({name: [str(exc)]}) from exc
        if start > end:
            raise serializers.ValidationError({"to": ["`to` is before `from`."]})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError(
                {"to": [f"Ask for at most {MAX_DAYS} days at a time."]}
            )
        return attrs


_QUERY_NAMES = frozenset({"from", "to", "channel", "team", "agent", "tz"})


def _filters(query: Any) -> ReportFilters:
    unknown = sorted(set(query) - _QUERY_NAMES)
    if unknown:
        known = ", ".join(sorted(_QUERY_NAMES))
        raise serializers.ValidationError(
            {name: [f"No such parameter. Parameters here: {known}."] for name in unknown}
        )
    params = ReportQueryInput(data={k: query[k] for k in _QUERY_NAMES if k in query})
    params.is_valid(raise_exception=True)
    d = params.validated_data
    start: date = d["from"]
    return ReportFilters(
        start=start,
        end=d["to"],
        tz=d.get("tz") or settings.TIME_ZONE,
        channel=d.get("channel"),
        team_id=d.get("team"),
        agent_id=d.get("agent"),
    )


class DurationOutput(serializers.Serializer):
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class CsatOutput(serializers.Serializer):
    percent = serializers.FloatField(allow_null=True, help_text="share of 4-5 ratings, 0-100")
    count = serializers.IntegerField()


class SurveyScoreOutput(serializers.Serializer):
    score = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class SurveyMeanOutput(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class ChannelSummaryOutput(serializers.Serializer):
    tickets_created = serializers.IntegerField()
    tickets_solved = serializers.IntegerField()
    tickets_reopened = serializers.IntegerField()
    first_response_minutes = DurationOutput()
    first_response_business_minutes = DurationOutput()
    resolution_minutes = DurationOutput()
    resolution_business_minutes = DurationOutput()
    fcr_rate = serializers.FloatField(allow_null=True, help_text="0-1; null with nothing solved")
    reopen_rate = serializers.FloatField(allow_null=True, help_text="0-1")
    csat = CsatOutput()


class ReportSummaryOutput(ChannelSummaryOutput):
    nps = SurveyScoreOutput(help_text="no NPS survey yet: always null and 0")
    ces = SurveyMeanOutput(help_text="no CES survey yet: always null and 0")
    by_channel = serializers.DictField(child=ChannelSummaryOutput())


_DURATION = {"median": 42.0, "p90": 310.5, "mean": 97.3, "count": 118}
_BUSINESS = {"median": 35.0, "p90": 240.0, "mean": 71.8, "count": 118}
_CHANNEL_EXAMPLE = {
    "tickets_created": 97,
    "tickets_solved": 90,
    "tickets_reopened": 6,
    "first_response_minutes": _DURATION,
    "first_response_business_minutes": _BUSINESS,
    "resolution_minutes": {"median": 380.0, "p90": 2900.0, "mean": 810.4, "count": 90},
    "resolution_business_minutes": {"median": 250.0, "p90": 1300.0, "mean": 402.2, "count": 90},
    "fcr_rate": 0.62,
    "reopen_rate": 0.065,
    "csat": {"percent": 91.3, "count": 46},
}


class ReportSummaryApi(ApiView):
    required_scopes = {"GET": "reports:read"}

    @extend_schema(
        summary="Report summary",
        operation_id="v1_reports_summary",
        description="Figures over the tickets **created** from `from` to `to` (whole days in "
        "`tz`, both inclusive; merged tickets count once, in the ticket they joined). "
        "Durations are minutes; business minutes follow the ticket's SLA calendar. An agent "
        "counts the tickets they may see. `nps` and `ces` stay `null`/`0` until those "
        "surveys exist. Definitions: docs/reports.md.",
        parameters=[ReportQueryInput],
        responses=ReportSummaryOutput,
        examples=[
            OpenApiExample(
                "A week",
                value={
                    **_CHANNEL_EXAMPLE,
                    "tickets_created": 130,
                    "nps": {"score": None, "count": 0},
                    "ces": {"mean": None, "count": 0},
                    "by_channel": {"email": _CHANNEL_EXAMPLE},
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        filters = _filters(request.query_params)
        return Response(report_summary(user=request.user, filters=filters))


urlpatterns = [
    path("summary/", ReportSummaryApi.as_view(), name="api-reports-summary"),
]
