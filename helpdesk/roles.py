"""Roles: agents work tickets, admins configure the desk.

Roles are Django groups (created by a migration) so an admin can grant them in the admin.
Superusers count as both.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import BasePermission

AGENTS_GROUP = "Agents"
ADMINS_GROUP = "Admins"
# Agents too, with other permissions (helpdesk.setup, docs/access.md).
LEADS_GROUP = "Leads"
LIGHT_AGENTS_GROUP = "Light agents"
AGENT_GROUPS = frozenset({AGENTS_GROUP, LEADS_GROUP, LIGHT_AGENTS_GROUP})


def _group_names(user: Any) -> set[str]:
    # Cached on the user object: permission checks run many times per request.
    names = getattr(user, "_helpdesk_groups", None)
    if names is None:
        names = set(user.groups.values_list("name", flat=True))
        user._helpdesk_groups = names
    return names


def is_admin(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return ADMINS_GROUP in _group_names(user)


def is_agent(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_admin(user):
        return True
    return not AGENT_GROUPS.isdisjoint(_group_names(user))


class IsAgent(BasePermission):
    message = "This API is for agents. Log in with an agent account."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_agent(request.user)
