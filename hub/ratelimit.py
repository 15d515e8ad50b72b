"""Rate limits of WebSocket frames: a token bucket (``rate`` frames per second sustained, ``burst`` at once) and
the refusals in a row it has made. One limiter is shared by all the sockets of a user on a process, so that
opening more sockets buys no more frames; before authentication a socket has one of its own."""

from __future__ import annotations

import time
from enum import Enum


class TokenBucket:
    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        """Spend one token if there is one."""
        moment = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (moment - self.stamp) * self.rate)
        self.stamp = moment
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def secs_to_full(self) -> float:
        """How long until the bucket is full again if nothing is taken."""
        elapsed = time.monotonic() - self.stamp
        return max(0.0, (self.burst - self.tokens) / self.rate - elapsed)


class Verdict(Enum):
    ADMIT = "admit"
    REFUSE = "refuse"  # answer rate_limited
    CLOSE = "close"  # too many refusals in a row: close the socket (4008)


class FrameLimiter:
    """A bucket and its strikes: refusals in a row, not in a lifetime, so a client that slows down is forgiven."""

    __slots__ = ("bucket", "strikes", "max_strikes")

    def __init__(self, rate: float, burst: int, max_strikes: int) -> None:
        self.bucket = TokenBucket(rate, burst)
        self.strikes = 0
        self.max_strikes = max_strikes

    def admit(self) -> Verdict:
        if self.bucket.take():
            self.strikes = 0
            return Verdict.ADMIT
        self.strikes += 1
        return Verdict.CLOSE if self.strikes > self.max_strikes else Verdict.REFUSE
