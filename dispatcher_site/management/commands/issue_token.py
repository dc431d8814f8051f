from django.core.management.base import BaseCommand, CommandError

from dispatcher_site.tokens import token_issue


class Command(BaseCommand):
    help = "Print a signed token for a user, for operators, demos and tests."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True, help="the user's email, used as the token subject")
        parser.add_argument("--roles", default="", help="comma-separated roles, e.g. general,job manager")
        parser.add_argument("--hours", type=float, default=24.0, help="validity in hours (default 24)")
        parser.add_argument("--matrix-room", default="", help="Matrix room id to notify (claim mxroomid)")

    def handle(self, *args, email: str, roles: str, hours: float, matrix_room: str, **options) -> None:
        if "@" not in email:
            raise CommandError(f"--email {email!r} is not an email address")
        if hours <= 0:
            raise CommandError("--hours must be positive")
        extra = {"mxroomid": matrix_room} if matrix_room else {}
        role_list = [role.strip() for role in roles.split(",") if role.strip()]
        self.stdout.write(token_issue(email=email, roles=role_list, hours=hours, extra=extra))
