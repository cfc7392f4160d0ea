"""The Customer admin's actions: download an export, erase after a confirmation page."""

import io
import json
import zipfile
from typing import Any

import pytest
from django.urls import reverse

from helpdesk.audit.models import AuditEntry
from tests.factories import AgentFactory
from tests.privacy_world import Person
from tickets.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

CHANGELIST = reverse("admin:tickets_customer_changelist")


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def _action(client: Any, action: str, *pks: int, **extra: str) -> Any:
    return client.post(CHANGELIST, {"action": action, "_selected_action": list(pks), **extra})


def test_it_downloads_one_customers_export(admin_client: Any, person: Person) -> None:
    response = _action(admin_client, "export_personal_data", person.customer.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"customer-{person.customer.pk}-export.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert json.loads(archive.read("customer.json"))["customer"]["id"] == person.customer.pk
    entry = AuditEntry.objects.get(action="customer.export")
    assert (entry.actor_name, entry.target_id) == ("root", str(person.customer.pk))


def test_it_asks_for_one_customer_to_export(
    admin_client: Any, person: Person, bystander: Person
) -> None:
    response = _action(
        admin_client, "export_personal_data", person.customer.pk, bystander.customer.pk
    )
    assert response.status_code == 302
    page = admin_client.get(response["Location"])
    assert "Select exactly one customer to export." in page.content.decode()


def test_erase_shows_a_confirmation_page_first_and_changes_nothing(
    admin_client: Any, person: Person
) -> None:
    response = _action(admin_client, "erase_personal_data", person.customer.pk)
    assert response.status_code == 200
    page = response.content.decode()
    assert "This cannot be undone" in page and "Zq7marker Person" in page
    assert Customer.objects.get(pk=person.customer.pk).erased_at is None


def test_erase_confirmed_erases_and_says_so(admin_client: Any, person: Person) -> None:
    response = _action(admin_client, "erase_personal_data", person.customer.pk, confirm="yes")
    assert response.status_code == 302
    assert Customer.objects.get(pk=person.customer.pk).erased_at is not None
    page = admin_client.get(response["Location"]).content.decode()
    assert "Erased the personal data of 1 customer" in page
    again = _action(admin_client, "erase_personal_data", person.customer.pk, confirm="yes")
    assert "already erased" in admin_client.get(again["Location"]).content.decode()


def test_staff_without_the_delete_permission_is_not_offered_the_erasure(
    client: Any, person: Person
) -> None:
    from django.contrib.auth.models import Permission

    agent = AgentFactory()
    agent.is_staff = True
    agent.save()
    agent.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(agent)
    _action(client, "erase_personal_data", person.customer.pk, confirm="yes")
    assert Customer.objects.get(pk=person.customer.pk).erased_at is None
