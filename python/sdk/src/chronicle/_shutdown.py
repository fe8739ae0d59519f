"""Ending runs when the process ends: on exit, on an uncaught exception, on SIGTERM.

Best effort by nature (nothing runs after SIGKILL or ``os._exit``), but within those limits no
logged point is left behind: each open run is flushed, then finished as FINISHED (normal exit),
FAILED (uncaught exception), or KILLED (SIGTERM, Ctrl-C).
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import weakref
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Type

if TYPE_CHECKING:
    from .run import Run

log = logging.getLogger("chronicle")

_lock = threading.RLock()
_open: "weakref.WeakValueDictionary[str, Run]" = weakref.WeakValueDictionary()
_installed = False
_previous_excepthook: Optional[Callable[..., Any]] = None
_previous_sigterm: Any = None
# Time one run may take to flush and finish while the process is going down.
SHUTDOWN_TIMEOUT = 30.0


def track(run: "Run") -> None:
    with _lock:
        _open[run.id] = run
    install()


def untrack(run: "Run") -> None:
    with _lock:
        _open.pop(run.id, None)


def open_runs() -> List["Run"]:
    with _lock:
        runs = [r for r in _open.values() if r._owner_pid == os.getpid()]
    # Children before parents: a parent's end should not precede its children's.
    return sorted(runs, key=lambda r: -r._started_seq)


def end_all(status: str, reason: str) -> None:
    for run in open_runs():
        try:
            run._end_for_shutdown(status, SHUTDOWN_TIMEOUT)
        except BaseException as e:  # one run failing to end must not keep the others open
            sys.stderr.write(f"chronicle: could not end run {run.id} on {reason}: {e}\n")


def _atexit() -> None:
    end_all("FINISHED", "exit")
    # Then the helper processes get end of input: they send anything left, and exit.
    from ._senders import close_all

    close_all()


def _excepthook(kind: Type[BaseException], value: BaseException, tb: Optional[TracebackType]) -> None:
    status = "KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED"
    try:
        end_all(status, "an uncaught exception")
    finally:
        hook = _previous_excepthook or sys.__excepthook__
        hook(kind, value, tb)


def _on_sigterm(signum: int, frame: Optional[FrameType]) -> None:
    end_all("KILLED", "SIGTERM")
    # Then die the way SIGTERM would have made us die (or as the previous handler says).
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL if previous in (None, signal.SIG_DFL) else previous)
    if previous != signal.SIG_IGN:
        os.kill(os.getpid(), signal.SIGTERM)


def _after_fork_in_child() -> None:
    # The child inherits the parent's open runs but must never end them.
    global _lock
    _lock = threading.RLock()


def install() -> None:
    """Installs the hooks once per process; existing hooks are chained, not replaced."""
    global _installed, _previous_excepthook, _previous_sigterm
    with _lock:
        if _installed:
            return
        _installed = True
        atexit.register(_atexit)
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
        # Signal handlers can only be set from the main thread; a framework that set its own
        # SIGTERM handler keeps it (ours then runs first and calls it).
        if threading.current_thread() is threading.main_thread():
            try:
                current = signal.getsignal(signal.SIGTERM)
                if current != signal.SIG_IGN:
                    _previous_sigterm = current
                    signal.signal(signal.SIGTERM, _on_sigterm)
            except (ValueError, OSError):
                pass
