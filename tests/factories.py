import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from helpdesk.roles import ADMINS_GROUP, AGENTS_GROUP
from tickets.models import Channel, ContactIdentity, Customer, IdentityKind, Team, Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@staff.example")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        _apply_role(self, extracted)


def _apply_role(user: object, role: str | None) -> None:
    if role:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)  # type: ignore[attr-defined]
        if role == ADMINS_GROUP:
            user.is_staff = True  # type: ignore[attr-defined]
    user.save()  # type: ignore[attr-defined]


class AgentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n}")

    # A post-generation hook, not a plain attribute: a plain `role = ...` would be passed
    # to the model as a field and fail.
    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        _apply_role(self, extracted or AGENTS_GROUP)


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        _apply_role(self, extracted or ADMINS_GROUP)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactIdentity

    customer = factory.SubFactory(CustomerFactory)
    kind = IdentityKind.EMAIL
    value = factory.Sequence(lambda n: f"customer{n}@example.com")


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket with a number, built the way ticket_create builds it."""

    class Meta:
        model = Ticket

    subject = factory.Faker("sentence", nb_words=5)
    channel = Channel.EMAIL
    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: 500_000 + n)


# The smallest valid PNG: an image attachment or upload.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
