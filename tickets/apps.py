from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from tickets.domain_events import Phase, SlaBreached, subscribe
        from tickets.models import BusinessHours, BusinessInterval, Holiday, SlaPolicy, SlaTarget
        from tickets.sla.escalation import sla_escalate_on_breach
        from tickets.sla.services import active_policies_cache, policy_calendars_cache

        active_policies_cache.watch(
            [SlaPolicy, SlaTarget, BusinessHours, BusinessInterval, Holiday]
        )
        policy_calendars_cache.watch([SlaPolicy, BusinessHours, BusinessInterval, Holiday])
        # In the tick's transaction: the escalation commits with the breach mark.
        subscribe(SlaBreached, sla_escalate_on_breach, phase=Phase.IN_TRANSACTION)
        post_migrate.connect(_search_tables_repair, sender=self)


def _search_tables_repair(sender: Any, using: str = "default", **kwargs: Any) -> None:
    # SQLite drops a table's triggers when a migration rebuilds the table to alter it: the
    # typo search's FTS5 tables would silently go stale (tickets.search_trigram).
    from django.db import connections

    from tickets.search_trigram import sqlite_repair

    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            sqlite_repair(cursor)
