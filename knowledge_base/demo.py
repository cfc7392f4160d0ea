"""Demo content for the help centre: kb_demo_seed() is called by `manage.py seed_demo`."""

from typing import Any

from django.db import transaction

from knowledge_base.models import ArticleStatus, Category, SupportCategory
from knowledge_base.services import article_create, category_create
from tickets.models import Priority, Team

CATEGORIES: list[tuple[str, str]] = [
    ("Account and sign-in", "Passwords, two-step verification, profile and email changes."),
    ("Billing and payments", "Invoices, payment methods, charges and subscriptions."),
    ("Orders and shipping", "Tracking parcels, delivery times, addresses and customs."),
    ("Returns and refunds", "Sending items back, exchanges and getting your money back."),
    ("Troubleshooting", "The app and website: errors, notifications, browsers and devices."),
]

# (category index, title, excerpt, markdown body)
ARTICLES: list[tuple[int, str, str, str]] = [
    (
        0,
        "How to reset your password",
        "Forgot your password? Request a reset link from the sign-in page and choose a new one.",
        "1. Go to the **Sign in** page and click **Forgot password**.\n2. Enter the email address "
        "of your account.\n3. Open the reset email and click the link within 60 minutes.\n"
        "4. Choose a new password of at least 10 characters.\n\nNo email? Check your spam "
        "folder, and make sure you typed the address you registered with. "
        "Reset links can be used once.",
    ),
    (
        0,
        "Set up two-step verification",
        "Protect your account with an authenticator app or SMS codes at every sign-in.",
        "Two-step verification (2FA) asks for a one-time code after your password.\n\n"
        "* Open **Settings → Security → Two-step verification**.\n* Scan the QR code with an "
        "authenticator app such as Google Authenticator or 1Password.\n* Enter the six-digit code "
        "to confirm.\n\nSave your backup codes somewhere safe: they let you in if you lose your "
        "phone.",
    ),
    (
        0,
        "Change the email address on your account",
        "Update the address you sign in with and receive receipts at; we confirm the new one.",
        "Open **Settings → Profile**, enter the new email address and save. We send a "
        "confirmation link to the new address; the change takes effect once you click it. Until "
        "then you keep signing in with the old address. Receipts and order updates go to the new "
        "address after confirmation.",
    ),
    (
        0,
        "Your account is locked after too many sign-in attempts",
        "After five wrong passwords the account locks for 30 minutes to keep it safe.",
        "To protect you from password guessing, five failed sign-in attempts lock the account for "
        "30 minutes. Wait, then sign in again, or reset your password to unlock it right away. "
        "If you did not try to sign in, reset your password and turn on two-step verification.",
    ),
    (
        0,
        "Delete your account and personal data",
        "Close your account permanently and ask us to erase your personal data (GDPR).",
        "Go to **Settings → Privacy → Delete account**. We ask you to confirm by email. Deletion "
        "is permanent after 14 days; until then you can cancel it by signing in. Invoices are kept "
        "for 10 years because tax law requires it, everything else is erased.",
    ),
    (
        1,
        "Update your credit card or payment method",
        "Replace an expired card or switch to PayPal or SEPA direct debit in billing settings.",
        "Open **Billing → Payment methods** and click **Add payment method**. Enter the new card "
        "and set it as default; you can then remove the expired card. We accept Visa, Mastercard, "
        "American Express, PayPal and SEPA direct debit. Failed renewals are retried with the new "
        "method within 24 hours.",
    ),
    (
        1,
        "Download invoices and receipts",
        "Every invoice is available as a PDF in your billing history, including VAT details.",
        "Go to **Billing → History** and click **Download PDF** next to any payment. To add your "
        "company name or VAT number to future invoices, edit **Billing → Invoice details** before "
        "the next payment. Past invoices cannot be changed.",
    ),
    (
        1,
        "Why was I charged twice?",
        "A duplicate charge is usually a temporary authorisation hold that disappears in days.",
        "When a payment is retried, your bank may show a pending **authorisation hold** next to "
        "the real charge. Holds drop off within 3 to 5 business days. If both charges are still "
        "there after a week, contact us with the dates and amounts and we refund the duplicate.",
    ),
    (
        1,
        "Cancel your subscription",
        "Stop automatic renewal at any time; you keep access until the end of the paid period.",
        "Open **Billing → Subscription** and click **Cancel renewal**. You keep full access until "
        "the end of the current period and will not be charged again. You can resume before the "
        "period ends without losing anything.",
    ),
    (
        1,
        "Apply a discount code or gift card",
        "Enter promo codes at checkout; gift card balance is used before your card is charged.",
        "At checkout, click **Have a code?** and enter it. Codes are case-insensitive and one code "
        "applies per order. Gift card balance is added to your account and used automatically "
        "before your payment method. Expired codes show an error with the expiry date.",
    ),
    (
        2,
        "Track your order",
        "Follow your parcel with the tracking number from the shipping confirmation email.",
        "When your order ships we email a **tracking number** and a link to the carrier. You also "
        "find it under **Orders → Details**. Tracking can take 24 hours to show the first scan. "
        "If the status has not changed for 5 days, contact us and we open an investigation with "
        "the carrier.",
    ),
    (
        2,
        "Delivery times and shipping costs",
        "Standard delivery takes 3-5 business days; express arrives the next business day.",
        "| Option | Time | Cost |\n|---|---|---|\n| Standard | 3-5 business days | free over 50 "
        "EUR |\n| Express | next business day if ordered by 2 pm | 9.90 EUR |\n| International "
        "| 5-10 business days | from 14.90 EUR |\n\nPublic holidays and peak seasons can add a "
        "day or two.",
    ),
    (
        2,
        "Change the shipping address of an order",
        "You can edit the address until the order is packed; afterwards ask the carrier.",
        "Open **Orders**, choose the order and click **Edit address**. This works until the "
        "order status is *Packed*. After that, use the carrier's redirect service with your "
        "tracking number, or contact us and we try to intercept the parcel.",
    ),
    (
        2,
        "My parcel is marked delivered but never arrived",
        "Check with neighbours and your building first; then we trace the lost parcel.",
        "Sometimes carriers mark a parcel delivered a day early or leave it with a neighbour or a "
        "pickup point. Check the carrier's proof of delivery (photo or signature). If you still "
        "cannot find it after 48 hours, contact us: we open a trace and send a replacement or a "
        "refund when the parcel is confirmed lost.",
    ),
    (
        2,
        "Customs duties and import taxes",
        "Orders shipped outside the EU may be charged import VAT and duties by your country.",
        "Shipments outside the European Union can be subject to **import duties and VAT** "
        "collected by the carrier on delivery. The amount depends on your country's rules and the "
        "order value. We declare the real value; we cannot mark orders as gifts.",
    ),
    (
        3,
        "How to return an item",
        "Start a return from your orders page within 30 days and print the prepaid label.",
        "1. Open **Orders** and click **Return items** on the order.\n2. Choose the items and a "
        "reason.\n3. Print the prepaid return label, or show the QR code at the post office.\n4. "
        "Pack the items in their original packaging.\n\nReturns are free within 30 days of "
        "delivery for unused items.",
    ),
    (
        3,
        "When will I get my refund?",
        "Refunds are issued within 5 business days after your return reaches our warehouse.",
        "Once the return is scanned at our warehouse we inspect it and issue the refund within 5 "
        "business days to the original payment method. Card refunds can take another 3 to 10 "
        "days to appear on your statement, depending on your bank. You get an email when the "
        "refund is sent.",
    ),
    (
        3,
        "Exchange an item for another size or colour",
        "Exchanges are free: start a return and choose exchange instead of refund.",
        "Start a return as usual and choose **Exchange** as the outcome, then pick the new size "
        "or colour. We reserve the new item and ship it as soon as the return is scanned by the "
        "carrier, so you do not wait for the warehouse.",
    ),
    (
        3,
        "Items that cannot be returned",
        "Personalised goods, opened hygiene products and gift cards are excluded from returns.",
        "For health and legal reasons we cannot take back **personalised or engraved items**, "
        "opened cosmetics and hygiene products, underwear, gift cards and digital downloads. "
        "Faulty items are always covered by the warranty, whatever the category.",
    ),
    (
        3,
        "Received a damaged or wrong item",
        "Send us a photo within 14 days and we ship a replacement at no cost.",
        "Sorry about that! Contact us within 14 days of delivery with your order number and a "
        "photo of the damage or the wrong item. We ship a replacement right away and send a "
        "prepaid label for the item you received; there is no need to wait for it to arrive.",
    ),
    (
        4,
        "The app crashes or will not open",
        "Update to the latest version, restart your phone, then reinstall if it still crashes.",
        "Most crashes are fixed by updating: open the App Store or Google Play and install the "
        "latest version. Then restart your phone. If the app still closes on start, uninstall and "
        "reinstall it; your data is stored in your account and comes back when you sign in. "
        "Android 9 and iOS 15 or newer are supported.",
    ),
    (
        4,
        "I am not receiving emails from you",
        "Check spam, add our address to your contacts and confirm your email preferences.",
        "Look in your spam or promotions folder and mark our messages as *not spam*. Add "
        "support@example.com to your contacts. Under **Settings → Notifications** make sure "
        "email notifications are switched on. Corporate mail filters sometimes block automated "
        "emails: ask your IT team to allow our domain.",
    ),
    (
        4,
        "Turn push notifications on or off",
        "Choose which alerts you get on your phone in the app's notification settings.",
        "In the app, open **Settings → Notifications** and switch each type on or off: order "
        "updates, offers and account security. If you get no notifications at all, also allow "
        "them for the app in your phone's system settings.",
    ),
    (
        4,
        "Supported browsers",
        "Use a current version of Chrome, Firefox, Safari or Edge; clear the cache if pages break.",
        "The website supports the last two versions of **Chrome, Firefox, Safari and Edge**. If "
        "pages look broken or buttons do nothing, clear your browser cache and cookies, disable "
        "extensions such as ad blockers for our site, and reload.",
    ),
    (
        4,
        "Error message: payment declined",
        "Your bank refused the payment: check the card details, limit and 3-D Secure prompt.",
        "A declined payment comes from your bank, not from us. Check the card number, expiry date "
        "and security code, make sure the card has enough limit, and approve the 3-D Secure "
        "request in your banking app. If it keeps failing, try another payment method or call "
        "your bank.",
    ),
]

