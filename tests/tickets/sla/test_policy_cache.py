"""The active SLA policies are loaded once per process and reloaded after any change.

Transactional tests: the cache is only used outside a transaction that changed the
configuration, as it is in production (a request or a task commits its edit).
"""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from helpdesk.lib.config_cache import VERSION_KEY
from tickets.models import BusinessHours, Holiday, SlaPolicy, SlaTarget
from tickets.sla.services import _active_policies

pytestmark = pytest.mark.django_db(transaction=True)


def _minutes(policies: list[SlaPolicy]) -> list[int | None]:
    return [t.first_response_minutes for p in policies for t in p.targets.all()]


def test_it_reads_the_policies_once_then_from_the_process_copy(
    make_policy: Callable[..., SlaPolicy], django_assert_num_queries: Any
) -> None:
    make_policy(priorities=("normal",))
    first = _active_policies()
    with django_assert_num_queries(0):
        again = _active_policies()
    assert again is first and _minutes(again) == [60]


def test_an_admin_edit_of_a_target_is_seen_by_the_next_read(
    make_policy: Callable[..., SlaPolicy],
) -> None:
    policy = make_policy(priorities=("normal",))
    assert _minutes(_active_policies()) == [60]

    target = SlaTarget.objects.get(policy=policy)
    target.first_response_minutes = 15
    target.save()

    assert _minutes(_active_policies()) == [15]


def test_deactivating_or_deleting_a_policy_takes_effect_at_once(
    make_policy: Callable[..., SlaPolicy],
) -> None:
    keep = make_policy(name="Keep", order=1)
    drop = make_policy(name="Drop", order=2)
    assert [p.name for p in _active_policies()] == ["Keep", "Drop"]
    drop.active = False
    drop.save()
    assert [p.name for p in _active_policies()] == ["Keep"]
    keep.delete()
    assert _active_policies() == []


def test_a_holiday_import_without_signals_still_reloads_the_calendar(
    make_policy: Callable[..., SlaPolicy], office: BusinessHours
) -> None:
    from tickets.sla.services import business_hours_import_holidays

    make_policy()
    assert not _active_policies()[0].business_hours.holidays.all()
    office.holiday_country = "DE"
    office.save()
    business_hours_import_holidays(business_hours=office, years=[2026])  # bulk_create
    holidays = _active_policies()[0].business_hours.holidays.all()
    assert date(2026, 12, 25) in {h.date for h in holidays}
    assert Holiday.objects.filter(calendar=office).count() == len(holidays)


def test_a_change_made_by_another_process_is_seen_through_the_shared_version(
    make_policy: Callable[..., SlaPolicy],
) -> None:
    make_policy(name="Standard", priorities=("normal",))
    assert [p.name for p in _active_policies()] == ["Standard"]
    # Another process edits the row and sets a new version; this process's signals never
    # fired (a queryset update stands in for the other process's write).
    SlaPolicy.objects.update(name="Renamed")
    assert [p.name for p in _active_policies()] == ["Standard"]  # still the process copy
    cache.set(VERSION_KEY, "set-by-another-process", timeout=None)
    assert [p.name for p in _active_policies()] == ["Renamed"]


def test_an_edit_that_rolls_back_leaves_no_trace_in_the_process_copy(
    make_policy: Callable[..., SlaPolicy],
) -> None:
    make_policy(name="Standard")
    assert [p.name for p in _active_policies()] == ["Standard"]

    with pytest.raises(RuntimeError), transaction.atomic():
        make_policy(name="Uncommitted", order=1)
        # Inside the transaction that made it, the new policy applies to its own writes.
        assert [p.name for p in _active_policies()] == ["Uncommitted", "Standard"]
        raise RuntimeError("roll back")

    assert [p.name for p in _active_policies()] == ["Standard"]


def test_a_lost_version_key_reloads(make_policy: Callable[..., SlaPolicy]) -> None:
    make_policy(name="Standard")
    _active_policies()
    cache.delete(VERSION_KEY)
    SlaPolicy.objects.update(name="Renamed")  # no signal: only the lost key can tell
    assert [p.name for p in _active_policies()] == ["Renamed"]


def test_one_unit_of_work_reads_the_version_once_for_every_copy(
    make_policy: Callable[..., SlaPolicy],
) -> None:
    from unittest import mock

    from channels_app.email.mailboxes import own_addresses
    from helpdesk.lib.config_cache import config_snapshot

    make_policy(name="Standard")
    _active_policies(), own_addresses()  # warm
    with mock.patch.object(cache, "get", wraps=cache.get) as get, config_snapshot():
        for _ in range(3):
            _active_policies(), own_addresses()
    assert get.call_count == 1
    with mock.patch.object(cache, "get", wraps=cache.get) as get:
        _active_policies(), own_addresses()
    assert get.call_count == 2  # outside a snapshot: every read checks


def test_a_snapshot_sees_its_own_edits_and_others_after_it_ends(
    make_policy: Callable[..., SlaPolicy],
) -> None:
    from helpdesk.lib.config_cache import config_snapshot

    policy = make_policy(name="Standard")
    with config_snapshot():
        assert [p.name for p in _active_policies()] == ["Standard"]
        SlaPolicy.objects.update(name="Elsewhere")  # another process's edit ...
        cache.set(VERSION_KEY, "another-process", timeout=None)
        assert [p.name for p in _active_policies()] == ["Standard"]  # ... after this began
        policy.refresh_from_db()
        policy.name = "Mine"
        policy.save()  # this unit's own edit
        assert [p.name for p in _active_policies()] == ["Mine"]
    SlaPolicy.objects.update(name="Later")
    cache.set(VERSION_KEY, "another-process-again", timeout=None)
    assert [p.name for p in _active_policies()] == ["Later"]


def test_another_thread_reading_meanwhile_does_not_hide_an_open_transactions_own_edit(
    make_policy: Callable[..., SlaPolicy],
) -> None:
    import threading

    from django.db import connection

    policy = make_policy(name="Standard")
    seen_by_other_thread: list[str] = []

    def other_thread() -> None:
        try:
            seen_by_other_thread.extend(p.name for p in _active_policies())
        finally:
            connection.close()

    with transaction.atomic():
        policy.name = "Mine"
        policy.save()
        reader = threading.Thread(target=other_thread)
        reader.start()
        reader.join(10)
        assert seen_by_other_thread == ["Standard"]  # committed rows only
        assert [p.name for p in _active_policies()] == ["Mine"]  # its own edit
    assert [p.name for p in _active_policies()] == ["Mine"]


def test_the_badges_calendars_are_read_once_and_reloaded_after_an_edit(
    make_policy: Callable[..., SlaPolicy], django_assert_num_queries: Any
) -> None:
    """Every policy's calendar, active or not (a clock keeps the policy it started
    under), from the process copy; a new holiday or a deactivation is seen at once."""
    from tickets.sla.calendar import ALWAYS_OPEN
    from tickets.sla.services import policy_calendars

    policy = make_policy(priorities=("normal",))
    first = policy_calendars()
    with django_assert_num_queries(0):
        assert policy_calendars() is first
    assert first[policy.pk].holidays == frozenset()

    assert policy.business_hours is not None
    Holiday.objects.create(calendar=policy.business_hours, date=date(2026, 12, 24))
    assert policy_calendars()[policy.pk].holidays == frozenset({date(2026, 12, 24)})

    policy.active = False
    policy.save()
    assert policy.pk in policy_calendars()
    policy.delete()
    assert policy_calendars().get(policy.pk, ALWAYS_OPEN) is ALWAYS_OPEN
