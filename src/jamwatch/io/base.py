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


class FormatError(ValueError):
    """A source that is not in any format jamwatch reads (the message names those tried)."""
