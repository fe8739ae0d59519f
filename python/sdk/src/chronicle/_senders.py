"""Who sends a run's metric chunks to the server.

- :class:`ProcessSender` (the default): chunks are handed, as ``marshal`` frames over a pipe, to
  a helper process (``python -m chronicle._sender_main``) that encodes and posts them. Encoding
  JSON costs about a microsecond per point in CPython; in a thread it would hold the GIL that
  the training loop needs, in another process it uses another core. The helper also outlives a
  training process killed hard (it flushes what it had on end-of-input).
- :class:`ThreadSender`: encodes and posts in a daemon thread of this process. The fallback
  when a helper process cannot be started, and ``sender="thread"``.

Both send a run's chunks in order, one at a time, each with the idempotency key it was cut
with, retrying retryable failures with that same key.
"""

from __future__ import annotations

import logging
import marshal
import os
import struct
import subprocess
import sys
import threading
import time
from typing import IO, Any, Dict, List, Optional, Tuple

from ._buffer import Chunk, MetricBuffer, encode_entries
from ._transport import RetryPolicy, Transport
from .errors import ChronicleApiError, ChronicleError, ChronicleNetworkError, is_retryable

log = logging.getLogger("chronicle")

_HEADER = struct.Struct(">I")


# -- frames and errors on the pipe ------------------------------------------------------------


def write_frame(out: IO[bytes], message: Any) -> None:
    data = marshal.dumps(message)
    out.write(_HEADER.pack(len(data)) + data)


def read_frame(inp: IO[bytes]) -> Any:
    """The next message, or None at end of input."""
    head = _read_exactly(inp, _HEADER.size)
    if head is None:
        return None
    (size,) = _HEADER.unpack(head)
    body = _read_exactly(inp, size)
    if body is None:
        return None
    return marshal.loads(body)


def _read_exactly(inp: IO[bytes], n: int) -> Optional[bytes]:
    chunks: List[bytes] = []
    while n > 0:
        block = inp.read(n)
        if not block:
            return None
        chunks.append(block)
        n -= len(block)
    return b"".join(chunks)


def error_to_wire(e: BaseException) -> Dict[str, Any]:
    if isinstance(e, ChronicleApiError):
        return {"kind": "api", "message": e.message, "code": e.code, "status": e.status, "details": _plain(dict(e.details))}
    if isinstance(e, ChronicleNetworkError):
        return {"kind": "network", "message": e.message, "url": e.url, "timedOut": e.code == "TIMEOUT"}
    return {"kind": "other", "message": f"{e.__class__.__name__}: {e}"}


def error_from_wire(w: Dict[str, Any]) -> BaseException:
    if w.get("kind") == "api":
        return ChronicleApiError(w["message"], code=w["code"], status=w["status"], details=w.get("details") or {})
    if w.get("kind") == "network":
        return ChronicleNetworkError(w["message"], url=w.get("url", ""), timed_out=bool(w.get("timedOut")))
    return ChronicleError(w.get("message", "the metric sender failed"))


