"""The words of the demo: people, companies and support conversations.

Plain data, read by tickets.demo. Addresses use reserved example domains (RFC 2606) and
phone numbers come from ranges set aside for fiction (+1 415 555 01xx, +44 20 7946 0xxx),
so nothing the demo holds can reach a real person.
"""

from dataclasses import dataclass

from tickets.models import Priority, Status

ORGANIZATIONS = (
    ("Northwind Traders", "northwind.example"),
    ("Globex Corporation", "globex.example"),
    ("Initech", "initech.example"),
)

# Domains of customers who write on their own behalf.
PERSONAL_DOMAINS = ("mail.example.com", "example.net", "example.org")

FIRST_NAMES = (
    "Amelia", "Omar", "Priya", "Lucas", "Hannah", "Mateo", "Chloe", "Kenji", "Fatima",
    "Noah", "Isabella", "Tomasz", "Grace", "Diego", "Aisha", "Oliver", "Mei", "Samuel",
    "Leila", "Ethan", "Sofia", "Arjun", "Zoe", "Gabriel", "Nadia", "Henry", "Yara",
    "Felix", "Elena", "Kwame", "Ingrid", "Rafael", "Ava", "Dmitri", "Lucia", "Malik",
    "Harper", "Jonas", "Sana", "Theo", "Camille", "Ibrahim",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Nguyen", "Schmidt", "Haddad", "Silva", "Kowalski", "Johansson", "Tanaka",
    "Rossi", "Murphy", "Fernandes", "Dubois", "Mensah", "Petrov", "Garcia", "Kim",
    "O'Brien", "Novak", "Larsen", "Ahmed", "Moreau", "Costa", "Walker", "Yilmaz",
    "Bauer", "Khan", "Lopez", "Fischer", "Sato", "Andersen",
)  # fmt: skip


@dataclass(frozen=True)
class Topic:
    """One kind of conversation. Texts take {first}, {agent}, {order} and {ticket}."""

    subject: str
    opener: str  # the first message, as written in an email or form
    short: str  # the same, as typed into SMS or chat
    reply: str  # the agent's first answer
    follow_up: str  # the customer's answer to it
    resolution: str  # the agent's closing reply
    thanks: str
    note: str  # an internal note between agents
    team: str  # "Support" or "Billing"
    tags: tuple[str, ...]
    priority: str = Priority.NORMAL


