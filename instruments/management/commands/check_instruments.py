from django.core.management.base import BaseCommand, CommandError

from dispatcher_site.progress import ProgressBar
from instruments.backends import backends_check


class Command(BaseCommand):
    help = (
        "Reach the backend of every enabled instrument through its adapter and report how each stands. "
        "Exit code 0 when all are up, 1 when any is down or a named instrument is not enabled."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--instrument", action="append", metavar="NAME", help="check only this instrument (repeatable)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (on stderr)")

    def handle(self, *args, instrument: list[str] | None, no_progress: bool, **options) -> None:
        bar = ProgressBar(self.stderr, label="instruments", enabled=not no_progress)
        results = backends_check(names=instrument, progress=bar)
        bar.finish()
        for result in results:
            state = "ok  " if result.ok else "DOWN"
            line = f"{state} {result.instrument} ({result.kind}, {result.seconds * 1000:.0f} ms): {result.text}"
            self.stdout.write(self.style.SUCCESS(line) if result.ok else self.style.ERROR(line))
        missing = sorted(set(instrument or ()) - {result.instrument for result in results})
        down = [result.instrument for result in results if not result.ok]
        if missing:
            raise CommandError(f"not enabled or not installed: {', '.join(missing)}")
        if down:
            raise CommandError(f"{len(down)} of {len(results)} backend(s) down: {', '.join(down)}")
        self.stdout.write(f"All {len(results)} backend(s) answered.")
