import math

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from dispatcher_site.tokens import token_issue


class Command(BaseCommand):
    help = "Print a signed token for a user, for operators, demos and tests."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True, help="the user's email, used as the token subject")
        parser.add_argument("--roles", default="", help="comma-separated roles, e.g. general,job manager")
        parser.add_argument("--hours", type=float, default=24.0, help="validity in hours (default 24)")
        parser.add_argument("--name", default="", help="the user's name (default: the email's local part)")
        parser.add_argument("--matrix-room", default="", help="Matrix room id to notify (claim mxroomid)")

    def handle(self, *args, email: str, roles: str, hours: float, name: str, matrix_room: str, **options) -> None:
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"--email {email!r} is not an email address") from None
        if not math.isfinite(hours) or hours <= 0:
            raise CommandError("--hours must be a positive number")
        extra = {"mxroomid": matrix_room.strip()} if matrix_room.strip() else {}
        role_list = [role.strip() for role in roles.split(",") if role.strip()]
        # Only the token on stdout, so that `export ODA_TOKEN=$(... issue_token ...)` works.
        self.stdout.write(token_issue(email=email, roles=role_list, hours=hours, name=name, extra=extra))
