"""What every reader shares: the report of what it read and rejected, and the format error."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class ReadReport:
    """What a reader saw in one source: frames kept and rejects counted by reason."""

    source: str
    format: str = ""
    frames: int = 0
    bytes_read: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    #: Earliest and latest frame time read (UTC ns), None before any timed frame.
    first_ns: int | None = None
    last_ns: int | None = None
    #: The receiver clock of a Beast or AVR recording ("free" or "gps"; "" for others).
    clock: str = ""
    #: How the recording's start was found: "given", or "derived" from the file's
    #: modification time minus the recording's span ("" when the format carries its times).
    start: str = ""
    #: Receiver restarts (counter jumps back) and frames with no time stamp of their own.
    restarts: int = 0
    untimed: int = 0

    def saw_times(self, lo: int, hi: int) -> None:
        """Widen the time span read to include [lo, hi] (UTC ns)."""
        self.first_ns = lo if self.first_ns is None else min(self.first_ns, lo)
        self.last_ns = hi if self.last_ns is None else max(self.last_ns, hi)


class FormatError(ValueError):
    """A source that is not in any format jamwatch reads (the message names those tried;
    ``why``, when given, is what ruled the last of them out)."""

    def __init__(self, message: str, why: str = "") -> None:
        super().__init__(message)
        self.why = why
