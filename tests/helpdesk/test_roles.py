import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIRequestFactory

from helpdesk.roles import ADMINS_GROUP, AGENTS_GROUP, IsAgent, is_admin, is_agent
from helpdesk.setup import on_post_migrate, periodic_tasks_ensure
from tests.factories import AdminFactory, AgentFactory

pytestmark = pytest.mark.django_db


def test_it_knows_agents_and_admins_by_group(django_user_model):
    agent, admin = AgentFactory(), AdminFactory()
    nobody = django_user_model.objects.create_user("nobody")

    assert (is_agent(agent), is_admin(agent)) == (True, False)
    assert (is_agent(admin), is_admin(admin)) == (True, True)
    assert (is_agent(nobody), is_admin(nobody)) == (False, False)


def test_it_counts_a_superuser_as_both(django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@x.example", "pw")

    assert is_agent(root) and is_admin(root)


def test_it_refuses_inactive_and_anonymous_users(django_user_model):
    inactive = AgentFactory(is_active=False)
    fallen_root = django_user_model.objects.create_superuser("r", "r@x.example", "pw")
    fallen_root.is_active = False

    for user in (inactive, fallen_root, AnonymousUser(), None):
        assert not is_agent(user) and not is_admin(user)


def test_it_guards_the_api_with_the_agent_role(django_user_model):
    request = APIRequestFactory().get("/")
    request.user = django_user_model.objects.create_user("nobody")
    assert not IsAgent().has_permission(request, None)
    request.user = AgentFactory()
    assert IsAgent().has_permission(request, None)


def test_it_creates_the_role_groups_with_permissions_after_migrate():
    agents = Group.objects.get(name=AGENTS_GROUP)
    admins = Group.objects.get(name=ADMINS_GROUP)

    agent_perms = set(agents.permissions.values_list("codename", flat=True))
    admin_perms = set(admins.permissions.values_list("codename", flat=True))
    assert {"view_ticket", "change_ticket", "add_message"} <= agent_perms
    assert not any(code.startswith("delete_") for code in agent_perms)
    assert not {"change_mailbox", "change_user"} & agent_perms
    assert {"change_mailbox", "delete_ticket", "change_periodictask", "change_user"} <= admin_perms


def test_it_schedules_the_delivery_relay_once_however_often_setup_runs():
    from django.apps import apps

    on_post_migrate(apps.get_app_config("helpdesk"))
    on_post_migrate(apps.get_app_config("helpdesk"))

    relay = PeriodicTask.objects.get(task="channels_app.tasks.delivery_relay_task")
    assert relay.enabled and relay.interval.every == 60 and relay.interval.period == "seconds"
    assert Group.objects.filter(name=AGENTS_GROUP).count() == 1


def test_it_keeps_an_admins_edit_to_the_schedule():
    relay = PeriodicTask.objects.get(task="channels_app.tasks.delivery_relay_task")
    relay.enabled = False
    relay.save()

    periodic_tasks_ensure()

    assert not PeriodicTask.objects.get(pk=relay.pk).enabled
