"""/api/v1/webhooks/: webhooks:manage tokens and admins only; the secret in the create
answer only; delivery logs by keyset at a constant query count."""

import pytest
from rest_framework.test import APIClient

from tickets.integrations.models import Webhook, WebhookDelivery, WebhookDeliveryStatus
from tickets.integrations.tokens import api_token_create, api_token_revoke
from tickets.integrations.webhooks.outbox import webhook_delivery_send
from tickets.integrations.webhooks.services import webhook_send_test

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def _bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def manager(agent):
    return _bearer(api_token_create(owner=agent, name="Ops", scopes=["webhooks:manage"]).secret)


def _error(response):
    return response.json()["error"]


def test_without_credentials_it_is_401(db):
    response = APIClient().get(URL)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_a_forged_token_is_401(db):
    response = _bearer("hd_live_0123456789ab_" + "x" * 43).get(URL)
    assert response.status_code == 401 and _error(response)["code"] == "token_invalid"


def test_a_revoked_token_is_401(agent):
    new = api_token_create(owner=agent, name="Ops", scopes=["webhooks:manage"])
    api_token_revoke(token=new.token)
    assert _error(_bearer(new.secret).get(URL))["code"] == "token_revoked"


def test_a_token_without_the_scope_is_403_naming_it(agent):
    reader = _bearer(api_token_create(owner=agent, name="R", scopes=["tickets:read"]).secret)
    for response in (reader.get(URL), reader.post(URL, {}, format="json")):
        assert response.status_code == 403
        assert _error(response)["code"] == "missing_scope"
        assert "webhooks:manage" in _error(response)["message"]


def test_an_agent_in_person_must_be_an_admin(client, agent, admin_client):
    client.force_login(agent)
    response = client.get(URL)
    assert response.status_code == 403 and _error(response)["code"] == "admin_only"
    assert admin_client.get(URL).status_code == 200


def test_create_answers_the_secret_once(manager, receiver, agent):
    response = manager.post(URL, {"name": "CRM", "url": receiver.url,
                                  "events": ["ticket.created", "message.created"]},
                            format="json")  # fmt: skip

    assert response.status_code == 201, response.json()
    body = response.json()
    webhook = Webhook.objects.get(pk=body["id"])
    assert body["secret"] == webhook.secret and body["secret"].startswith("whsec_")
    assert body["events"] == ["message.created", "ticket.created"] and body["active"] is True
    assert webhook.created_by == agent
    for later in (manager.get(f"{URL}{webhook.pk}/"), manager.get(URL)):
        assert webhook.secret not in later.content.decode()


def test_create_refuses_an_internal_url_and_unknown_events(manager):
    internal = manager.post(URL, {"url": "https://10.0.0.8/x", "events": ["ticket.created"]},
                            format="json")  # fmt: skip
    unknown = manager.post(URL, {"url": "https://example.com/x", "events": ["ticket.exploded"]},
                           format="json")  # fmt: skip
    empty = manager.post(URL, {"url": "https://example.com/x", "events": []}, format="json")

    assert internal.status_code == 400 and _error(internal)["code"] == "webhook_bad_url"
    assert "internal address" in _error(internal)["message"]
    assert unknown.status_code == 400 and "events" in _error(unknown)["fields"]
    assert empty.status_code == 400 and "events" in _error(empty)["fields"]
    assert not Webhook.objects.exists()


def test_filters_by_channel_and_team(manager, receiver):
    from tests.factories import TeamFactory

    team = TeamFactory(name="Billing")
    made = manager.post(URL, {"url": receiver.url, "events": ["ticket.created"],
                              "channels": ["sms", "email"], "teams": [team.pk]},
                        format="json")  # fmt: skip
    assert made.status_code == 201, made.json()
    assert (made.json()["channels"], made.json()["teams"]) == (["email", "sms"], [team.pk])

    bad = manager.patch(f"{URL}{made.json()['id']}/", {"teams": [999999]}, format="json")
    assert bad.status_code == 400 and _error(bad)["code"] == "webhook_bad_filter"
    cleared = manager.patch(f"{URL}{made.json()['id']}/", {"channels": []}, format="json")
    assert cleared.json()["channels"] == [] and cleared.json()["teams"] == [team.pk]


