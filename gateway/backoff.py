"""The waits between attempts of one step: jittered exponential backoff with a cap.

The same schedule serves every retry the engine makes (an NE that is busy, one that cannot be
reached, an undo, a read-back), and the note an order carries while it waits states the wait
actually drawn — "next attempt in 3.2 s" is then when the next attempt goes out.
"""

from __future__ import annotations

import random

from gateway.config import RetryPolicy

_MAX_DOUBLINGS = 60  # 2**60 times any sane initial wait is past any cap


class Backoff:
    """``next()`` gives the n-th wait: uniform in ``[d·(1 − jitter), d]``, where
    ``d = min(cap, initial · 2ⁿ)``; ``reset()`` starts again from the first."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self._policy = policy
        self._rng = rng
        self._n = 0

    def ceiling(self, n: int) -> float:
        """The n-th wait before jitter."""
        p = self._policy
        return min(p.backoff_max_s, p.backoff_initial_s * float(2 ** min(n, _MAX_DOUBLINGS)))

    def next(self) -> float:
        ceiling = self.ceiling(self._n)
        self._n += 1
        return self._rng.uniform(ceiling * (1 - self._policy.jitter), ceiling)

    def reset(self) -> None:
        self._n = 0