def _plain(v: Any) -> Any:
    """Only what marshal can carry (JSON-shaped data)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


def send_chunk(t: Transport, run_id: str, chunk: Chunk, prefixes: Dict[str, str]) -> None:
    if chunk.body is None:
        chunk.body = encode_entries(chunk.entries, prefixes)
    from urllib.parse import quote

    t.post_json(f"/api/v1/runs/{quote(run_id, safe='')}/metrics", None, encoded=chunk.body, retry=True, idempotency_key=chunk.key)


# -- in this process ----------------------------------------------------------------------------


class ThreadSender:
    """Sends one run's chunks from a daemon thread of this process."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self._buffer: Optional[MetricBuffer] = None
        # Reentrant: a SIGTERM handler may flush while this thread was in the middle of a send.
        self._send_lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: Optional[threading.Thread] = None
        self._retry_delay = 0.0
        self._prefixes: Dict[str, str] = {}

    def attach(self, buffer: MetricBuffer) -> None:
        self._buffer = buffer
        buffer.sender = self
        self._thread = threading.Thread(target=self._loop, name=f"chronicle-metrics-{buffer.run_id}", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        buffer = self._buffer
        assert buffer is not None
        while True:
            self._wake.wait(self._retry_delay or buffer.flush_interval)
            self._wake.clear()
            if self._stop:
                return
            try:
                self._drain(buffer, raise_errors=False)
            except BaseException:  # never let the sender die silently
                log.exception("chronicle: unexpected error in the metric sender")

    def _drain(self, buffer: MetricBuffer, *, raise_errors: bool) -> None:
        with self._send_lock:
            buffer.cut()
            while True:
                with buffer.lock:
                    chunk = next(iter(buffer.unacked.values()), None)
                if chunk is None:
                    return
                try:
                    send_chunk(self._t, buffer.run_id, chunk, self._prefixes)
                except Exception as e:
                    if not is_retryable(e):
                        buffer.refuse(chunk.key, e)
                        continue
                    buffer.fail(e)
                    # Later background tries back off, up to 30 s apart; flush() tries at once.
                    self._retry_delay = min(30.0, max(buffer.flush_interval, self._retry_delay * 2 or 1.0))
                    if raise_errors:
                        raise
                    return
                buffer.ack(chunk.key)
                self._retry_delay = 0.0

    def flush(self, buffer: MetricBuffer, timeout: Optional[float] = None) -> None:
        self._drain(buffer, raise_errors=True)

    def detach(self, buffer: MetricBuffer) -> None:
        self._stop = True
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(10)


# -- in a helper process --------------------------------------------------------------------------


class _Waiter:
    __slots__ = ("event", "error", "restarted")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.error: Optional[BaseException] = None
        self.restarted = False


class ProcessSender:
    """Ships chunks of every run of this process to one helper process over a pipe."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self._pid = os.getpid()
        self._buffers: Dict[str, MetricBuffer] = {}
        self._lock = threading.RLock()  # buffers, the pipe, the process
        self._proc: "Optional[subprocess.Popen[bytes]]" = None
        self._wake = threading.Event()
        self._waiters: Dict[int, Tuple[str, _Waiter]] = {}
        self._next_token = 0
        self._shipper: Optional[threading.Thread] = None
        self._closed = False
        self._ever_started = False

    # The process is started on first use, not at import or at run start.
    def _ensure_process(self) -> bool:
        """Starts the helper if it is not running; True if a new one was given every
        unacknowledged chunk (after an earlier one died)."""
        if self._proc is not None and self._proc.poll() is None:
            return False
        restarted = self._ever_started
        self._ever_started = True
        env = dict(os.environ)
        # The child imports this very package, wherever it was imported from here.
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "chronicle._sender_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        r = self._t.retry
        assert proc.stdin is not None
        write_frame(
            proc.stdin,
            (
                "hello",
                {
                    "url": self._t.base_url,
                    "token": self._t._token or "",
                    "timeout": float(self._t.timeout),
                    "attempts": r.attempts,
                    "baseDelay": r.base_delay,
                    "maxDelay": r.max_delay,
                    "parentPid": os.getpid(),
                },
            ),
        )
        proc.stdin.flush()
        self._proc = proc
        threading.Thread(target=self._read, args=(proc,), name="chronicle-sender-reader", daemon=True).start()
        if restarted:
            # The old process may have sent some of these; the same keys make the server skip them.
            for buffer in list(self._buffers.values()):
                with buffer.lock:
                    chunks = list(buffer.unacked.values())
                for chunk in chunks:
                    self._write(("chunk", buffer.run_id, chunk.key, chunk.entries))
            self._flush_pipe()
        return restarted

    def _write(self, message: Any) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        write_frame(self._proc.stdin, message)

    def _flush_pipe(self) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.flush()

    def attach(self, buffer: MetricBuffer) -> None:
        with self._lock:
            self._buffers[buffer.run_id] = buffer
            buffer.sender = self
            if self._shipper is None:
                self._shipper = threading.Thread(target=self._ship_loop, name="chronicle-sender-shipper", daemon=True)
                self._shipper.start()

    def wake(self) -> None:
        self._wake.set()

    def _ship_loop(self) -> None:
        while not self._closed:
            with self._lock:
                interval = min((b.flush_interval for b in self._buffers.values()), default=1.0)
            self._wake.wait(interval)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.ship()
            except BaseException as e:
                log.warning("chronicle: handing metrics to the sender process failed: %s", e)
                time.sleep(min(5.0, interval))

    def ship(self, only: Optional[MetricBuffer] = None) -> None:
        """Cuts what was logged into chunks and writes them to the pipe, oldest first."""
        with self._lock:
            if self._closed or self._pid != os.getpid():
                return
            buffers = [only] if only is not None else list(self._buffers.values())
            fresh = [(b, b.cut()) for b in buffers]
            if not any(chunks for _, chunks in fresh):
                return
            for attempt in (1, 2):
                try:
                    if self._ensure_process():
                        return  # the new helper got these with every other unacknowledged chunk
                    for b, chunks in fresh:
                        for chunk in chunks:
                            self._write(("chunk", b.run_id, chunk.key, chunk.entries))
                    self._flush_pipe()
                    return
                except (BrokenPipeError, OSError):
                    # The helper died: a new one gets every unacknowledged chunk, these included.
                    self._proc = None
                    if attempt == 2:
                        raise

    def _read(self, proc: "subprocess.Popen[bytes]") -> None:
        assert proc.stdout is not None
        while True:
            try:
                msg = read_frame(proc.stdout)
            except (OSError, ValueError, EOFError):
                msg = None
            if msg is None:
                break
            self._dispatch(msg)
        # The helper is gone: flushes waiting on it try again with a new one.
        with self._lock:
            waiters = list(self._waiters.values())
            self._waiters.clear()
            if self._proc is proc:
                self._proc = None
        for _, w in waiters:
            w.restarted = True
            w.event.set()

    def _dispatch(self, msg: Any) -> None:
        kind = msg[0]
        if kind == "flushed":
            _, token, err = msg
            with self._lock:
                entry = self._waiters.pop(token, None)
            if entry is not None:
                entry[1].error = error_from_wire(err) if err else None
                entry[1].event.set()
            return
        run_id, key = msg[1], msg[2]
        buffer = self._buffers.get(run_id)
        if buffer is None:
            return
        if kind == "acked":
            buffer.ack(key)
        elif kind == "lost":
            buffer.refuse(key, error_from_wire(msg[3]))
        elif kind == "failing":
            buffer.fail(error_from_wire(msg[3]))

    def flush(self, buffer: MetricBuffer, timeout: Optional[float] = None) -> None:
        """Ships what is buffered, then waits until the helper has sent all of the run's chunks
        (or could not: its error is raised and the chunks stay queued)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for _ in range(3):
            self.ship(buffer)
            with buffer.lock:
                if not buffer.unacked and not buffer.entries:
                    return
            waiter = _Waiter()
            with self._lock:
                self._next_token += 1
                token = self._next_token
                self._waiters[token] = (buffer.run_id, waiter)
                try:
                    self._ensure_process()
                    self._write(("flush", buffer.run_id, token))
                    self._flush_pipe()
                except (BrokenPipeError, OSError):
                    self._proc = None
                    self._waiters.pop(token, None)
                    continue
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not waiter.event.wait(left):
                with self._lock:
                    self._waiters.pop(token, None)
                raise ChronicleNetworkError(
                    f"metrics of run {buffer.run_id} were not all acknowledged within {timeout} s "
                    f"({buffer.pending} points pending)",
                    url=self._t.base_url,
                    timed_out=True,
                )
            if waiter.restarted:
                continue
            if waiter.error is not None:
                raise waiter.error
            return
        raise ChronicleNetworkError("the metric sender process keeps dying", url=self._t.base_url)

    def detach(self, buffer: MetricBuffer) -> None:
        with self._lock:
            self._buffers.pop(buffer.run_id, None)
            if buffer.sender is not None and buffer.sender == self:
                buffer.sender = None

    def close(self, timeout: float = 30.0) -> None:
        """End of input for the helper: it sends what it still has, then exits."""
        with self._lock:
            self._closed = True
            proc = self._proc
            self._proc = None
        self._wake.set()
        if proc is None or self._pid != os.getpid():
            return
        try:
            assert proc.stdin is not None
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


_process_senders: Dict[Tuple[Any, ...], ProcessSender] = {}
_registry_lock = threading.Lock()


def process_sender(transport: Transport) -> ProcessSender:
    """One helper process per server, token and retry settings, per process."""
    key = (os.getpid(), transport.base_url, transport._token or "", transport.timeout, transport.retry)
    with _registry_lock:
        sender = _process_senders.get(key)
        if sender is None:
            sender = _process_senders[key] = ProcessSender(transport)
        return sender


def close_all(timeout: float = 30.0) -> None:
    with _registry_lock:
        senders = [s for key, s in _process_senders.items() if key[0] == os.getpid()]
        _process_senders.clear()
    for s in senders:
        s.close(timeout)


def _after_fork_in_child() -> None:
    # The parent's helper and pipes belong to the parent; a child that logs gets its own.
    global _registry_lock
    _registry_lock = threading.Lock()
    for s in _process_senders.values():
        proc = s._proc
        if proc is not None:
            for f in (proc.stdin, proc.stdout):
                try:
                    if f is not None:
                        os.close(f.fileno())
                except OSError:
                    pass
    _process_senders.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


__all__ = ["ProcessSender", "ThreadSender", "process_sender", "close_all", "RetryPolicy"]
