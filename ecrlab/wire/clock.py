"""moto's clock and ids, pointed at the lab's.

moto's services take their time from ``moto.core.utils.utcnow``, which many moto modules import by
name, and their ids from ``moto.moto_api._internal.mock_random``. Global time is never frozen or
shifted (Jupyter's event loop and the servers run on real time): one trampoline, bound once in every
loaded ``moto.*`` module, asks the lab's clock while one is set and real time otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

__all__ = ["moto_now", "point_time_at", "seed_ids"]

_real_utcnow: Callable[[], datetime] | None = None
_source: Callable[[], datetime] | None = None


def _trampoline() -> datetime:
    source = _source
    if source is not None:
        return source()
    assert _real_utcnow is not None  # bound before the trampoline is installed
    return _real_utcnow()


def point_time_at(source: Callable[[], datetime] | None) -> None:
    """Make moto's neighbours read ``source()`` (naive UTC) for the time; ``None``: real time again."""
    global _real_utcnow, _source
    import moto.core.utils as moto_utils

    if _real_utcnow is None:
        _real_utcnow = moto_utils.utcnow
    _source = source
    # Modules moto loads later import the name from moto.core.utils, which holds the trampoline by then.
    for name, module in list(sys.modules.items()):
        if name.startswith("moto") and getattr(module, "utcnow", None) is _real_utcnow:
            module.utcnow = _trampoline  # type: ignore[attr-defined]


def moto_now() -> datetime:
    """The time moto's services see now (naive UTC): the lab clock while one is set."""
    import moto.core.utils as moto_utils

    return moto_utils.utcnow()


def seed_ids(seed: int) -> None:
    """Seed moto's id generator, so ids (access keys, role ids, ...) repeat run to run."""
    from moto.moto_api._internal import mock_random

    mock_random.seed(seed)
