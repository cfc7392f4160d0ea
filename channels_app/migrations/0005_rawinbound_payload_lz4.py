"""Raw payloads (whole MIME messages, up to 25 MB) are compressed with lz4 rather than
PostgreSQL's default pglz: several times cheaper to write and read, and the server
spends its CPU on the INSERT of every inbound message. Only on PostgreSQL 14+ built with
lz4; elsewhere (SQLite, a build without it) this does nothing."""

from django.db import migrations


def _lz4_available(schema_editor) -> bool:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
            "WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def set_compression(method: str):
    def apply(apps, schema_editor) -> None:
        if _lz4_available(schema_editor):
            schema_editor.execute(
                "ALTER TABLE channels_app_rawinbound "
                f"ALTER COLUMN payload SET COMPRESSION {method}"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [("channels_app", "0004_email_mailbox_imap_and_signature")]

    operations = [
        migrations.RunPython(set_compression("lz4"), set_compression("pglz")),
    ]
