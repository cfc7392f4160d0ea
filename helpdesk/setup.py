"""Idempotent setup run after every migrate: role groups and the default beat schedule.

Kept out of data migrations because permissions for new models only exist after
post_migrate, and because an admin's edits to a schedule must survive later migrations
(get_or_create never overwrites them).
"""

import json
from typing import Any

from django.contrib.auth.models import Group, Permission

from helpdesk.roles import ADMINS_GROUP, AGENTS_GROUP, LEADS_GROUP, LIGHT_AGENTS_GROUP

OUR_APPS = ("tickets", "channels_app", "knowledge_base", "integrations", "automation")
AGENT_MODELS = {
    "tickets": {"ticket", "message", "customer", "contactidentity", "tag", "attachment"},
}

AGENT_DESK_PERMISSIONS = ("view_all_tickets", "reply_public", "edit_ticket_fields")
LEAD_DESK_PERMISSIONS = (
    *AGENT_DESK_PERMISSIONS,
    "assign_others",
    "manage_macros",
    "view_sla_report",
)
# Reads their teams' tickets and adds internal notes; no public replies, no field changes.
LIGHT_AGENT_DESK_PERMISSIONS = ("view_team_tickets",)
# Granted by role only, never with the models' add/change/view (tickets.models.Ticket.Meta).
DESK_PERMISSIONS = frozenset(
    {*LEAD_DESK_PERMISSIONS, *LIGHT_AGENT_DESK_PERMISSIONS, "view_sla_report"}
)

# name -> (task, every seconds); one beat runs these (see README, "Running in production").
PERIODIC_TASKS: dict[str, tuple[str, int]] = {
    "Re-enqueue waiting deliveries": ("channels_app.tasks.delivery_relay_task", 60),
    "Relay webhook deliveries": ("tickets.integrations.tasks.webhook_relay_task", 30),
    "Purge old webhook deliveries": ("tickets.integrations.tasks.webhook_log_purge_task", 86400),
    "SLA timer tick": ("tickets.tasks.sla_tick_task", 30),
    "Poll IMAP mailboxes": ("channels_app.tasks.mailbox_poll_all_task", 60),
    "Process stale inbound payloads": ("channels_app.tasks.raw_inbound_retry_stale_task", 60),
    "Send due satisfaction requests": ("tickets.portal.tasks.satisfaction_requests_due_task", 60),
    "Purge old audit entries": ("helpdesk.audit.tasks.audit_purge_task", 86400),
    "Purge data past retention": ("channels_app.tasks.retention_purge_task", 86400),
    "Purge API idempotency keys": ("tickets.integrations.tasks.idempotency_purge_task", 86400),
    "Run automation time rules": ("tickets.automation.tasks.automations_run_task", 300),
}


def roles_ensure() -> None:
    agents, _ = Group.objects.get_or_create(name=AGENTS_GROUP)
    admins, _ = Group.objects.get_or_create(name=ADMINS_GROUP)
    agent_perms = [
        perm
        for perm in Permission.objects.filter(
            content_type__app_label__in=AGENT_MODELS
        ).select_related("content_type")
        if perm.content_type.model in AGENT_MODELS.get(perm.content_type.app_label, set())
        and not perm.codename.startswith("delete_")
        and perm.codename not in DESK_PERMISSIONS
    ]
    agents.permissions.add(*agent_perms)
    # The desk's own permissions an agent holds by default (docs/access.md): every ticket
    # visible. A group without view_all_tickets restricts its members (tickets.visibility).
    desk = Permission.objects.filter(content_type__app_label="tickets")
    agents.permissions.add(*desk.filter(codename__in=AGENT_DESK_PERMISSIONS))
    leads, _ = Group.objects.get_or_create(name=LEADS_GROUP)
    leads.permissions.add(*agent_perms, *desk.filter(codename__in=LEAD_DESK_PERMISSIONS))
    light, _ = Group.objects.get_or_create(name=LIGHT_AGENTS_GROUP)
    light.permissions.add(
        *[p for p in agent_perms if p.codename.startswith("view_")],
        *desk.filter(codename__in=LIGHT_AGENT_DESK_PERMISSIONS),
    )
    admins.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=[
                *OUR_APPS,
                "django_celery_beat",
                "auth",
                "axes",
                "otp_totp",
                "otp_static",
                "audit",
            ]
        )
    )


def periodic_tasks_ensure() -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, (task, seconds) in PERIODIC_TASKS.items():
        # filter().first(): an admin may have saved a duplicate schedule in the admin.
        interval = (
            IntervalSchedule.objects.filter(every=seconds, period=IntervalSchedule.SECONDS)
            .order_by("pk")
            .first()
        ) or IntervalSchedule.objects.create(every=seconds, period=IntervalSchedule.SECONDS)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "kwargs": json.dumps({})}
        )


def on_post_migrate(sender: Any, **kwargs: Any) -> None:
    # Run once, after the last of our apps has migrated.
    if getattr(sender, "name", "") != "helpdesk":
        return
    roles_ensure()
    periodic_tasks_ensure()
