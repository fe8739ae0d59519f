"""Chronicle's Python SDK.

    import chronicle

    chronicle.init(url="http://127.0.0.1:4000", experiment="churn")   # or CHRONICLE_URL / CHRONICLE_TOKEN
    with chronicle.start_run(name="baseline", params={"lr": 0.01}) as run:
        for step in range(1000):
            run.log({"loss": loss, "acc": acc}, step=step)   # buffered, sent in the background

Everything else (datasets, artifacts, models) is on :class:`Client` and on :class:`Run`; the
module-level functions use the client made by :func:`init` (or one made from the environment).
"""

from __future__ import annotations

import os
import threading
from typing import Any, List, Mapping, Optional, Sequence, Union

__version__ = "0.1.0"

from . import errors
from ._transport import RetryPolicy
from ._values import KeyValues
from .client import Client, active_runs
from .errors import (
    ChronicleApiError,
    ChronicleBufferFullError,
    ChronicleConfigError,
    ChronicleError,
    ChronicleInputError,
    ChronicleIntegrityError,
    ChronicleNetworkError,
    ChronicleRunStateError,
)
from .run import Run
from .types import DatasetVersion, MetricPoint, ModelVersion, RunInfo, RunInput, UploadedArtifact

__all__ = [
    "__version__",
    "init",
    "get_client",
    "start_run",
    "active_run",
    "log",
    "log_metric",
    "log_params",
    "set_tags",
    "finish",
    "end_run",
    "commit_dataset",
    "use_dataset",
    "log_artifact",
    "register_model",
    "set_model_alias",
    "Client",
    "Run",
    "RetryPolicy",
    "RunInfo",
    "RunInput",
    "DatasetVersion",
    "ModelVersion",
    "MetricPoint",
    "UploadedArtifact",
    "errors",
    "ChronicleError",
    "ChronicleApiError",
    "ChronicleNetworkError",
    "ChronicleInputError",
    "ChronicleConfigError",
    "ChronicleRunStateError",
    "ChronicleBufferFullError",
    "ChronicleIntegrityError",
]

_lock = threading.Lock()
_client: Optional[Client] = None


def init(
    url: Optional[str] = None,
    token: Optional[str] = None,
    experiment: Optional[str] = None,
    **options: Any,
) -> Client:
    """Sets up the default client: ``url`` and ``token`` default to ``CHRONICLE_URL`` and
    ``CHRONICLE_TOKEN``, ``experiment`` (a name, created on first use) to ``CHRONICLE_EXPERIMENT``.
    Other options (``timeout``, ``retry``, ``flush_interval``, ``max_batch_points``,
    ``on_flush_error``...) go to :class:`Client`."""
    global _client
    client = Client(url, token, experiment=experiment, **options)
    with _lock:
        _client = client
    return client


def get_client() -> Client:
    """The client made by :func:`init`, or one made from the environment on first use."""
    global _client
    with _lock:
        if _client is None:
            _client = Client()
        return _client


def start_run(
    name: Optional[str] = None,
    *,
    experiment: Optional[str] = None,
    params: Optional[KeyValues] = None,
    tags: Optional[KeyValues] = None,
    parent: Union[Run, RunInfo, str, None] = None,
    nested: bool = False,
    **options: Any,
) -> Run:
    """Starts a run with the default client; see :meth:`Client.start_run`."""
    return get_client().start_run(name, experiment=experiment, params=params, tags=tags, parent=parent, nested=nested, **options)


def active_run() -> Optional[Run]:
    """The most recently started run of this process that has not ended."""
    runs = active_runs()
    return runs[-1] if runs else None


def _require_run() -> Run:
    run = active_run()
    if run is None:
        raise ChronicleConfigError("no active run: call chronicle.start_run() first")
    return run


def log(metrics: Mapping[str, Any], step: Optional[int] = None, *, timestamp: Optional[int] = None) -> None:
    """``run.log`` on the active run."""
    _require_run().log(metrics, step, timestamp=timestamp)


def log_metric(key: str, value: Any, step: Optional[int] = None) -> None:
    _require_run().log({key: value}, step)


def log_params(params: KeyValues) -> None:
    _require_run().log_params(params)


def set_tags(tags: KeyValues) -> None:
    _require_run().set_tags(tags)


def finish(status: str = "FINISHED") -> Optional[RunInfo]:
    """Ends the active run (after sending its metrics); None if there is none."""
    run = active_run()
    return run.finish(status) if run is not None else None


end_run = finish


def commit_dataset(name: str, path: Union[str, "os.PathLike[str]"], *, message: str = "", tags: Sequence[str] = (), **kw: Any) -> DatasetVersion:
    """Commits a local directory as the next version of a dataset; see :meth:`Client.commit_dataset`."""
    return get_client().commit_dataset(name, path, message=message, tags=tags, **kw)


def use_dataset(dataset: Union[str, DatasetVersion], version: Union[int, str, None] = None, *, role: str = "train") -> List[RunInput]:
    """Records that the active run read a dataset version."""
    return _require_run().use_dataset(dataset, version, role=role)


def log_artifact(local_path: Union[str, "os.PathLike[str]"], artifact_path: Optional[str] = None) -> UploadedArtifact:
    return _require_run().log_artifact(local_path, artifact_path)


def register_model(name: str, run: Union[Run, RunInfo, str, None], artifact_path: str, **kw: Any) -> ModelVersion:
    """Registers a run's artifact as the next version of a model (``run`` None: the active run)."""
    return get_client().register_model(name, run if run is not None else _require_run(), artifact_path, **kw)


def set_model_alias(name: str, alias: str, version: int, **kw: Any) -> ModelVersion:
    return get_client().set_model_alias(name, alias, version, **kw)

