"""A progress bar for management commands.

On a terminal, tqdm redraws one line in place; into a file or a pipe it writes a
plain line at every tenth of the way, so cron mails and CI logs stay short but
still show that long work is moving.

Commands pass their ``self.stderr``: Django's ``OutputWrapper`` ends every write
with a newline and styles stderr as errors on a terminal, so the bar writes to
the stream underneath it instead.
"""

from __future__ import annotations

from typing import TextIO

from tqdm import tqdm


class ProgressBar:
    def __init__(self, stream: TextIO, *, label: str = "", enabled: bool = True, tty: bool | None = None):
        # OutputWrapper keeps the real stream in ``_out`` (it has no public name for it).
        self.stream = getattr(stream, "_out", stream)
        self.label = label
        self.enabled = enabled
        self.tty = _isatty(self.stream) if tty is None else tty
        self._last_tenth = -1
        self._bar: tqdm | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self.tty:
            self._redraw(done, total)
            return
        fraction = min(done / total, 1.0)
        tenth = int(fraction * 10)
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(f"{fraction:4.0%}  {done}/{total} {self.label}".rstrip() + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _redraw(self, done: int, total: int) -> None:
        if self._bar is None:
            # mininterval=0: the commands report a step per batch, each worth showing.
            self._bar = tqdm(total=total, file=self.stream, unit=f" {self.label}".rstrip(), mininterval=0)
        self._bar.total = total
        self._bar.update(done - self._bar.n)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stream-like object without a terminal
        return False
