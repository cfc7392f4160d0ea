"""Agents and teams, read-only: whom an integration may assign a ticket to (by the
username or id, the team by name or id, that PATCH and POST /tickets/ take)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.roles import ADMINS_GROUP, AGENT_GROUPS
from tickets.api.filters import pk_page
from tickets.api.permissions import ApiView
from tickets.models import Team

_USER_EXAMPLE = {
    "id": 4,
    "username": "alex",
    "name": "Alex Kim",
    "email": "alex@desk.example",
    "teams": [2],
}
_TEAM_EXAMPLE = {"id": 2, "name": "Billing", "email": "billing@desk.example", "members": [4, 9]}
_PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="`next_cursor`"),
    OpenApiParameter("limit", int, description="1-100, default 50"),
]


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()
    email = serializers.EmailField()
    teams = serializers.SerializerMethodField(help_text="team ids")

    def get_name(self, user: Any) -> str:
        return str(user.get_full_name() or user.get_username()).strip()

    def get_teams(self, user: Any) -> list[int]:
        return sorted(team.pk for team in user.teams.all())


class TeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField(help_text="where team notifications go")
    members = serializers.SerializerMethodField(help_text="user ids")

    def get_members(self, team: Team) -> list[int]:
        return sorted(user.pk for user in team.members.all())


def _agents() -> QuerySet[Any]:
    """Active agents and admins (helpdesk.roles), those a ticket can be assigned to."""
    groups = [*AGENT_GROUPS, ADMINS_GROUP]
    return (
        get_user_model()
        ._default_manager.filter(is_active=True)
        .filter(Q(groups__name__in=groups) | Q(is_superuser=True))
        .distinct()
        .prefetch_related(Prefetch("teams", queryset=Team.objects.only("pk")))
    )


def _teams() -> QuerySet[Team]:
    active = get_user_model()._default_manager.filter(is_active=True).only("pk")
    return Team.objects.prefetch_related(Prefetch("members", queryset=active))


class UserListApi(ApiView):
    required_scopes = {"GET": "tickets:read"}

    @extend_schema(
        summary="List agents",
        operation_id="v1_users_list",
        description="Active agents and admins, the people a ticket can be assigned to, by "
        "id; `team` (id) for one team's members.",
        parameters=[OpenApiParameter("team", int, description="team id"), *_PAGE_PARAMS],
        responses=inline_serializer(
            "UserPage",
            {
                "results": UserOutput(many=True),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [_USER_EXAMPLE], "next_cursor": None},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        qs = _agents()
        if team := request.query_params.get("team"):
            if not team.isdigit():
                raise serializers.ValidationError({"team": ["Give a team id."]})
            qs = qs.filter(teams=int(team))
        page = pk_page(request, qs, "user", {"team"})
        return Response(
            {
                "results": UserOutput(page["items"], many=True).data,
                "next_cursor": page["next_cursor"],
            }
        )


class UserDetailApi(ApiView):
    required_scopes = {"GET": "tickets:read"}

    @extend_schema(
        summary="Read an agent",
        responses=UserOutput,
        examples=[OpenApiExample("An agent", value=_USER_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, user_id: int) -> Response:
        user = _agents().filter(pk=user_id).first()
        if user is None:
            raise Http404(f"There is no agent {user_id}.")
        return Response(UserOutput(user).data)


class TeamListApi(ApiView):
    required_scopes = {"GET": "tickets:read"}

    @extend_schema(
        summary="List teams",
        operation_id="v1_teams_list",
        description="Every team with its active members, by id.",
        parameters=_PAGE_PARAMS,
        responses=inline_serializer(
            "TeamPage",
            {
                "results": TeamOutput(many=True),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [_TEAM_EXAMPLE], "next_cursor": None},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        page = pk_page(request, _teams(), "team", set())
        return Response(
            {
                "results": TeamOutput(page["items"], many=True).data,
                "next_cursor": page["next_cursor"],
            }
        )


class TeamDetailApi(ApiView):
    required_scopes = {"GET": "tickets:read"}

    @extend_schema(
        summary="Read a team",
        responses=TeamOutput,
        examples=[OpenApiExample("A team", value=_TEAM_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, team_id: int) -> Response:
        team = _teams().filter(pk=team_id).first()
        if team is None:
            raise Http404(f"There is no team {team_id}.")
        return Response(TeamOutput(team).data)
