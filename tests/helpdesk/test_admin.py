import pytest
from django.apps import apps
from django.contrib import admin

from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

OUR_APPS = ("tickets", "channels_app")


def test_it_registers_every_model_of_ours_in_the_admin():
    missing = [
        model.__name__
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
        if model not in admin.site._registry
    ]

    assert missing == []


def test_it_renders_every_changelist_with_search_and_filters(admin_client, ingest):
    ingest(external_id="1")
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

        response = admin_client.get(url, {"q": "dana"})

        assert response.status_code == 200, url


def test_it_keeps_agents_out_of_the_admin_even_as_staff(client):
    staff_agent = AgentFactory(is_staff=True)
    client.force_login(staff_agent)

    response = client.get("/admin/tickets/ticket/")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
