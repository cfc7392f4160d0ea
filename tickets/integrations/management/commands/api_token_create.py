from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tickets.integrations.models import ApiScope
from tickets.integrations.tokens import TokenError, api_token_create


class Command(BaseCommand):
    help = "Create an API token for an agent and print its secret (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the agent the token acts as")
        parser.add_argument("--name", required=True, help="what the token is for")
        parser.add_argument(
            "--scopes", required=True, help=f"comma-separated, of: {','.join(ApiScope.values)}"
        )
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model()._default_manager.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        try:
            new = api_token_create(
                owner=user,
                name=options["name"],
                scopes=options["scopes"].split(","),
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except TokenError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(new.secret)
