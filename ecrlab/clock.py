"""The lab clock: the time every resource in the sandbox is stamped with.

It is ecrlab's own clock, never the process's: Jupyter's event loop and the HTTP servers keep running
on real time while the lab's time can be moved forward (``advance``) to watch lifecycle rules act.
In deterministic mode it starts at a fixed instant and only moves when told, so notebook outputs are
byte-identical run to run; ``stamp()`` still gives successive events distinct, ordered times.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

__all__ = ["DETERMINISTIC_START", "LabClock"]

#: Where a deterministic lab's clock starts.
DETERMINISTIC_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)

Listener = Callable[[datetime, datetime], None]


class LabClock:
    """Wall time plus an offset, or (deterministic) a fixed instant plus an offset."""

    def __init__(self, deterministic: bool = False) -> None:
        self.deterministic = deterministic
        self._offset = timedelta(0)
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def now(self) -> datetime:
        """The lab's current time (timezone-aware, UTC)."""
        with self._lock:
            return self._base() + self._offset

    def stamp(self) -> datetime:
        """The time to record an event with.

        In deterministic mode each stamp moves the clock one second on, so that things created one
        after another (images pushed in a loop, say) have distinct push times in a stable order, as
        they would in real time.
        """
        with self._lock:
            at = self._base() + self._offset
            if self.deterministic:
                self._offset += timedelta(seconds=1)
            return at

    def advance(self, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
        """Move the lab's time forward and return the new time; listeners see (before, after)."""
        delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if delta < timedelta(0):
            from ecrlab.errors import LabError

            raise LabError("the lab clock only moves forward: advance() takes a positive amount of time")
        with self._lock:
            before = self._base() + self._offset
            self._offset += delta
            after = before + delta
        for listener in list(self._listeners):
            listener(before, after)
        return after

    def on_advance(self, listener: Listener) -> None:
        """Call ``listener(before, after)`` every time the clock is advanced."""
        self._listeners.append(listener)

    def utcnow_naive(self) -> datetime:
        """The lab time as moto's neighbours expect it (naive UTC)."""
        return self.now().replace(tzinfo=None)

    def _base(self) -> datetime:
        if self.deterministic:
            return DETERMINISTIC_START
        return datetime.now(timezone.utc)

    def __repr__(self) -> str:
        mode = "deterministic" if self.deterministic else "real time"
        return f"<LabClock {self.now().isoformat()} ({mode})>"
