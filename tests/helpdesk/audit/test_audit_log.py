"""The audit trail: what is recorded, that nobody can change it, export and retention."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from helpdesk.audit.models import AuditEntry, AuditImmutable
from helpdesk.audit.services import audit_purge, audit_record
from tests.factories import AdminFactory, AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def throttled(settings):
    settings.AXES_ENABLED = True


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_sign_in_failure_lockout_and_sign_out_are_recorded_with_the_client_address():
    AgentFactory(username="alex")  # password "pw"
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.post("/agent/login/", {"username": "alex", "password": "guess"})
    client.post("/agent/login/", {"username": "alex", "password": "pw"})
    client.post("/agent/logout/")
    assert actions() == ["auth.login_failed", "auth.login", "auth.logout"]
    failed = AuditEntry.objects.get(action="auth.login_failed")
    assert failed.actor_name == "alex" and failed.ip == "203.0.113.9"
    for _ in range(5):
        client.post("/agent/login/", {"username": "alex", "password": "guess"})
    assert "auth.lockout" in actions()


def test_entries_cannot_be_changed_or_deleted_through_the_orm():
    entry = audit_record(action="test.thing", summary="one")
    entry.summary = "two"
    with pytest.raises(AuditImmutable):
        entry.save()
    with pytest.raises(AuditImmutable):
        entry.delete()
    with pytest.raises(AuditImmutable):
        AuditEntry.objects.all().update(summary="x")
    with pytest.raises(AuditImmutable):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().summary == "one"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_update_and_delete_behind_the_orms_back():
    audit_record(action="test.thing")
    for sql in ("UPDATE audit_auditentry SET summary = 'x'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.count() == 1


def test_retention_purges_old_entries_only_and_records_that_it_did(settings):
    settings.HELPDESK_AUDIT_RETENTION_DAYS = 30
    old = audit_record(action="test.old")
    audit_record(action="test.new")
    later = timezone.now() + timedelta(days=31)
    removed = audit_purge(now=later)
    assert removed == 2 and actions() == ["audit.purge"]
    assert not AuditEntry.objects.filter(pk=old.pk).exists()


def test_nothing_is_purged_within_the_retention_window(settings):
    settings.HELPDESK_AUDIT_RETENTION_DAYS = 30
    audit_record(action="test.new")
    assert audit_purge(now=timezone.now() + timedelta(days=29)) == 0
    assert actions() == ["test.new"]


def test_admin_lists_entries_and_nobody_may_add_change_or_delete_them():
    entry = audit_record(action="test.thing", summary="visible")
    client = Client()
    client.force_login(AdminFactory(is_superuser=True))
    assert "test.thing" in client.get("/admin/audit/auditentry/").content.decode()
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"summary": "edited"})
    assert AuditEntry.objects.get(pk=entry.pk).summary == "visible"


def test_admin_change_of_a_team_records_who_and_the_values_before_and_after():
    from tickets.models import Team

    team = Team.objects.create(name="Billing")
    admin = AdminFactory(is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/tickets/team/{team.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data["name"] = "Invoices"
    response = client.post(f"/admin/tickets/team/{team.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.change")
    assert entry.actor_id == admin.pk and entry.target_id == str(team.pk)
    assert entry.before == {"name": "Billing"} and entry.after == {"name": "Invoices"}


def test_admin_export_action_and_command_write_csv_and_json(tmp_path):
    audit_record(action="test.thing", summary="exported", data={"n": 1})
    client = Client()
    client.force_login(AdminFactory(is_superuser=True))
    ids = [str(pk) for pk in AuditEntry.objects.values_list("pk", flat=True)]
    response = client.post(
        "/admin/audit/auditentry/", {"action": "export_json", "_selected_action": ids}
    )
    assert json.loads(response.content)[0]["summary"] == "exported"
    out = io.StringIO()
    call_command("audit_export", "--format", "csv", "--since", "2000-01-01", stdout=out)
    path = tmp_path / "a.json"
    call_command("audit_export", "--format", "json", "--out", str(path))
    rows = json.loads(path.read_text())
    assert [r["action"] for r in rows if r["action"] != "auth.login"][:2] == [
        "test.thing",
        "audit.export",
    ]
    assert "exported" in out.getvalue()  # the command wrote to its stdout


def test_audit_export_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("audit_export", "--since", "yesterday")


def test_a_customer_merge_is_recorded_with_both_customers_by_id():
    from tests.factories import CustomerFactory
    from tickets.services import customer_merge

    agent = AgentFactory()
    source, target = CustomerFactory(), CustomerFactory()
    customer_merge(source=source, target=target, actor=agent)
    entry = AuditEntry.objects.get(action="customer.merge")
    assert entry.actor_id == agent.pk and entry.target_id == str(target.pk)
    assert entry.data == {"source_customer_id": source.pk}


def test_an_agents_attachment_download_is_recorded():
    from django.core.files.base import ContentFile

    from tests.factories import TicketFactory
    from tickets.models import Attachment, Message

    ticket = TicketFactory()
    message = Message.objects.create(ticket=ticket, body_text="see file")
    attachment = Attachment.objects.create(
        message=message, filename="a.txt", content_type="text/plain", size=2
    )
    attachment.file.save("a.txt", ContentFile(b"hi"))
    agent = AgentFactory()
    client = Client(REMOTE_ADDR="198.51.100.4")
    client.force_login(agent)
    assert client.get(f"/agent/attachments/{attachment.pk}/").status_code == 200
    entry = AuditEntry.objects.get(action="data.attachment_download")
    assert entry.actor_id == agent.pk and entry.target_id == str(attachment.pk)
    assert entry.ip == "198.51.100.4"