TOPICS = (
    Topic(
        subject="Can't log in after resetting my password",
        opener="Hi,\n\nI reset my password this morning but the login page still says "
        '"invalid credentials". I\'ve tried twice and cleared my cookies.\n\nThanks,\n{first}',
        short="hi, reset my password but still can't log in, says invalid credentials",
        reply="Hi {first},\n\nSorry about that. I've cleared the lockout on your account; "
        "please try the reset link once more and use it within 30 minutes.\n\n{agent}",
        follow_up="That worked, I'm in. Is there a way to stop it locking me out again?",
        resolution="Glad you're in! The lockout triggers after five failed attempts; a "
        "password manager avoids it. I'll close this now.\n\n{agent}",
        thanks="Thanks for the quick help!",
        note="Account was locked by the brute-force guard (5 failures in 10 min).",
        team="Support",
        tags=("login", "account"),
        priority=Priority.HIGH,
    ),
    Topic(
        subject="Order {order} hasn't arrived",
        opener="Hello,\n\nMy order {order} was due last Tuesday and the tracking page hasn't "
        "changed in four days. Could you check where it is?\n\n{first}",
        short="order {order} still not here, tracking stuck for 4 days",
        reply="Hi {first},\n\nI've opened a trace with the carrier for {order}. They usually "
        "answer within two working days and I'll update you as soon as they do.\n\n{agent}",
        follow_up="Any news from the carrier? I need it before the weekend.",
        resolution="The carrier found the parcel at their depot; it's out for delivery "
        "tomorrow. Reply here if it doesn't turn up.\n\n{agent}",
        thanks="It arrived this morning. Thank you!",
        note="Carrier trace ref TR-{order}. Reship if nothing by Friday.",
        team="Support",
        tags=("shipping", "delayed"),
    ),
    Topic(
        subject="Item arrived damaged",
        opener="Hi there,\n\nThe lamp from order {order} arrived with a cracked base. The box "
        "was dented on one corner. What are my options?\n\nBest,\n{first}",
        short="lamp from order {order} arrived cracked, what can I do?",
        reply="Hi {first},\n\nI'm sorry it arrived like that. Could you send a photo of the "
        "damage and the box? Then I can send a replacement right away.\n\n{agent}",
        follow_up="Photos attached to my last email, the base is split right through.",
        resolution="Thanks for the photos. A replacement ships today, no need to return the "
        "broken one.\n\n{agent}",
        thanks="Perfect, thanks a lot.",
        note="Second damaged lamp this week from the same warehouse: flagged to logistics.",
        team="Support",
        tags=("damaged", "replacement"),
    ),
    Topic(
        subject="CSV export is missing columns",
        opener="Hi,\n\nSince yesterday the CSV export from the reports page only has 6 "
        "columns instead of 14. Our finance team relies on it every morning.\n\n{first}",
        short="csv export lost most of its columns since yesterday",
        reply="Hi {first},\n\nThanks for the report, I can reproduce it. Our engineers are "
        "on it; in the meantime the Excel export still has every column.\n\n{agent}",
        follow_up="Thanks, the Excel export will do for now. Please let me know when it's fixed.",
        resolution="The fix went out this morning and the CSV export has all 14 columns "
        "again. Sorry for the trouble.\n\n{agent}",
        thanks="Confirmed, all columns are back.",
        note="Regression from the reports refactor; engineering ticket ENG-2291.",
        team="Support",
        tags=("bug", "reports"),
        priority=Priority.HIGH,
    ),
    Topic(
        subject="Webhook deliveries failing with 401",
        opener="Hello,\n\nAll webhook calls to our endpoint have failed with 401 since we "
        "rotated our API key. We updated the key in the dashboard.\n\n{first}",
        short="webhooks failing with 401 since we rotated our api key",
        reply="Hi {first},\n\nWebhooks are signed with the signing secret, not the API key. "
        "Could you check that your endpoint uses the secret from Settings > Webhooks?\n\n{agent}",
        follow_up="We were using the old secret. Updated it but a few events are still queued.",
        resolution="Queued events are retried for 24 hours, so they'll all arrive. I've "
        "replayed the failed ones to be safe.\n\n{agent}",
        thanks="Everything is green now. Thanks!",
        note="Customer confused API key and signing secret. Docs could be clearer here.",
        team="Support",
        tags=("api", "webhooks"),
        priority=Priority.HIGH,
    ),
    Topic(
        subject="Mobile app crashes on startup",
        opener="Hi,\n\nSince the last update the Android app closes as soon as I open it. "
        "I've restarted the phone and reinstalled.\n\n{first}",
        short="android app crashes right after opening since the update",
        reply="Hi {first},\n\nThanks for letting us know. Which Android version and phone "
        "model are you on? A fix for some Android 12 devices is in review.\n\n{agent}",
        follow_up="It's a Pixel 5 on Android 12.",
        resolution="Version 4.8.1 with the fix is now in the Play Store. Updating should "
        "sort it out.\n\n{agent}",
        thanks="Updated and it opens fine. Cheers.",
        note="Known crash, release 4.8.1 pending store review.",
        team="Support",
        tags=("bug", "mobile"),
    ),
    Topic(
        subject="Lost my phone, can't get past two-factor",
        opener="Hello,\n\nMy phone was stolen and I can't complete two-factor login. I have "
        "my backup email. How can I get back into my account?\n\n{first}",
        short="phone stolen, locked out by 2FA, help",
        reply="Hi {first},\n\nFor your security we verify identity before removing two-factor. "
        "I've sent a verification link to the email on file.\n\n{agent}",
        follow_up="Done, I clicked the link.",
        resolution="Verified. Two-factor is now off; please set it up again on your new "
        "phone after logging in.\n\n{agent}",
        thanks="Back in. Thank you so much.",
        note="Identity verified via email on file and last invoice amount.",
        team="Support",
        tags=("2fa", "account"),
        priority=Priority.URGENT,
    ),
    Topic(
        subject="Feature request: dark mode",
        opener="Hi team,\n\nAny plans for a dark mode in the dashboard? We work night shifts "
        "and the white screens are harsh.\n\nThanks,\n{first}",
        short="any plans for dark mode?",
        reply="Hi {first},\n\nGreat suggestion: I've added your vote to the request. It's "
        "on the roadmap for next quarter.\n\n{agent}",
        follow_up="Good to hear. Is there a beta I could join?",
        resolution="I've added you to the beta list; you'll get an email when it opens.\n\n{agent}",
        thanks="Great, thanks!",
        note="+1 for dark mode (now 48 votes).",
        team="Support",
        tags=("feature-request",),
        priority=Priority.LOW,
    ),
    Topic(
        subject="Please delete my account and data",
        opener="Hello,\n\nUnder GDPR I'd like my account and all personal data deleted. "
        "Please confirm when done.\n\n{first}",
        short="please delete my account and all my data (gdpr)",
        reply="Hi {first},\n\nWe've received your request. Deletion completes within 30 days "
        "and I'll confirm here when it's done.\n\n{agent}",
        follow_up="Thanks. Will I still get marketing emails meanwhile?",
        resolution="Your account and data have been deleted, and you were removed from all "
        "mailing lists straight away.\n\n{agent}",
        thanks="Thank you.",
        note="Erasure request logged in the privacy register.",
        team="Support",
        tags=("gdpr", "account"),
    ),
    Topic(
        subject="Charged twice for my subscription",
        opener="Hi,\n\nMy card statement shows two charges of $49.00 on the same day for my "
        "monthly plan. Can you refund one?\n\n{first}",
        short="got charged twice ($49) this month, can you refund one?",
        reply="Hi {first},\n\nYou're right, the renewal ran twice. I've refunded the "
        "duplicate $49.00; it can take 5 to 10 days to show on your statement.\n\n{agent}",
        follow_up="Thanks. Can you make sure it doesn't happen next month?",
        resolution="The duplicate came from a payment retry bug that is now fixed. Next "
        "month will be charged once.\n\n{agent}",
        thanks="Refund showed up today, thanks.",
        note="Duplicate charge from the retry job; refund issued in the payment dashboard.",
        team="Billing",
        tags=("billing", "refund"),
        priority=Priority.HIGH,
    ),
    Topic(
        subject="Need a copy of invoice for March",
        opener="Hello,\n\nOur accountant needs the March invoice with our VAT number on it. "
        "Could you send a copy?\n\nKind regards,\n{first}",
        short="can you send the march invoice with our vat number?",
        reply="Hi {first},\n\nHere's the March invoice. I couldn't find a VAT number on your "
        "account; if you send it I'll reissue the invoice with it.\n\n{agent}",
        follow_up="Our VAT number is GB 123 4567 89.",
        resolution="Added. The reissued March invoice with your VAT number is attached.\n\n{agent}",
        thanks="Got it, thank you.",
        note="VAT number added to billing profile.",
        team="Billing",
        tags=("billing", "invoice"),
        priority=Priority.LOW,
    ),
    Topic(
        subject="Card declined on renewal",
        opener="Hi,\n\nI got an email saying my renewal failed because the card was declined, "
        "but the card works everywhere else.\n\n{first}",
        short="renewal says card declined but the card is fine",
        reply="Hi {first},\n\nThe bank declined it with 'do not honour', which usually means "
        "a fraud check on their side. Could you call them and then try again?\n\n{agent}",
        follow_up="Called the bank, they cleared it. Should I retry now?",
        resolution="I've retried the charge and it went through. You're all set.\n\n{agent}",
        thanks="Great, thanks.",
        note="Decline code 05. Grace period extended by 7 days.",
        team="Billing",
        tags=("billing", "payment"),
    ),
    Topic(
        subject="Upgrade from Team to Business plan",
        opener="Hello,\n\nWe'd like to move from the Team plan to Business for 25 seats. Is "
        "the price prorated for the current month?\n\n{first}",
        short="want to upgrade to business for 25 seats, is it prorated?",
        reply="Hi {first},\n\nYes, upgrades are prorated to the day. I've sent a quote for 25 "
        "Business seats to your email.\n\n{agent}",
        follow_up="Quote approved, please go ahead.",
        resolution="Done: your workspace is on Business with 25 seats. The prorated amount "
        "is on your next invoice.\n\n{agent}",
        thanks="Thanks, everyone can see the new features.",
        note="Upsell: Team -> Business, 25 seats. Tell the account manager.",
        team="Billing",
        tags=("billing", "upgrade"),
    ),
    Topic(
        subject="Cancel my subscription",
        opener="Hi,\n\nPlease cancel my subscription at the end of this billing period. "
        "We've moved to a different tool.\n\n{first}",
        short="please cancel my subscription at the end of the period",
        reply="Hi {first},\n\nSorry to see you go. Your subscription is set to end on the last "
        "day of this period and you won't be charged again.\n\n{agent}",
        follow_up="Can I export our data before it ends?",
        resolution="Yes: Settings > Export gives you everything as a zip until the last "
        "day. Thanks for being with us.\n\n{agent}",
        thanks="Thanks for the help.",
        note="Churn reason: moved to competitor. Offered 20% discount, declined.",
        team="Billing",
        tags=("billing", "cancellation"),
    ),
    Topic(
        subject="API rate limit too low for our import",
        opener="Hello,\n\nWe're importing 200k records through the API and keep hitting 429s. "
        "Can the rate limit be raised for a day?\n\n{first}",
        short="hitting 429s on api import, can you raise the limit for a day?",
        reply="Hi {first},\n\nI've raised your limit to 50 requests per second for the next "
        "48 hours. Batching up to 100 records per call also helps.\n\n{agent}",
        follow_up="Batching works great, import is halfway through.",
        resolution="Your limit is back to normal now that the import has finished.\n\n{agent}",
        thanks="All imported. Thanks for the help.",
        note="Temporary rate limit override expires in 48 h.",
        team="Support",
        tags=("api", "rate-limit"),
        priority=Priority.HIGH,
    ),
    Topic(
        subject="Wrong size delivered",
        opener="Hi,\n\nI ordered the jacket in M (order {order}) but received an L. Can I "
        "swap it?\n\nThanks,\n{first}",
        short="got size L instead of M for order {order}, can I swap?",
        reply="Hi {first},\n\nOf course. I've emailed you a prepaid return label; the M ships "
        "as soon as the carrier scans the return.\n\n{agent}",
        follow_up="Dropped the parcel off today.",
        resolution="The return was scanned and your M is on its way.\n\n{agent}",
        thanks="Fits perfectly, thanks!",
        note="Picking error at warehouse B.",
        team="Support",
        tags=("returns", "shipping"),
    ),
)

