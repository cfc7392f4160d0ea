"""An admin builds a trigger from rows of lists, dry-runs it and saves it, in a real
Chromium (no inline script: the page's CSP would report it)."""

from typing import Any

import pytest

from tests.factories import CustomerFactory, TeamFactory, TicketFactory
from tests.tickets.sla.test_admin_browser import page, sign_in  # noqa: F401  (fixture)
from tickets.automation.models import Trigger

pytestmark = [pytest.mark.browser, pytest.mark.embedded, pytest.mark.django_db(transaction=True)]


def test_it_builds_dry_runs_and_saves_a_trigger(page: Any, live_server: Any) -> None:  # noqa: F811
    TeamFactory(name="Billing")
    customer = CustomerFactory()
    hit = TicketFactory(customer=customer, subject="Refund for order 7")
    TicketFactory(customer=customer, subject="Where is my parcel")
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/automation/trigger/add/")
    page.fill("#id_title", "Refunds to Billing")
    page.check("input[name=events][value='ticket.created']")

    page.click("button[data-add=all]")
    row = page.locator(".rule-group[data-group=all] .rule-row").first
    row.locator("select").nth(0).select_option("subject")
    row.locator("select").nth(1).select_option("contains")
    row.locator("input[type=text]").fill("refund")

    page.click("button[data-add=action]")
    action = page.locator(".rule-editor .rule-row").last
    action.locator("select").first.select_option("team")
    action.locator("input[type=text]").fill("Billing")

    page.click("button.rule-dry-run")
    result = page.locator(".rule-dry-run-output")
    result.get_by_text("1 of the last 2 tickets match now.").wait_for()
    assert f"#{hit.number}" in result.inner_text()
    assert "team → Billing" in result.inner_text()

    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/automation/trigger/")
    trigger = Trigger.objects.get()
    assert trigger.conditions == {
        "all": [{"field": "subject", "operator": "contains", "value": "refund"}],
        "any": [],
    }
    assert trigger.actions == [{"field": "team", "value": "Billing"}]
    assert trigger.events == ["ticket.created"]
