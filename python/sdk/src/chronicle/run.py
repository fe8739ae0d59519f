"""A run being logged to."""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Type, Union

from . import _shutdown
from ._buffer import MetricBuffer
from ._senders import ProcessSender, ThreadSender, process_sender
from ._transport import RetryPolicy
from ._values import KeyValues, check_key, check_step, check_timestamp, coerce_value
from .errors import ChronicleInputError, ChronicleRunStateError
from .system_metrics import SystemMetricsThread
from .types import DatasetVersion, ModelVersion, RunInfo, RunInput, RunStats, UploadedArtifact

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger("chronicle")

_NUMBER = (float, int)
_seq = itertools.count()
_time = time.time

TERMINAL_STATUSES = ("FINISHED", "FAILED", "KILLED")


class Run:
    """A run started (or resumed) by this process.

    Metrics are buffered and sent in the background; params, tags, inputs and artifacts are
    written at once. Use it as a context manager: on a normal exit the run ends FINISHED, on an
    exception FAILED (KILLED for Ctrl-C), after everything logged was sent.
    """

    def __init__(
        self,
        client: "Client",
        info: RunInfo,
        *,
        flush_interval: float = 1.0,
        max_batch_points: int = 5000,
        max_buffered_points: int = 200_000,
        on_flush_error: Optional[Callable[[BaseException], None]] = None,
        system_metrics: bool = False,
        system_metrics_interval: float = 10.0,
        sender: Optional[str] = None,
    ) -> None:
        self._client = client
        self.id = info.id
        self.experiment_id = info.experiment_id
        self.name = info.name
        self.parent_run_id = info.parent_run_id
        self._info = info
        self._state = "active"
        self._state_lock = threading.Lock()
        self._owner_pid = os.getpid()
        self._started_seq = next(_seq)
        self._known_keys: Set[str] = set()
        self._buffer = MetricBuffer(
            info.id,
            flush_interval=flush_interval,
            max_batch_points=max_batch_points,
            max_buffered_points=max_buffered_points,
            on_error=on_flush_error,
        )
        # Bound once: the hot path saves the attribute lookups.
        self._append = self._buffer.entries.append
        self._sender = _make_sender(client, sender)
        self._sender.attach(self._buffer)
        self._system: Optional[SystemMetricsThread] = None
        _shutdown.track(self)
        if system_metrics:
            self._system = SystemMetricsThread(self, system_metrics_interval)
            self._system.start()

    def __repr__(self) -> str:
        return f"<chronicle.Run {self.id} {self.name!r} ({self._state})>"

    # -- metrics: the hot path -----------------------------------------------------------------

    def log(self, metrics: Mapping[str, Any], step: Optional[int] = None, *, timestamp: Optional[int] = None) -> None:
        """Buffers one point per key, all with the same step and timestamp (now, in ms, unless given).

        Costs the caller a few microseconds: the points are sent in the background (by a helper
        process, by default). Raises ChronicleInputError for a bad key or value (nothing of the
        call is kept), and the error of points the server refused earlier, once.
        """
        if self._state != "active" or self._buffer.lost is not None:
            self._check_writable()
        known = self._known_keys
        try:
            values = dict(metrics)  # a copy: the caller may reuse its dict for the next step
        except (TypeError, ValueError):
            raise ChronicleInputError(f"metrics must be a mapping of key to number, not {type(metrics).__name__}") from None
        for k, v in values.items():
            if k not in known or v.__class__ not in _NUMBER:
                values = self._checked(values)
                break
        if step is not None and step.__class__ is not int:
            step = check_step(step)
        if timestamp is None:
            ts = _time() * 1000  # float ms: the sender truncates it, off this thread
        else:
            ts = check_timestamp(timestamp)
        buf = self._buffer
        if buf.appended >= buf.horizon:
            buf.wake()  # a batch is due; waits (or raises) only while the buffer is full
        self._append((values, step, ts))
        buf.appended += len(values)

    def _checked(self, values: Dict[str, Any]) -> Dict[str, float]:
        """The slow path of `log`: new keys are checked (once each), non-float values converted."""
        out: Dict[str, float] = {}
        for k, v in values.items():
            if k not in self._known_keys:
                check_key("metric", k)
            out[k] = v if v.__class__ in _NUMBER else coerce_value(k, v)
        # Learned only once the whole call is valid, so a refused call leaves no trace.
        self._known_keys.update(out)
        return out

    def log_metric(self, key: str, value: Any, step: Optional[int] = None, *, timestamp: Optional[int] = None) -> None:
        self.log({key: value}, step, timestamp=timestamp)

    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends everything logged so far and waits for the server to acknowledge it.

        Raises the transport's error if the server still cannot be reached (the points stay
        buffered and are retried), or the error of points the server refused.
        """
        sender = self._buffer.sender
        if sender is not None:
            sender.flush(self._buffer, timeout)
        lost = self._buffer.take_lost()
        if lost is not None:
            raise lost

    @property
    def stats(self) -> RunStats:
        b = self._buffer
        return RunStats(
            logged_points=b.appended,
            sent_points=b.acked,
            pending_points=b.pending,
            refused_points=b.dropped,
            batches_sent=b.batches_sent,
        )

    def _check_writable(self) -> None:
        if self._state != "active":
            raise ChronicleRunStateError(f"run {self.id} is {self._state}; start a new run to log more")
        lost = self._buffer.take_lost()
        if lost is not None:
            raise lost

    # -- params, tags ------------------------------------------------------------------------

    def log_params(self, params: KeyValues) -> None:
        """Params are immutable: logging a different value for a logged key is BAD_USER_INPUT."""
        self._check_writable()
        self._client._runs_log_params(self.id, params)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def set_tags(self, tags: KeyValues) -> None:
        self._check_writable()
        self._client._runs_set_tags(self.id, tags)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    # -- lineage, artifacts, models --------------------------------------------------------------

    def use_dataset(
        self, dataset: Union[str, DatasetVersion], version: Union[int, str, None] = None, *, role: str = "train"
    ) -> List[RunInput]:
        """Records that this run read a dataset version (a DatasetVersion, or a name with a
        version number or tag; the latest version by default). Returns all of the run's inputs."""
        ver: Union[int, str, None]
        if isinstance(dataset, DatasetVersion):
            name, ver = dataset.dataset, version if version is not None else dataset.version
        else:
            name, ver = dataset, version
        if ver is None:
            ver = self._client.dataset_version(name).version
        return self.declare_inputs([{"dataset": name, "version": ver, "role": role}])

    def declare_inputs(self, inputs: Sequence[Mapping[str, Any]]) -> List[RunInput]:
        """Declares dataset versions the run read: ``[{"dataset", "version", "role"}]`` with role
        one of train, validation, test, other."""
        return self._client.declare_run_inputs(self.id, inputs)

    def declare_outputs(self, outputs: Sequence[Mapping[str, Any]]) -> List[RunInput]:
        """Declares dataset versions the run produced: ``[{"dataset", "version"}]``."""
        return self._client.declare_run_outputs(self.id, outputs)

    def log_artifact(self, local_path: Union[str, "os.PathLike[str]"], artifact_path: Optional[str] = None) -> UploadedArtifact:
        """Uploads a file, streamed (any size), under ``artifact_path`` (default: its file name)."""
        return self._client.upload_artifact(self.id, local_path, artifact_path)

    def log_artifacts(self, local_dir: Union[str, "os.PathLike[str]"], artifact_path: Optional[str] = None) -> List[UploadedArtifact]:
        """Uploads every file under a directory, keeping relative paths (under ``artifact_path``)."""
        return self._client.upload_artifacts(self.id, local_dir, artifact_path)

    def download_artifact(self, artifact_path: str, dest: Union[str, "os.PathLike[str]"]) -> str:
        return self._client.download_artifact(self.id, artifact_path, dest)

    def register_model(self, name: str, artifact_path: str, **kwargs: Any) -> ModelVersion:
        """Registers one of this run's artifacts as the next version of model ``name``."""
        return self._client.register_model(name, self.id, artifact_path, **kwargs)

    def info(self) -> RunInfo:
        """The run as the server knows it now (params, tags, latest metrics, inputs, artifacts)."""
        return self._client.get_run(self.id)

    # -- ending ---------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._state == "finished"

    def finish(self, status: str = "FINISHED", *, timeout: Optional[float] = None) -> RunInfo:
        """Flushes, then ends the run. If either fails the run stays open, so the caller can
        retry or end it another way (e.g. ``finish("FAILED")``)."""
        if status not in TERMINAL_STATUSES:
            raise ChronicleInputError(f"status must be one of {', '.join(TERMINAL_STATUSES)}, not {status!r}")
        with self._state_lock:
            if self._state != "active":
                raise ChronicleRunStateError(f"run {self.id} is already {self._state}")
            self._state = "finishing"
        try:
            if self._system is not None:
                self._system.stop()
            self.flush(timeout)
            info = self._client._runs_finish(self.id, status)
        except BaseException:
            self._state = "active"
            raise
        self._state = "finished"
        sender = self._buffer.sender
        if sender is not None:
            sender.detach(self._buffer)
        _shutdown.untrack(self)
        self._client._forget_active(self)
        return info

    end = finish

    def _end_for_shutdown(self, status: str, timeout: float) -> None:
        """Ends the run while the process goes down: flush what can be sent, then finish."""
        if self._state != "active":
            return
        transport = self._client._transport
        # A dead server must not hold the process for minutes: fewer, shorter retries.
        saved = transport.retry
        transport.retry = RetryPolicy(attempts=3, base_delay=0.2, max_delay=1.0)
        try:
            try:
                self.finish(status, timeout=timeout)
            except BaseException as e:
                raise RuntimeError(f"{e} ({self._buffer.pending} metric points not acknowledged)") from e
        finally:
            transport.retry = saved

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        if self._state != "active":
            return
        if kind is None:
            self.finish("FINISHED")
            return
        status = "KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED"
        try:
            self.finish(status)
        except Exception as e:  # never hide the exception that ended the block
            log.warning("chronicle: could not end run %s as %s: %s", self.id, status, e)


def _make_sender(client: "Client", kind: Optional[str]) -> "ThreadSender | ProcessSender":
    """``process`` (default; ``CHRONICLE_SENDER`` may say otherwise) or ``thread``."""
    kind = kind or os.environ.get("CHRONICLE_SENDER") or "process"
    if kind not in ("process", "thread"):
        raise ChronicleInputError(f"sender must be 'process' or 'thread', not {kind!r}")
    if kind == "process" and sys.executable and os.access(sys.executable, os.X_OK):
        return process_sender(client._transport)
    return ThreadSender(client._transport)
