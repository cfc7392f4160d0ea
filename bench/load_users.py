"""The simulated users of the load benchmark: a small asyncio client on aiohttp.

Each user is one role for the whole run and loops until the deadline, pausing a think time
between steps as people do (BENCH_LOAD_THINK seconds on average):

- agent: the queue, one of its tickets, now and then a reply through the composer
  (session cookie and the page's CSRF token, as a browser);
- api (session or HTTP Basic): the ticket list, one ticket, now and then a reply through
  /api/v1/tickets/<n>/replies/;
- customer: the web form (GET for the CSRF token and submission id, POST, the thanks
  page), a new address each time;
- sms: Twilio's inbound webhook, signed with the number's auth token over
  PUBLIC_BASE_URL + path as Twilio signs it, from the user's own phone number.

Cookies are kept by hand: with DEBUG off they are Secure, and a client cookie jar would
not send them over the benchmark's plain-HTTP loopback.
"""

import asyncio
import base64
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import aiohttp

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMISSION_RE = re.compile(r'name="submission_id" value="([^"]+)"')
LAST_MESSAGE_RE = re.compile(r'name="last_message_id"[^>]*value="(\d*)"')
QUEUE_VIEWS = ("open", "mine", "unassigned", "all")
REQUEST_TIMEOUT = 30
# Answers that are a correct outcome for that kind, not an error: the composer's collision
# guard (another reply arrived since the page was loaded) is the product working.
EXPECTED = {"reply (composer)": {409}}


@dataclass
class Sample:
    kind: str
    status: int  # 0: no answer (connection error or timeout)
    ms: float


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    error_examples: list[str] = field(default_factory=list)
    forms_accepted: list[str] = field(default_factory=list)  # the addresses
    replies_accepted: list[int] = field(default_factory=list)  # ticket numbers
    sms_accepted: list[str] = field(default_factory=list)  # MessageSids

    def record(self, kind: str, status: int, ms: float, detail: str = "") -> None:
        self.samples.append(Sample(kind, status, ms))
        if is_error(kind, status) and len(self.error_examples) < 20:
            self.error_examples.append(f"{kind}: HTTP {status} {detail[:300]}")


def is_error(kind: str, status: int) -> bool:
    return not (200 <= status < 400 or status in EXPECTED.get(kind, ()))


@dataclass(frozen=True)
class Plan:
    """What the users need to know about the seeded desk."""

    base_url: str
    run_id: str
    agent_sessions: list[str]  # session keys, one per session-authenticated user
    basic_credentials: list[tuple[str, str]]
    tickets: list[int]  # ticket numbers, split between the users that reply
    sms_to: str
    sms_account_sid: str
    sms_auth_token: str
    think: float
    deadline: float  # time.monotonic()


class Browser:
    """One user's connection and cookies."""

    def __init__(self, http: aiohttp.ClientSession, plan: Plan, results: Results) -> None:
        self.http = http
        self.plan = plan
        self.results = results
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}

    async def request(self, kind: str, method: str, path: str, **kwargs: Any) -> tuple[int, str]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            async with self.http.request(
                method, self.plan.base_url + path, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT), **kwargs,
            ) as response:  # fmt: skip
                body = await response.text()
                status = response.status
                for header in response.headers.getall("Set-Cookie", []):
                    jar: SimpleCookie = SimpleCookie(header)
                    self.cookies.update({k: m.value for k, m in jar.items() if m.value})
                location = response.headers.get("Location", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.results.record(kind, 0, (time.perf_counter() - started) * 1000, repr(exc))
            return 0, ""
        ms = (time.perf_counter() - started) * 1000
        self.results.record(kind, status, ms, f"{method} {path}: {body[:300]}")
        return status, location if 300 <= status < 400 else body

    def csrf_headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.cookies.get("csrftoken", "")}

    async def think(self) -> None:
        await asyncio.sleep(self.plan.think * random.uniform(0.5, 1.5))


