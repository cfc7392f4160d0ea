"""manage.py customer_export and customer_erase: for operators and scripts."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.privacy_world import Person
from tickets.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_export_writes_a_private_zip_and_says_what_is_in_it(person: Person, tmp_path: Path) -> None:
    out = tmp_path / "dana.zip"
    stdout = io.StringIO()
    call_command(
        "customer_export", "--email", person.email.upper(), "--out", str(out), stdout=stdout
    )
    tickets = Customer.objects.get(pk=person.customer.pk).tickets.count()
    assert f"{tickets} tickets" in stdout.getvalue()
    assert out.stat().st_mode & 0o077 == 0
    data = json.loads(zipfile.ZipFile(out).read("customer.json"))
    assert data["customer"]["id"] == person.customer.pk
    assert [p.name for p in tmp_path.glob("*.zip")] == ["dana.zip"]  # no half-written file


def test_export_finds_the_customer_by_phone_or_id(person: Person, tmp_path: Path) -> None:
    call_command("customer_export", "--phone", person.phone, "--out", str(tmp_path / "a.zip"))
    call_command(
        "customer_export",
        "--customer-id",
        str(person.customer.pk),
        "--out",
        str(tmp_path / "b.zip"),
    )
    assert (tmp_path / "a.zip").exists() and (tmp_path / "b.zip").exists()


@pytest.mark.parametrize("command", ["customer_export", "customer_erase"])
def test_an_unknown_customer_exits_3_and_names_what_was_looked_for(
    command: str, tmp_path: Path
) -> None:
    args = ["--email", "nobody@example.org", "--out", str(tmp_path / "x.zip")]
    with pytest.raises(CommandError) as exc:
        call_command(command, *(args if command == "customer_export" else [*args[:2], "--yes"]))
    assert exc.value.returncode == 3
    assert "nobody@example.org" in str(exc.value)
    assert not (tmp_path / "x.zip").exists()


def test_export_refuses_a_folder_that_does_not_exist(person: Person, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "customer_export", "--email", person.email, "--out", str(tmp_path / "no/x.zip")
        )


def test_erase_without_yes_refuses_when_nobody_can_answer(person: Person, monkeypatch: Any) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--yes"):
        call_command("customer_erase", "--email", person.email)
    assert Customer.objects.get(pk=person.customer.pk).erased_at is None


def test_erase_with_yes_erases_and_a_second_run_explains(person: Person) -> None:
    stdout = io.StringIO()
    call_command("customer_erase", "--email", person.email, "--yes", stdout=stdout)
    assert f"Erased customer #{person.customer.pk}" in stdout.getvalue()
    with pytest.raises(CommandError) as exc:
        call_command("customer_erase", "--customer-id", str(person.customer.pk), "--yes")
    assert "already erased" in str(exc.value) and exc.value.returncode == 1
    # The address is gone with the person: it names no customer any more.
    with pytest.raises(CommandError) as gone:
        call_command("customer_erase", "--email", person.email, "--yes")
    assert gone.value.returncode == 3
