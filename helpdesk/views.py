import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from helpdesk.celery import app as celery_app
from helpdesk.heartbeat import last_beat
from helpdesk.lib.layers import RELAY_HEADER, relay_accepting_layer, relay_signature_valid
from helpdesk.lib.urls import public_base_url_problems


def _check(fn: Any) -> dict[str, Any]:
    try:
        detail = fn()
    except Exception as exc:
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}
    return {"ok": True, **(detail or {})}


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _cache() -> None:
    cache.set("helpdesk:healthz", "1", timeout=10)
    if cache.get("helpdesk:healthz") != "1":
        raise RuntimeError("cache did not return what was written")


def _broker() -> dict[str, Any]:
    # One attempt, no retry pause: a load balancer polls this, and a broker that refuses
    # must be reported at once (a hanging one within the transport's socket timeouts).
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=2)
        return {"transport": conn.transport_cls}


def _worker() -> dict[str, Any]:
    beat = last_beat()
    if beat is None:
        raise RuntimeError("no worker has reported yet; start one with `celery -A helpdesk worker`")
    age = time.time() - beat
    if age > settings.HELPDESK_WORKER_HEARTBEAT_MAX_AGE:
        raise RuntimeError(f"the last worker heartbeat is {int(age)} s old")
    return {"heartbeat_age_s": round(age, 1)}


_REDIS_CHECKS = {"cache": _cache, "broker": _broker, "worker": _worker}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    # The three Redis checks run side by side: a Redis that accepts connections but hangs
    # then costs one socket timeout (the broker's 5 s), not the sum of three.
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="healthz") as pool:
        redis_checks = {name: pool.submit(_check, fn) for name, fn in _REDIS_CHECKS.items()}
        checks = {"database": _check(_database)}
        checks.update({name: future.result() for name, future in redis_checks.items()})
    failing = [name for name, check in checks.items() if not check["ok"]]
    # Reported, not failed on: a wrong public address breaks links, not this server, and
    # taking every server out of a load balancer for it would break the desk too.
    problems = public_base_url_problems()
    config = {"public_base_url": settings.PUBLIC_BASE_URL, "ok": not problems, "problems": problems}
    return JsonResponse(
        {"status": "fail" if failing else "ok", "failing": failing, **checks, "config": config},
        status=503 if failing else 200,
    )


@csrf_exempt
@require_POST
async def layer_relay(request: HttpRequest) -> HttpResponse:
    """Hand a message relayed by the worker or beat to this server's in-memory channel
    layer (the embedded default; see helpdesk/lib/layers.py). Only a request signed with this
    install's SECRET_KEY within the last minute is taken."""
    layer = relay_accepting_layer()
    if layer is None:  # a Redis layer reaches every process itself: nothing to relay
        return JsonResponse({"error": "This server does not relay channel messages."}, status=404)
    body = request.body
    if not relay_signature_valid(body, request.headers.get(RELAY_HEADER, "")):
        return JsonResponse({"error": "Missing, stale or wrong relay signature."}, status=403)
    try:
        envelope = json.loads(body)
        op, to, message = envelope["op"], envelope["to"], envelope["message"]
        if op not in ("send", "group_send") or not isinstance(to, str):
            raise ValueError(op)
        if not isinstance(message, dict):
            raise ValueError("message")
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "Expected {op, to, message}."}, status=400)
    if op == "group_send":
        await layer.group_send(to, message)
    else:
        await layer.send(to, message)
    return HttpResponse(status=204)
