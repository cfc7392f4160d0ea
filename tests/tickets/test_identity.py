import pytest

from tickets.errors import TicketError, TicketErrorCode
from tickets.identity import normalize_email, normalize_identity, normalize_phone
from tickets.models import ContactIdentity, Customer, IdentityKind
from tickets.services import identity_add, identity_resolve


@pytest.mark.parametrize(
    "raw", ["Dana@Example.COM", "  dana@example.com ", "<dana@EXAMPLE.com>", "DANA@example.com"]
)
def test_it_lowercases_and_trims_email_addresses(raw):
    assert normalize_email(raw) == "dana@example.com"


@pytest.mark.parametrize("raw", ["", "dana", "dana@", "@example.com", "da na@example.com"])
def test_it_refuses_an_invalid_email_with_a_clear_error(raw):
    with pytest.raises(TicketError) as exc:
        normalize_email(raw)

    assert exc.value.code == TicketErrorCode.INVALID_IDENTITY
    assert "not a valid email address" in exc.value.message


@pytest.mark.parametrize(
    "raw",
    ["(415) 555-0123", "415.555.0123", "+1 415 555 0123", "1-415-555-0123", "+14155550123"],
)
def test_it_formats_us_numbers_as_e164(raw):
    assert normalize_phone(raw) == "+14155550123"


def test_it_keeps_the_country_of_an_international_number():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"


@pytest.mark.parametrize("raw", ["", "hello", "12", "+1 415 555 01234567890"])
def test_it_refuses_an_invalid_phone_number_with_a_clear_error(raw):
    with pytest.raises(TicketError) as exc:
        normalize_phone(raw)

    assert exc.value.code == TicketErrorCode.INVALID_IDENTITY
    assert "phone number" in exc.value.message


def test_it_refuses_an_empty_chat_id_and_an_unknown_kind():
    with pytest.raises(TicketError):
        normalize_identity(IdentityKind.CHAT, "   ")
    with pytest.raises(TicketError, match="Unknown identity kind"):
        normalize_identity("fax", "123")


@pytest.mark.django_db
def test_it_creates_one_customer_per_new_identity_and_reuses_it():
    first = identity_resolve(kind=IdentityKind.EMAIL, value="Dana@Example.com", display_name="D")
    again = identity_resolve(kind=IdentityKind.EMAIL, value="dana@example.com")

    assert first.pk == again.pk
    assert Customer.objects.count() == 1
    assert first.customer.name == "D"


@pytest.mark.django_db
def test_it_refuses_to_give_one_identity_to_two_customers(customer, agent):
    other = Customer.objects.create(name="Other")

    with pytest.raises(TicketError) as exc:
        identity_add(customer=other, kind=IdentityKind.EMAIL, value="DANA@example.com", actor=agent)

    assert exc.value.code == TicketErrorCode.IDENTITY_TAKEN
    assert "Merge the two customers" in exc.value.message


@pytest.mark.django_db
def test_it_adds_a_normalized_identity_for_an_agent_only(customer, agent, django_user_model):
    added = identity_add(
        customer=customer, kind=IdentityKind.PHONE, value="(415) 555-0123", actor=agent
    )
    assert added.value == "+14155550123"

    nobody = django_user_model.objects.create_user("nobody")
    with pytest.raises(TicketError) as exc:
        identity_add(customer=customer, kind=IdentityKind.PHONE, value="+14155550124", actor=nobody)
    assert exc.value.code == TicketErrorCode.NOT_AN_AGENT
    assert ContactIdentity.objects.filter(customer=customer).count() == 2