DRAFTS: list[tuple[int, str, str]] = [
    (1, "New pricing from next year (draft)", "Prices change on 1 January. Details to come."),
    (2, "Holiday season delivery dates (draft)", "Order by 18 December for delivery before 24."),
    (4, "Dark mode in the app (draft)", "Dark mode follows your phone's system setting."),
]

# (name, description, priority, team name: used when the demo has such a team)
SUPPORT_CATEGORIES: list[tuple[str, str, str, str]] = [
    ("Order or delivery problem", "Tracking, late or missing parcels", Priority.NORMAL, "Support"),
    ("Billing question", "Charges, invoices, refunds", Priority.NORMAL, "Billing"),
    ("I cannot sign in", "Locked out or lost access", Priority.HIGH, "Support"),
    ("Something else", "Anything we did not list", Priority.LOW, "Support"),
]


@transaction.atomic
def kb_demo_seed(*, author: Any | None = None) -> int:
    """Create the demo help centre (5 categories, 25 published articles, 3 drafts) and
    the web form's request types (routed to the demo's Support and Billing teams when they
    exist, so call it after the ticket demo). Does nothing if categories exist. Returns
    the number of articles made."""
    if Category.objects.exists():
        return 0
    categories = [
        category_create(name=name, description=description, position=i)
        for i, (name, description) in enumerate(CATEGORIES)
    ]
    made = 0
    for index, title, excerpt, body in ARTICLES:
        article_create(
            title=title,
            category=categories[index],
            body=body,
            excerpt=excerpt,
            status=ArticleStatus.PUBLISHED,
            author=author,
        )
        made += 1
    for index, title, body in DRAFTS:
        article_create(title=title, category=categories[index], body=body, author=author)
        made += 1
    for position, (name, description, priority, team) in enumerate(SUPPORT_CATEGORIES):
        SupportCategory.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "priority": priority,
                "position": position,
                "team": Team.objects.filter(name=team).first(),
            },
        )
    return made
