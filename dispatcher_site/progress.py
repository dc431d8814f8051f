"""A progress bar for management commands, without a dependency.

On a terminal it redraws one line (``[#####.....]  50%  100/200 jobs``); into a
file or a pipe it writes a plain line at every tenth of the way, so cron mails
and CI logs stay short but still show that long work is moving.
"""

from __future__ import annotations

from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, stream: TextIO, *, label: str = "", enabled: bool = True, tty: bool | None = None):
        self.stream = stream
        self.label = label
        self.enabled = enabled
        self.tty = stream.isatty() if tty is None else tty
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        fraction = min(done / total, 1.0)
        if self.tty:
            self._redraw(done, total, fraction)
            return
        tenth = int(fraction * 10)
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(f"{self._text(done, total, fraction)}\n")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _redraw(self, done: int, total: int, fraction: float) -> None:
        self.stream.write("\r" + self._text(done, total, fraction))
        self.stream.flush()

    def _text(self, done: int, total: int, fraction: float) -> str:
        filled = int(fraction * WIDTH)
        bar = "#" * filled + "." * (WIDTH - filled)
        return f"[{bar}] {fraction:4.0%}  {done}/{total} {self.label}".rstrip()
