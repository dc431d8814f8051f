"""``python manage.py matrix_bot``: the long-running Matrix bot."""

from __future__ import annotations

import asyncio
import logging
import signal

from django.core.management.base import BaseCommand, CommandError

from notifications.bot import BotCredentialsError, MatrixBot
from notifications.matrix import matrix_configured, matrix_missing

logger = logging.getLogger("notifications.bot")


class Command(BaseCommand):
    help = "Run the Matrix bot: join rooms it is invited to, answer !status <job id>."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sync-timeout-ms", type=int, default=30_000, help="Long-poll time of one sync.")
        parser.add_argument("--max-backoff-s", type=float, default=30.0, help="Longest pause after failures.")

    def handle(self, *args, sync_timeout_ms: int, max_backoff_s: float, **options) -> None:
        if not matrix_configured():
            # Not an error: a site without Matrix simply has no bot.
            logger.info("Matrix bot not started: %s not set", ", ".join(matrix_missing()))
            return
        try:
            asyncio.run(_run(MatrixBot(sync_timeout_ms=sync_timeout_ms, max_backoff_s=max_backoff_s)))
        except BotCredentialsError as exc:
            raise CommandError(f"{exc} (check DISPATCHER_MATRIX_ACCESS_TOKEN)") from exc
        logger.info("Matrix bot stopped")


async def _run(bot: MatrixBot) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await bot.run(stop)
