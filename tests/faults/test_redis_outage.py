"""Redis stopped while mail is piped, SMS arrive, agents reply and customers use the web
form: everything is stored once, every way in answers 2xx (the pipe 0 or 75), the worker
lives through it, and the replies go out, once each, after Redis is back.

Redis is down for 20 s, as long as a real restart takes: long enough for every client
timeout, reconnect backoff and retry loop on these paths (2 s connect timeouts, the
worker's reconnects) to run out several times over while traffic keeps arriving.
"""

import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from twilio.request_validator import RequestValidator
from websockets.sync.client import connect as ws_connect

from channels_app.models import Delivery, DeliveryStatus, RawInbound, RawStatus, SmsNumber
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory, TicketFactory
from tests.faults.conftest import RAW_SECRET, Stack, mime, wait_for
from tickets.models import Channel, IdentityKind, Message, Status, Ticket

pytestmark = pytest.mark.timeout(150)

OUTAGE = 20.0
SMS_TOKEN = "fault-suite-sms-token"
OUR_NUMBER = "+14155550100"
ONGOING_PHONE = "+14155550142"
PASSWORD = "fault-suite-password"


def _agent() -> Any:
    agent = AgentFactory(username="outage-agent")
    # Hashed here with few iterations: the web server verifies it by the hash's own
    # iteration count, so the login costs milliseconds.
    agent.password = PBKDF2PasswordHasher().encode(PASSWORD, "faultsuitesalt", iterations=1000)
    agent.save(update_fields=["password"])
    return agent


