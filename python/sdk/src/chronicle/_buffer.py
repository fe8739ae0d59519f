"""The metric buffer of one run: what the training loop appended, cut into keyed chunks.

The loop only appends ``(values, step, timestamp)`` to a deque (atomic under the GIL, no lock).
A sender (``_senders.py``) takes the entries off in chunks of at most ``max_batch_points``
points. Each chunk gets its idempotency key when it is cut and keeps it until the server has
acknowledged it, whoever sends it and however often: a chunk whose answer was lost, or that a
restarted sender process sends again, is never written twice.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from bisect import bisect_right
from collections import OrderedDict, deque
from itertools import accumulate, islice
from operator import itemgetter
from typing import Callable, Deque, Dict, List, Optional, Protocol, Tuple

from .errors import ChronicleBufferFullError

#: One ``run.log`` call: its values (already checked), step (None: the server's 0) and timestamp
#: (ms since the epoch; a float until the sender formats it with %d).
Entry = Tuple[Dict[str, float], Optional[int], float]

#: About 80 bytes a point on the wire: 100k points is an 8 MB request.
MAX_BATCH_POINTS = 100_000

_values_of = itemgetter(0)

_SPECIAL = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}


class Chunk:
    __slots__ = ("key", "entries", "points", "body")

    def __init__(self, key: str, entries: List[Entry], points: int) -> None:
        self.key = key
        self.entries = entries
        self.points = points
        #: The encoded request body, once a sender in this process encoded it.
        self.body: Optional[bytes] = None


def encode_entries(entries: List[Entry], prefixes: Optional[Dict[str, str]] = None) -> bytes:
    """The bulk endpoint's body: a JSON array of ``{key, value, step?, timestamp}`` points.

    Written by hand because it is the sender's hot loop: the step and timestamp are formatted
    once per entry, each key's JSON once per batch.
    """
    if prefixes is None:
        prefixes = {}
    parts: List[str] = []
    for values, step, ts in entries:
        tail = ',"timestamp":%d}' % ts if step is None else ',"step":%d,"timestamp":%d}' % (step, ts)
        for k, v in values.items():
            prefix = prefixes.get(k)
            if prefix is None:
                prefix = prefixes[k] = '{"key":' + json.dumps(k, ensure_ascii=False) + ',"value":'
            r = repr(v)
            if r[-1] == "n" or r[-1] == "f":  # nan, inf, -inf: JSON has no such numbers
                r = _SPECIAL.get(r, r)
            parts.append(prefix + r + tail)
    return ("[" + ",".join(parts) + "]").encode("utf-8")


class MetricBuffer:
    """Points logged to one run and not yet acknowledged by the server."""

    def __init__(
        self,
        run_id: str,
        *,
        flush_interval: float = 1.0,
        max_batch_points: int = 5000,
        max_buffered_points: int = 200_000,
        on_error: Optional[Callable[[BaseException], None]] = None,
    ) -> None:
        self.run_id = run_id
        self.flush_interval = max(0.01, float(flush_interval))
        # Capped so that a request stays well under the server's body limit (64 MiB by default).
        self.max_batch_points = min(MAX_BATCH_POINTS, max(1, int(max_batch_points)))
        self.max_buffered_points = max(self.max_batch_points, int(max_buffered_points))
        self.on_error = on_error
        self.entries: Deque[Entry] = deque()
        # `appended` is written by the logging thread only; the others under `lock`.
        self.appended = 0
        self.taken = 0
        self.acked = 0
        self.dropped = 0
        self.batches_sent = 0
        # Reentrant: a SIGTERM handler may flush while the interrupted thread holds it.
        self.lock = threading.RLock()
        #: Chunks cut and not yet acknowledged, oldest first, by idempotency key.
        self.unacked: "OrderedDict[str, Chunk]" = OrderedDict()
        #: Points the server refused (not retryable): raised once by the run's next call.
        self.lost: Optional[BaseException] = None
        #: The last retryable failure; cleared by the next acknowledged chunk.
        self.failing: Optional[BaseException] = None
        self.sender: Optional["SenderLike"] = None
        #: `log` calls `wake` once `appended` reaches this: a batch is due, or the buffer is full.
        self.horizon = self.max_batch_points

    def _move_horizon(self) -> None:
        self.horizon = min(self.taken + self.max_batch_points, self.acked + self.dropped + self.max_buffered_points)

    @property
    def pending(self) -> int:
        """Points logged and not yet acknowledged (or refused)."""
        return self.appended - self.acked - self.dropped

    # -- the logging thread --------------------------------------------------------------------

    def wake(self) -> None:
        """Called by `log`, before it appends, once a batch's worth is waiting; blocks (or raises
        ChronicleBufferFullError) while the buffer is full."""
        sender = self.sender
        if sender is not None:
            sender.wake()
        while self.pending >= self.max_buffered_points:
            # Backpressure: a loop logging faster than the server ingests waits here, but a
            # server that stays down does not hang training: the calling log() is refused.
            failing = self.failing
            if failing is not None:
                raise ChronicleBufferFullError(
                    f"{self.pending} metric points are waiting for the server, which cannot be reached "
                    f"({failing}); the points of this call were not recorded"
                ) from failing
            if sender is not None:
                sender.wake()
            time.sleep(0.001)

    # -- senders -------------------------------------------------------------------------------

    def cut(self) -> List[Chunk]:
        """Takes the entries logged so far off the deque as new chunks (kept until acknowledged).

        Runs in a sender thread of the training process, so it avoids per-entry Python code:
        the entries are popped, counted and split by C-level iterators (an entry is never split;
        one larger than a batch travels alone).
        """
        entries = self.entries
        limit = self.max_batch_points
        with self.lock:
            n = len(entries)  # only this method pops, so n entries are there to take
            if n == 0:
                return []
            taken = list(islice(iter(entries.popleft, None), n))
            ends = list(accumulate(map(len, map(_values_of, taken))))
            fresh: List[Chunk] = []
            start, base = 0, 0
            while start < n:
                stop = bisect_right(ends, base + limit, start)
                if stop == start:
                    stop = start + 1
                chunk = Chunk(uuid.uuid4().hex, taken[start:stop], ends[stop - 1] - base)
                self.unacked[chunk.key] = chunk
                fresh.append(chunk)
                base = ends[stop - 1]
                start = stop
            self.taken += base
            self._move_horizon()
        return fresh

    def ack(self, key: str) -> None:
        with self.lock:
            chunk = self.unacked.pop(key, None)
            if chunk is None:
                return
            self.acked += chunk.points
            self.batches_sent += 1
            self.failing = None
            self._move_horizon()

    def refuse(self, key: str, error: BaseException) -> None:
        """The server refused the chunk outright (bad input, deleted run, no permission)."""
        with self.lock:
            chunk = self.unacked.pop(key, None)
            if chunk is None:
                return
            self.dropped += chunk.points
            self.lost = error
            self._move_horizon()
        self.report(error)

    def fail(self, error: BaseException) -> None:
        """A retryable failure: the chunk is kept and sent again later with the same key."""
        self.failing = error
        self.report(error)

    def report(self, e: BaseException) -> None:
        if self.on_error is not None:
            try:
                self.on_error(e)
            except Exception:  # a failing callback must not stop the sender
                import logging

                logging.getLogger("chronicle").exception("chronicle: on_flush_error raised")
        else:
            import logging

            logging.getLogger("chronicle").warning(
                "chronicle: sending metrics of run %s failed (%s); %d points are kept", self.run_id, e, self.pending
            )

    def take_lost(self) -> Optional[BaseException]:
        lost, self.lost = self.lost, None
        return lost


class SenderLike(Protocol):
    """What the senders (``_senders.py``) offer a buffer."""

    def attach(self, buffer: MetricBuffer) -> None: ...
    def wake(self) -> None: ...
    def flush(self, buffer: MetricBuffer, timeout: Optional[float] = None) -> None: ...
    def detach(self, buffer: MetricBuffer) -> None: ...