def test_update_enable_and_delete(manager, hook, receiver):
    from tickets.integrations.webhooks.outbox import webhook_disable

    webhook_disable(webhook_id=hook.webhook.pk, reason="Gone")
    detail = f"{URL}{hook.webhook.pk}/"

    changed = manager.patch(detail, {"events": ["sla.breached"], "active": True}, format="json")

    assert changed.status_code == 200, changed.json()
    assert changed.json()["events"] == ["sla.breached"] and changed.json()["active"] is True
    assert manager.get(f"{URL}999999/").status_code == 404
    assert manager.delete(detail).status_code == 204
    assert not Webhook.objects.exists()
    from helpdesk.audit.models import AuditEntry

    trail = AuditEntry.objects.filter(action__startswith="webhook.").order_by("id")
    assert [e.action for e in trail] == ["webhook.change", "webhook.delete"]
    assert trail[0].data["via"] == "api" and trail[0].actor_name == "alex"


def test_rotate_and_test(manager, hook, receiver, django_capture_on_commit_callbacks):
    rotated = manager.post(f"{URL}{hook.webhook.pk}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != hook.secret

    with django_capture_on_commit_callbacks(execute=True):
        tested = manager.post(f"{URL}{hook.webhook.pk}/test/")

    assert tested.status_code == 202 and tested.json()["event_type"] == "webhook.test"
    [request] = receiver.received
    assert request.headers["webhook-id"] == tested.json()["event_id"]


def test_deliveries_by_keyset_with_a_constant_query_count(
    manager, hook, receiver, django_assert_num_queries
):
    for _ in range(5):
        webhook_send_test(webhook=hook.webhook)
    deliveries = f"{URL}{hook.webhook.pk}/deliveries/"
    manager.get(deliveries)  # the token's last use is written on the first request

    # token + owner, the owner's groups (an agent?), the webhook, the page
    with django_assert_num_queries(4):
        first = manager.get(deliveries, {"limit": 2}).json()
    with django_assert_num_queries(4):
        second = manager.get(deliveries, {"limit": 2, "cursor": first["next_cursor"]}).json()
    last = manager.get(deliveries, {"limit": 2, "cursor": second["next_cursor"]}).json()

    ids = [d["id"] for page in (first, second, last) for d in page["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    assert last["next_cursor"] is None
    assert first["results"][0]["payload"]["type"] == "webhook.test"


def test_deliveries_by_status_and_replay(
    manager, hook, receiver, django_capture_on_commit_callbacks
):
    receiver.script = [404]
    failed = webhook_send_test(webhook=hook.webhook)
    webhook_delivery_send(delivery_id=failed.pk)
    webhook_send_test(webhook=hook.webhook)
    deliveries = f"{URL}{hook.webhook.pk}/deliveries/"

    only_failed = manager.get(deliveries, {"status": "failed"}).json()["results"]
    assert [d["id"] for d in only_failed] == [failed.pk]
    assert only_failed[0]["last_status_code"] == 404
    with django_capture_on_commit_callbacks(execute=True):
        replay = manager.post(f"{deliveries}{failed.pk}/replay/")
    again = manager.post(f"{deliveries}{failed.pk}/replay/")

    assert replay.status_code == 202
    assert WebhookDelivery.objects.get(pk=failed.pk).status == WebhookDeliveryStatus.DELIVERED
    assert again.status_code == 400 and "status" in _error(again)["fields"]
    assert manager.get(deliveries, {"cursor": "x"}).status_code == 400
    typo = manager.get(deliveries, {"stauts": "failed"})
    assert typo.status_code == 400 and "stauts" in _error(typo)["fields"]