def _login(stack: Stack) -> requests.Session:
    session = requests.Session()
    session.get(f"{stack.url}/agent/login/", timeout=10)
    response = session.post(
        f"{stack.url}/agent/login/",
        data={
            "username": "outage-agent",
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


class Traffic:
    """What each way in was sent and what it answered."""

    def __init__(self, stack: Stack, agent_session: requests.Session, tickets: list[int]):
        self.stack = stack
        self.agent = agent_session
        self.tickets = tickets
        self.statuses: dict[str, list[int]] = {
            "sms": [], "reply": [], "form": [], "page": [], "api": [], "raw": [],
        }  # fmt: skip
        self.api_ids: list[str] = []
        self.raw_ids: list[str] = []
        self.sms_sids: list[str] = []
        self.reply_texts: list[str] = []
        self.form_subjects: list[str] = []
        self.mail_ids: list[str] = []
        self.mail_codes: dict[str, list[int]] = {}

    def sms(self) -> None:
        sid = "SM" + uuid.uuid4().hex
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "AC" + "1" * 32,
            # Every other text continues a conversation an agent is assigned (a customer
            # reply notifies the agent); the rest start new tickets.
            "From": ONGOING_PHONE
            if len(self.sms_sids) % 2
            else f"+1415555{len(self.sms_sids):04d}",
            "To": OUR_NUMBER,
            "Body": f"Text {sid}",
            "NumMedia": "0",
        }
        url = f"{self.stack.url}/hooks/twilio/sms/"
        signature = RequestValidator(SMS_TOKEN).compute_signature(url, params)
        response = requests.post(
            url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15
        )
        self.sms_sids.append(sid)
        self.statuses["sms"].append(response.status_code)

    def reply(self) -> None:
        number = self.tickets[len(self.reply_texts) % len(self.tickets)]
        text = f"Reply {uuid.uuid4().hex}"
        response = self.agent.post(
            f"{self.stack.url}/api/v1/tickets/{number}/replies/",
            json={"body_text": text},
            headers={"X-CSRFToken": self.agent.cookies["csrftoken"]},
            timeout=15,
        )
        self.reply_texts.append(text)
        self.statuses["reply"].append(response.status_code)
        page = self.agent.get(f"{self.stack.url}/agent/tickets/{number}/", timeout=15)
        self.statuses["page"].append(page.status_code)

    def form(self) -> None:
        customer = requests.Session()
        page = customer.get(f"{self.stack.url}/support/new/", timeout=15)
        self.statuses["page"].append(page.status_code)
        submission = re.search(rb'name="submission_id" value="([0-9a-f]+)"', page.content)
        assert submission, "the web form has no submission id"
        subject = f"Form {uuid.uuid4().hex[:12]}"
        response = customer.post(
            f"{self.stack.url}/support/new/",
            data={
                "csrfmiddlewaretoken": customer.cookies["csrftoken"],
                "submission_id": submission.group(1).decode(),
                "name": "Web Customer",
                "email": f"web{len(self.form_subjects)}@example.com",
                "subject": subject,
                "description": "The web form, sent while Redis is down.",
            },
            timeout=15,
            allow_redirects=False,
        )
        self.form_subjects.append(subject)
        self.statuses["form"].append(response.status_code)

    def api_message(self) -> None:
        external_id = f"crm-{uuid.uuid4().hex}"
        response = self.agent.post(
            f"{self.stack.url}/api/v1/messages/",
            json={
                "external_id": external_id,
                "from": {"email": f"crm{len(self.api_ids)}@example.com", "name": "CRM"},
                "subject": "From the CRM",
                "text": "Posted while Redis is down.",
            },
            headers={"X-CSRFToken": self.agent.cookies["csrftoken"]},
            timeout=15,
        )
        self.api_ids.append(external_id)
        self.statuses["api"].append(response.status_code)

    def raw_mail(self) -> None:
        message_id = f"{uuid.uuid4().hex}@hook.example.com"
        response = requests.post(
            f"{self.stack.url}/hooks/email/raw/",
            data=mime(message_id, "hook@example.com", "Raw hook"),
            headers={"X-Helpdesk-Secret": RAW_SECRET, "Content-Type": "message/rfc822"},
            timeout=15,
        )
        self.raw_ids.append(message_id)
        self.statuses["raw"].append(response.status_code)

    def mail(self) -> None:
        message_id = f"{uuid.uuid4().hex}@customer.example.com"
        self.mail_ids.append(message_id)
        self.deliver(message_id)

    def deliver(self, message_id: str) -> int:
        code = self.stack.ingest_email(mime(message_id, "mailer@example.com", message_id[:12]))
        self.mail_codes.setdefault(message_id, []).append(code)
        return code

    def round(self) -> None:
        self.sms()
        self.reply()
        self.form()
        self.api_message()
        self.raw_mail()


def _assert_live_updates_flow(stack: Stack, agent: requests.Session, number: int) -> None:
    ticket_id = Ticket.objects.get(number=number).pk
    cookie = f"sessionid={agent.cookies['sessionid']}"
    with ws_connect(
        f"ws://127.0.0.1:{stack.web_port}/ws/agent/",
        additional_headers={"Cookie": cookie, "Origin": stack.url},
        open_timeout=10,
    ) as socket:
        socket.send(json.dumps({"action": "subscribe", "ticket": ticket_id}))
        assert json.loads(socket.recv(timeout=10))["type"] == "subscribed"
        response = agent.post(
            f"{stack.url}/api/v1/tickets/{number}/replies/",
            json={"body_text": "After the outage.", "is_internal": True},
            headers={"X-CSRFToken": agent.cookies["csrftoken"]},
            timeout=15,
        )
        assert response.status_code == 201
        deadline = time.monotonic() + 10
        while True:
            frame = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if frame.get("type") == "event" and frame["payload"]["ticket_id"] == ticket_id:
                break


@pytest.mark.django_db(transaction=True)
def test_it_loses_and_duplicates_nothing_while_redis_is_down(stack, private_redis, smtp_sink):
    agent = _agent()
    ongoing = CustomerFactory()
    IdentityFactory(customer=ongoing, kind=IdentityKind.PHONE, value=ONGOING_PHONE)
    ongoing_ticket = TicketFactory(
        customer=ongoing, channel=Channel.SMS, status=Status.OPEN, assignee=agent
    )
    SmsNumber.objects.create(phone=OUR_NUMBER, account_sid="AC" + "1" * 32, auth_token=SMS_TOKEN)
    tickets = []
    for i in range(3):
        customer = CustomerFactory()
        IdentityFactory(customer=customer, value=f"reply{i}@example.com")
        tickets.append(TicketFactory(customer=customer, channel=Channel.EMAIL).number)
    stack.web()
    worker = stack.worker()
    traffic = Traffic(stack, _login(stack), tickets)
    traffic.round()  # one of each with Redis up
    traffic.mail()

    private_redis.stop()
    down_until = time.monotonic() + OUTAGE

    def pipe_mail() -> None:
        while time.monotonic() < down_until:
            traffic.mail()

    # Two pipes at once, as an MTA delivers: each is a whole Django start-up.
    mailers = [threading.Thread(target=pipe_mail) for _ in range(2)]
    for mailer in mailers:
        mailer.start()
    while time.monotonic() < down_until:
        traffic.round()
    for mailer in mailers:
        mailer.join(60)
    health = requests.get(f"{stack.url}/healthz", timeout=10)
    private_redis.start()

    # Redis is back: the worker lived through it, the MTA retries what it kept, and the
    # outbox relay (the beat runs it every minute) enqueues the replies left queued.
    assert worker.poll() is None, stack.log("worker")
    # Redelivered side by side, as an MTA's queue runner does: each is a Django start-up.
    deferred = [m for m, codes in traffic.mail_codes.items() if codes[-1] == 75]
    with ThreadPoolExecutor(max_workers=2) as mta:
        assert set(mta.map(traffic.deliver, deferred)) <= {0}
    stack.run(
        "from channels_app.delivery import delivery_relay; delivery_relay()",
        HELPDESK_DELIVERY_RELAY_AFTER="0",
    )
    # The stale-payload relay (every minute under beat), as if its few minutes had passed:
    # the raw-hook payloads whose processing could not be enqueued.
    stack.run(
        "from datetime import timedelta; from django.utils import timezone\n"
        "from channels_app.ingest import raw_inbound_retry_stale\n"
        "raw_inbound_retry_stale(now=timezone.now() + timedelta(minutes=10))"
    )
    replies = Message.objects.filter(body_text__in=traffic.reply_texts)

    def all_sent() -> bool:
        sent = Delivery.objects.filter(message__in=replies, status=DeliveryStatus.SENT).count()
        return sent == len(traffic.reply_texts) and len(smtp_sink.envelopes) >= sent

    wait_for(all_sent, 60, "every reply to be sent after Redis returned", every=0.5)
    time.sleep(1)  # a duplicate send would land in this second

    # Healthz said what was down, and answered at once.
    body = health.json()
    assert health.status_code == 503 and {"cache", "broker"} <= set(body["failing"])
    assert body["database"]["ok"]
    # Every way in answered 2xx; the pipe only 0 or 75.
    assert {s // 100 for s in traffic.statuses["sms"]} == {2}, traffic.statuses["sms"]
    assert set(traffic.statuses["reply"]) == {201}, traffic.statuses["reply"]
    assert set(traffic.statuses["form"]) == {302}, traffic.statuses["form"]  # to the thanks
    assert set(traffic.statuses["page"]) == {200}, traffic.statuses["page"]
    assert set(traffic.statuses["api"]) <= {200, 201}, traffic.statuses["api"]
    assert set(traffic.statuses["raw"]) <= {200, 202}, traffic.statuses["raw"]
    assert {c for codes in traffic.mail_codes.values() for c in codes} <= {0, 75}
    # Nothing lost, nothing twice.
    assert replies.count() == len(traffic.reply_texts)
    for sid in traffic.sms_sids:
        assert Message.objects.filter(channel=Channel.SMS, external_id=sid).count() == 1
    replies_on_ongoing = Message.objects.filter(ticket=ongoing_ticket, channel=Channel.SMS)
    assert replies_on_ongoing.count() == len(traffic.sms_sids) // 2
    for subject in traffic.form_subjects:
        assert Ticket.objects.filter(subject=subject).count() == 1
    for message_id in traffic.mail_ids:
        found = Message.objects.filter(channel=Channel.EMAIL, external_id__contains=message_id)
        assert found.count() == 1, message_id
    for external_id in traffic.api_ids:
        assert Message.objects.filter(channel=Channel.API, external_id=external_id).count() == 1
    for message_id in traffic.raw_ids:
        found = Message.objects.filter(channel=Channel.EMAIL, external_id__contains=message_id)
        assert found.count() == 1, message_id
    assert RawInbound.objects.filter(status=RawStatus.RECEIVED).count() == 0
    mail_messages = Message.objects.filter(channel=Channel.EMAIL, direction="inbound")
    assert mail_messages.count() == len(traffic.mail_ids) + len(traffic.raw_ids)
    sent_ids = [
        re.search(rb"^Message-ID: (\S+)", e.content, re.M | re.I).group(1)  # type: ignore[union-attr]
        for e in smtp_sink.envelopes
        if b"Reply " in e.content
    ]
    assert len(sent_ids) == len(set(sent_ids)) == len(traffic.reply_texts)
    # Live updates work again without restarting the web server: a page's websocket
    # (live.js reconnects with backoff) subscribes and gets the next change.
    _assert_live_updates_flow(stack, traffic.agent, tickets[0])
    # Every web form's acknowledgement is an outbox row written with its ticket: one whose
    # enqueue failed while Redis was down goes out with the relay, once.
    acks = [e for e in smtp_sink.envelopes if any(r.startswith("web") for r in e.rcpt_tos)]
    assert len(acks) == len(traffic.form_subjects), (len(acks), len(traffic.form_subjects))
    print(
        f"Redis down {OUTAGE:.0f} s: {len(traffic.mail_ids)} mails "
        f"(exit codes {sorted(c for v in traffic.mail_codes.values() for c in v)}), "
        f"{len(traffic.sms_sids)} SMS, {len(traffic.reply_texts)} replies, "
        f"{len(traffic.form_subjects)} forms, {len(traffic.api_ids)} API messages, "
        f"{len(traffic.raw_ids)} raw-hook mails; 0 lost, 0 duplicates"
    )
