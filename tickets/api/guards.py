"""What the API does around every view: a rate limit per token (RateLimit-* headers on
every answer, 429 over it) and `Idempotency-Key` on POSTs (the first answer replayed for
24 h, tickets.integrations.idempotency)."""

import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse, HttpResponseBase
from rest_framework import status
from rest_framework.exceptions import APIException, Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.lib.net import client_ip
from helpdesk.lib.ratelimit import RateLimit, rate_limit_hit
from tickets.api.errors import ApiError
from tickets.integrations.idempotency import (
    ClaimOutcome,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
)
from tickets.integrations.models import ApiToken, IdempotencyKey

IDEMPOTENCY_HEADER = "Idempotency-Key"
RATE_WINDOW = 60  # seconds: HELPDESK_API_RATE_LIMIT counts requests per minute


def _principal(request: Request) -> str:
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{client_ip(request.META)}"


def _canonical(value: Any) -> Any:
    """The parsed body in a form that hashes the same however it was encoded (key order,
    whitespace, multipart boundaries); files by their content."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "sha256": digest.hexdigest()}
    if hasattr(value, "lists"):  # a QueryDict: form fields may repeat
        return {k: [_canonical(v) for v in vs] for k, vs in value.lists()}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def _request_hash(request: Request) -> str:
    body = {"method": request.method, "path": request.get_full_path(), "data": request.data}
    text = json.dumps(_canonical(body), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class _Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class GuardedView(APIView):
    """Counts every request (per token, per agent in person, or per address before sign-in)
    and answers POSTs with an Idempotency-Key once."""

    _rate: RateLimit | None = None
    _claim: IdempotencyKey | None = None

    def perform_authentication(self, request: Request) -> None:
        try:
            super().perform_authentication(request)
        except APIException:
            self._count(request)  # refused credentials count too: token guessing
            raise
        self._count(request)

    def _count(self, request: Request) -> None:
        limit = settings.HELPDESK_API_RATE_LIMIT
        self._rate = rate_limit_hit(
            scope="api", key=_principal(request), limit=limit, window=RATE_WINDOW
        )
        if not self._rate.allowed:
            raise Throttled(
                wait=self._rate.retry_after,
                detail=f"Over the limit of {limit} requests a minute for this token.",
                code="rate_limited",
            )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authenticated, allowed, counted
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if request.method != "POST" or key is None:
            return
        if not 0 < len(key) <= 255:
            raise ValidationError({IDEMPOTENCY_HEADER: ["Give a key of 1 to 255 characters."]})
        self.body_check(request)  # before the hash reads the body
        claim = idempotency_claim(
            principal=_principal(request), key=key, request_hash=_request_hash(request)
        )
        if claim.outcome is ClaimOutcome.NEW:
            self._claim = claim.record
        elif claim.outcome is ClaimOutcome.MISMATCH:
            raise ApiError(
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
                code="idempotency_key_reused",
                message="This Idempotency-Key was used for another request in the last 24 "
                "hours. Use a new key for a new request.",
            )
        elif claim.outcome is ClaimOutcome.BUSY:
            raise ApiError(
                status_code=status.HTTP_409_CONFLICT,
                code="idempotency_in_progress",
                message="A request with this Idempotency-Key is still running. Retry in a "
                "moment to get its answer.",
            )
        else:
            assert claim.record is not None
            raise _Replay(_replayed(claim.record))

    def body_check(self, request: Request) -> None:
        """Refuse a body by its headers before anything reads it (a view taking uploads
        checks its declared length)."""

    # Any: a replay is a plain HttpResponse (stored bytes), not a DRF Response.
    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)
        except Exception:
            if self._claim is not None:
                idempotency_release(record=self._claim)
            raise

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._rate is not None:
            response.headers["RateLimit-Limit"] = str(self._rate.limit)
            response.headers["RateLimit-Remaining"] = str(self._rate.remaining)
            response.headers["RateLimit-Reset"] = str(self._rate.retry_after)
            if not self._rate.allowed:
                response.headers["Retry-After"] = str(self._rate.retry_after)
        if self._claim is not None:
            self._store(response)
        return response

    def _store(self, response: HttpResponseBase) -> None:
        assert self._claim is not None
        if response.status_code >= 500 or not isinstance(response, Response):
            idempotency_release(record=self._claim)
            return
        response.render()
        idempotency_complete(
            record=self._claim,
            status_code=response.status_code,
            body=response.content.decode(),
            content_type=response.get("Content-Type", ""),
        )


def _replayed(record: IdempotencyKey) -> HttpResponse:
    assert record.status_code is not None
    response = HttpResponse(
        record.response_body, status=record.status_code, content_type=record.content_type
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response