def _session_cookies(session_key: str) -> dict[str, str]:
    # Any 32-character secret is a valid CSRF cookie; the page's masked token matches it.
    return {"sessionid": session_key, "csrftoken": random_token(32)}


def random_token(length: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(random.choice(alphabet) for _ in range(length))


async def agent(b: Browser, session_key: str, tickets: list[int]) -> None:
    b.cookies.update(_session_cookies(session_key))
    while time.monotonic() < b.plan.deadline:
        await b.request("queue page", "GET", f"/agent/?view={random.choice(QUEUE_VIEWS)}")
        await b.think()
        number = random.choice(tickets)
        status, page = await b.request("ticket page", "GET", f"/agent/tickets/{number}/")
        await b.think()
        if status == 200 and random.random() < 0.3 and time.monotonic() < b.plan.deadline:
            token = TOKEN_RE.search(page)
            last = LAST_MESSAGE_RE.search(page)
            form = {
                "csrfmiddlewaretoken": token.group(1) if token else b.cookies["csrftoken"],
                "body": f"Thanks for waiting, we are on it ({b.plan.run_id}).",
                "kind": "reply",
                "channel": "email",
                "last_message_id": last.group(1) if last else "",
            }
            status, _ = await b.request(
                "reply (composer)", "POST", f"/agent/tickets/{number}/reply/", data=form
            )
            if status == 302:
                b.results.replies_accepted.append(number)
            await b.think()


async def api_client(b: Browser, tickets: list[int], kind: str) -> None:
    while time.monotonic() < b.plan.deadline:
        await b.request(kind, "GET", "/api/v1/tickets/?status=open&limit=25")
        await b.think()
        number = random.choice(tickets)
        await b.request(kind, "GET", f"/api/v1/tickets/{number}/")
        await b.think()
        if random.random() < 0.2 and time.monotonic() < b.plan.deadline:
            status, _ = await b.request(
                "reply (API)", "POST", f"/api/v1/tickets/{number}/replies/",
                json={"body_text": f"An update from our CRM ({b.plan.run_id})."},
                headers=b.csrf_headers(),
            )  # fmt: skip
            if status == 201:
                b.results.replies_accepted.append(number)
            await b.think()


async def api_session(b: Browser, session_key: str, tickets: list[int]) -> None:
    b.cookies.update(_session_cookies(session_key))
    await api_client(b, tickets, "API read (session)")


async def api_basic(b: Browser, credentials: tuple[str, str], tickets: list[int]) -> None:
    encoded = base64.b64encode(":".join(credentials).encode()).decode()
    b.headers["Authorization"] = f"Basic {encoded}"
    await api_client(b, tickets, "API read (Basic)")


async def customer(b: Browser, user: int) -> None:
    serial = 0
    while time.monotonic() < b.plan.deadline:
        b.cookies.clear()  # a new visitor each time
        serial += 1
        status, page = await b.request("form page", "GET", "/support/new/")
        token, submission = TOKEN_RE.search(page), SUBMISSION_RE.search(page)
        await b.think()
        if status != 200 or token is None or submission is None:
            continue
        email = f"{b.plan.run_id}-u{user}-{serial}@customers.example"
        form = {
            "csrfmiddlewaretoken": token.group(1),
            "submission_id": submission.group(1),
            "name": f"Load Customer {user}",
            "email": email,
            "phone": "",
            "category": "",
            "subject": f"Parcel {serial} has not arrived",
            "description": "I ordered last week and the tracking has not moved since Monday.",
            "website": "",
        }
        status, location = await b.request("form submit", "POST", "/support/new/", data=form)
        if status == 302 and location.endswith("/support/thanks/"):
            b.results.forms_accepted.append(email)
            await b.request("form page", "GET", location)
        await b.think()


async def sms_sender(b: Browser, user: int) -> None:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(b.plan.sms_auth_token)
    phone = f"+1415555{1000 + user:04d}"
    serial = 0
    while time.monotonic() < b.plan.deadline:
        serial += 1
        sid = f"SM{b.plan.run_id}{user:04d}{serial:06d}".ljust(34, "0")[:34]
        form = {
            "MessageSid": sid, "SmsSid": sid, "AccountSid": b.plan.sms_account_sid,
            "From": phone, "To": b.plan.sms_to, "Body": f"Any news on my order? ({serial})",
            "NumMedia": "0",
        }  # fmt: skip
        path = "/hooks/twilio/sms/"
        signature = validator.compute_signature(b.plan.base_url + path, form)
        status, _ = await b.request(
            "sms webhook", "POST", path, data=form, headers={"X-Twilio-Signature": signature}
        )
        if 200 <= status < 300:
            b.results.sms_accepted.append(sid)
        await b.think()


@dataclass(frozen=True)
class Mix:
    agents: int
    api_session: int
    api_basic: int
    customers: int
    sms: int

    @classmethod
    def for_users(cls, users: int) -> "Mix":
        """40 % agents, 16 % session API clients, 4 % (at least one) Basic API clients,
        20 % web-form customers, 20 % SMS senders: 20/8/2/10/10 of 50."""
        basic = max(1, round(users * 0.04))
        api_session = round(users * 0.16)
        customers = round(users * 0.2)
        sms = round(users * 0.2)
        return cls(max(1, users - basic - api_session - customers - sms), api_session,
                   basic, customers, sms)  # fmt: skip

    @property
    def session_users(self) -> int:
        return self.agents + self.api_session


async def warm_up(plan: Plan, rounds: int = 3, browsers: int = 4) -> None:
    """Open every page once per uvicorn worker or so, unmeasured: templates compiled and
    modules imported, as on a server that has been up for a while."""
    paths = [
        "/agent/?view=open",
        f"/agent/tickets/{plan.tickets[0]}/",
        "/support/new/",
        "/api/v1/tickets/?status=open&limit=25",
        f"/api/v1/tickets/{plan.tickets[0]}/",
    ]

    async def one(session_key: str) -> None:
        async with aiohttp.ClientSession() as http:
            b = Browser(http, plan, Results())
            b.cookies.update(_session_cookies(session_key))
            for _ in range(rounds):
                for path in paths:
                    await b.request("warm-up", "GET", path)

    await asyncio.gather(*(one(plan.agent_sessions[0]) for _ in range(browsers)))


Job = tuple[Callable[..., Awaitable[None]], tuple[Any, ...]]  # a role and its arguments


async def run_users(plan: Plan, mix: Mix) -> Results:
    results = Results()
    repliers = mix.agents + mix.api_session + mix.api_basic
    # Each replying user works its own tickets, as agents work their own queue; a shared
    # ticket would trip the composer's collision guard, which is not what is measured.
    slices = [plan.tickets[i::repliers] or plan.tickets for i in range(repliers)]
    sessions = iter(plan.agent_sessions)
    basics = iter(plan.basic_credentials)
    jobs: list[Job] = []
    jobs += [(agent, (next(sessions), slices[i])) for i in range(mix.agents)]
    jobs += [(api_session, (next(sessions), slices[mix.agents + i]))
             for i in range(mix.api_session)]  # fmt: skip
    jobs += [(api_basic, (next(basics), slices[mix.agents + mix.api_session + i]))
             for i in range(mix.api_basic)]  # fmt: skip
    jobs += [(customer, (u,)) for u in range(mix.customers)]
    jobs += [(sms_sender, (u,)) for u in range(mix.sms)]

    async def one(
        job: tuple[Callable[..., Awaitable[None]], tuple[Any, ...]], offset: float
    ) -> None:
        await asyncio.sleep(offset)  # users arrive over the first second, not in one burst
        # A connection of its own per user, as every browser and integration has.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:
            role, args = job
            await role(Browser(http, plan, results), *args)

    await asyncio.gather(*(one(job, i / max(1, len(jobs))) for i, job in enumerate(jobs)))
    return results
