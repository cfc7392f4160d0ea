"""GIN indexes for agent search: full text over ticket subjects and message bodies.

Expression indexes built from the very SearchVector expressions that tickets.search uses,
so PostgreSQL matches them. SQLite has no GIN: search falls back to LIKE there, and this
migration does nothing.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

SEARCH_CONFIG = "english"


def _indexes(apps):
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    return [
        (Ticket, GinIndex(SearchVector("subject", config=SEARCH_CONFIG), name="ticket_subject_fts")),
        (Message, GinIndex(SearchVector("body_text", config=SEARCH_CONFIG), name="message_body_fts")),
    ]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.add_index(model, index)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_agent_workspace_reads_macros")]

    operations = [migrations.RunPython(create, drop)]
