"""The metric sender process: ``python -m chronicle._sender_main``, started by the SDK.

Reads frames from stdin (``hello``, then ``chunk`` / ``flush``), posts each run's chunks in order
with their idempotency keys, and answers on stdout (``acked``, ``lost``, ``failing``,
``flushed``). At end of input (the training process ended, however it ended) it sends what it
still has, for at most ``DRAIN_SECONDS``, then exits.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Tuple

from ._buffer import Chunk
from ._senders import error_to_wire, read_frame, send_chunk, write_frame
from ._transport import RetryPolicy, Transport
from .errors import is_retryable

DRAIN_SECONDS = 30.0
MAX_BACKOFF = 30.0


class _Run:
    __slots__ = ("chunks", "next_try", "backoff", "waiters", "last_error")

    def __init__(self) -> None:
        self.chunks: Deque[Chunk] = deque()
        self.next_try = 0.0
        self.backoff = 0.0
        self.waiters: List[int] = []
        self.last_error: Optional[Dict[str, Any]] = None


def main() -> int:
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    hello = read_frame(stdin)
    if not hello or hello[0] != "hello":
        sys.stderr.write("chronicle sender: expected a hello frame\n")
        return 2
    cfg = hello[1]
    transport = Transport(
        cfg["url"],
        cfg["token"] or None,
        timeout=cfg["timeout"],
        retry=RetryPolicy(attempts=cfg["attempts"], base_delay=cfg["baseDelay"], max_delay=cfg["maxDelay"]),
        user_agent="chronicle-python-sender",
    )
    inbox: "queue.Queue[Any]" = queue.Queue()

    def reader() -> None:
        while True:
            try:
                msg = read_frame(stdin)
            except (OSError, ValueError, EOFError):
                msg = None
            inbox.put(msg)
            if msg is None:
                return

    threading.Thread(target=reader, name="chronicle-sender-stdin", daemon=True).start()

    def answer(message: Tuple[Any, ...]) -> None:
        try:
            write_frame(stdout, message)
            stdout.flush()
        except OSError:
            pass  # the training process is gone; keep sending what we have

    runs: Dict[str, _Run] = {}
    prefixes: Dict[str, str] = {}
    eof_at: Optional[float] = None

    def handle(msg: Any) -> None:
        nonlocal eof_at
        if msg is None:
            eof_at = time.monotonic()
            return
        kind = msg[0]
        if kind == "chunk":
            _, run_id, key, entries = msg
            r = runs.setdefault(run_id, _Run())
            if any(c.key == key for c in r.chunks):
                return  # re-shipped while still queued here
            r.chunks.append(Chunk(key, entries, sum(len(e[0]) for e in entries)))
        elif kind == "flush":
            _, run_id, token = msg
            r = runs.setdefault(run_id, _Run())
            r.waiters.append(token)
            r.next_try = 0.0  # a flush tries at once, whatever the backoff said

    while True:
        now = time.monotonic()
        ready = [rid for rid, r in runs.items() if r.chunks and r.next_try <= now]
        # Answer flushes whose run has nothing left to send.
        for r in runs.values():
            if r.waiters and not r.chunks:
                for token in r.waiters:
                    answer(("flushed", token, None))
                r.waiters.clear()
        if eof_at is not None:
            pending = any(r.chunks for r in runs.values())
            if not pending:
                return 0
            if now - eof_at > DRAIN_SECONDS:
                left = sum(c.points for r in runs.values() for c in r.chunks)
                sys.stderr.write(f"chronicle sender: the server could not be reached; {left} metric points were not sent\n")
                return 1
        # Block for input only when there is nothing to send now.
        if ready:
            timeout: Optional[float] = 0.0
        else:
            waits = [r.next_try - now for r in runs.values() if r.chunks]
            timeout = max(0.0, min(waits)) if waits else (None if eof_at is None else 0.5)
        try:
            msg = inbox.get(timeout=timeout) if timeout != 0.0 else inbox.get_nowait()
            handle(msg)
            while True:  # take everything already there, so flushes see their chunks
                handle(inbox.get_nowait())
        except queue.Empty:
            pass
        for run_id in ready:
            r = runs[run_id]
            chunk = r.chunks[0]
            try:
                send_chunk(transport, run_id, chunk, prefixes)
            except Exception as e:
                wire = error_to_wire(e)
                if not is_retryable(e):
                    r.chunks.popleft()
                    answer(("lost", run_id, chunk.key, wire))
                    continue
                r.backoff = min(MAX_BACKOFF, r.backoff * 2 or 1.0)
                r.next_try = time.monotonic() + (0.5 if eof_at is not None else r.backoff)
                answer(("failing", run_id, chunk.key, wire))
                for token in r.waiters:
                    answer(("flushed", token, wire))
                r.waiters.clear()
                continue
            r.chunks.popleft()
            r.backoff = 0.0
            answer(("acked", run_id, chunk.key))


if __name__ == "__main__":
    # Ctrl-C or a SIGTERM sent to the whole process group is meant for the training process:
    # this one ends when its input does (after the training process's last flush), and sends
    # what it holds first.
    import signal

    for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        if sig is not None:
            try:
                signal.signal(sig, signal.SIG_IGN)
            except (ValueError, OSError):
                pass
    sys.exit(main())
