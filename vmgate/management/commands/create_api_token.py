"""``manage.py create_api_token USERNAME [--name NAME]``: prints the new key alone on its last line."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from vmgate.models import APIToken


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default=None, help="Token name (default: cli-N).")

    def handle(self, *args, username, name, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist as exc:
            raise CommandError(f"No user {username!r}.") from exc
        if name is None:
            n = APIToken.objects.filter(user=user).count() + 1
            name = f"cli-{n}"
            while APIToken.objects.filter(user=user, name=name).exists():
                n += 1
                name = f"cli-{n}"
        try:
            token, key = APIToken.issue(user, name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        role = getattr(getattr(user, "membership", None), "role", "no tenant")
        self.stderr.write(f"Token “{token.name}” for {username} ({role}). Key:")
        self.stdout.write(key)