# Replies to a ticket's reference after it was closed: each opens a follow-up ticket.
FOLLOW_UP_TEXTS = (
    "Hi again,\n\nThe same problem is back since this morning. Could you take another look?",
    "Hello,\n\nSorry to reopen this, but it happened again today.",
)

# The demo's shared macros: (name, body, set status, set priority, team name, tags). The
# text uses the placeholders an agent sees listed on /agent/macros/.
DEMO_MACROS = (
    (
        "Ask for order number",
        "Hi {{ customer.first_name }},\n\nThanks for getting in touch. Could you send me your "
        "order number (it starts with #, in your confirmation email)? Then I can look into "
        "it right away.\n\nBest,\n{{ agent.first_name }}",
        Status.PENDING,
        "",
        "",
        "",
    ),
    (
        "Refund issued",
        "Hi {{ customer.first_name }},\n\nI have issued your refund today. It shows on your "
        "statement within 3 to 5 business days.\n\nBest,\n{{ agent.first_name }}",
        Status.SOLVED,
        "",
        "",
        "refund",
    ),
    (
        "Shipping delay apology",
        "Hi {{ customer.first_name }},\n\nI am sorry your parcel is late. Our carrier has a "
        "backlog this week; your order is on its way and I will keep an eye on it. You will "
        "hear from me again if it has not arrived by Friday.\n\nBest,\n{{ agent.first_name }}",
        Status.PENDING,
        "",
        "",
        "shipping",
    ),
    (
        "Escalate to Billing",
        "Hi {{ customer.first_name }},\n\nI have passed your question to our billing team, "
        "who can see your invoices and payments. They will reply on this ticket "
        "(#{{ ticket.number }}).\n\nBest,\n{{ agent.first_name }}",
        "",
        "",
        "Billing",
        "billing",
    ),
    (
        "Password reset steps",
        "Hi {{ customer.first_name }},\n\nTo reset your password: open the sign-in page, "
        'choose "Forgot password", enter {{ customer.email }} and follow the link we email '
        "you (it works for an hour). Let me know if the email does not arrive.\n\nBest,\n"
        "{{ agent.first_name }}",
        Status.PENDING,
        "",
        "",
        "account",
    ),
    (
        "Close: duplicate",
        "Hi {{ customer.first_name }},\n\nThis looks like the same request as another ticket "
        "we are already working on, so I am closing this one to keep everything in one "
        "place. You will hear from us there.\n\nBest,\n{{ agent.first_name }}",
        Status.SOLVED,
        "",
        "",
        "duplicate",
    ),
    (
        "Need a photo of the damage",
        "Hi {{ customer.first_name }},\n\nI am sorry the item arrived damaged. Could you "
        "reply with a photo of the item and of the box? Then I will send a replacement.\n\n"
        "Best,\n{{ agent.first_name }}",
        Status.PENDING,
        "",
        "",
        "damaged",
    ),
    (
        "Urgent: outage acknowledged",
        "Hi {{ customer.first_name }},\n\nThanks for the report. We know about the problem "
        "and are working on it now; I will update this ticket as soon as it is fixed.\n\n"
        "Best,\n{{ agent.first_name }}",
        "",
        Priority.URGENT,
        "",
        "outage",
    ),
    (
        "Solved: glad it works",
        "Hi {{ customer.first_name }},\n\nGreat to hear it works now. I am marking this "
        "request as solved; just reply if anything else comes up.\n\nBest,\n"
        "{{ agent.first_name }}",
        Status.SOLVED,
        "",
        "",
        "",
    ),
)
