from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_nothing_from_another_origin(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()

    assert "swagger-ui" in page
    assert "cdn." not in page and "https://" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page


def test_the_schema_documents_bearer_tokens(client: Client) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()

    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "hd_live_<id>_<secret>",
    }


def test_the_swagger_ui_renders_under_the_csp(live_url: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(f"{live_url}/api/docs/")

    expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=15_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/tickets/").first).to_be_visible()
    expect(page.locator("button.authorize")).to_be_visible()


def test_the_schema_validates_without_warnings_and_carries_the_examples(tmp_path) -> None:
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()

    assert "A new customer by email" in text and "Assign and tag" in text
