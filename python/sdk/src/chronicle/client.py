"""The client: one server, its runs, datasets, artifacts and models."""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import artifacts as _artifacts
from ._transport import RetryPolicy, Transport
from ._values import KeyValues, decode_value, to_key_values
from .datasets import DatasetsApi
from .errors import ChronicleApiError, ChronicleConfigError, ChronicleInputError
from .models import ModelsApi
from .run import Run
from .source import collect
from .types import RUN_FIELDS, DatasetVersion, Experiment, MetricPoint, ModelVersion, RunInfo, RunInput, UploadedArtifact

DEFAULT_EXPERIMENT_ID = "0"
PathLike = Union[str, "os.PathLike[str]"]

_active_lock = threading.RLock()
#: Runs started in this process, newest last: `chronicle.log` writes to the last one.
_active: List[Run] = []


def active_runs() -> List[Run]:
    with _active_lock:
        return list(_active)


class Client:
    """A connection to one Chronicle server.

    ``url`` and ``token`` default to the ``CHRONICLE_URL`` and ``CHRONICLE_TOKEN`` environment
    variables; without a URL, ``http://127.0.0.1:4000``. Without a token only requests from the
    server's own machine are let in.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        experiment: Optional[str] = None,
        timeout: float = 30.0,
        retry: Optional[RetryPolicy] = None,
        flush_interval: float = 1.0,
        max_batch_points: int = 5000,
        max_buffered_points: int = 200_000,
        on_flush_error: Optional[Callable[[BaseException], None]] = None,
        sender: Optional[str] = None,
    ) -> None:
        url = url or os.environ.get("CHRONICLE_URL") or "http://127.0.0.1:4000"
        token = token if token is not None else os.environ.get("CHRONICLE_TOKEN") or None
        self._transport = Transport(url, token, timeout=timeout, retry=retry)
        self.url = self._transport.base_url
        #: The experiment (by name) runs go to when start_run names none.
        self.experiment = experiment if experiment is not None else os.environ.get("CHRONICLE_EXPERIMENT") or None
        self._run_defaults: Dict[str, Any] = {
            "flush_interval": flush_interval,
            "max_batch_points": max_batch_points,
            "max_buffered_points": max_buffered_points,
            "on_flush_error": on_flush_error,
            "sender": sender,
        }
        self.datasets = DatasetsApi(self._transport)
        self.models = ModelsApi(self._transport)

    def __repr__(self) -> str:
        return f"<chronicle.Client {self.url}>"

    def graphql(self, query: str, variables: Optional[Mapping[str, Any]] = None, *, idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        """Runs any GraphQL operation and returns its ``data``; errors raise ChronicleApiError.

        Not retried unless an ``idempotency_key`` is given (a mutation whose answer was lost
        might otherwise be applied twice).
        """
        return self._transport.graphql(query, variables, retry=idempotency_key is not None, idempotency_key=idempotency_key)

    def whoami(self) -> Dict[str, Any]:
        """The user the server sees (a quick check of URL and token)."""
        me: Dict[str, Any] = self._transport.graphql("{ me { username role authenticatedBy } }", retry=True)["me"]
        return me

    # -- experiments -------------------------------------------------------------------------------

    def get_experiment(self, name: Optional[str] = None, *, id: Optional[str] = None) -> Experiment:
        data = self._transport.graphql(
            "query($id: ID, $name: String) { experiment(id: $id, name: $name) { id name description lifecycle } }",
            {"id": id, "name": name},
            retry=True,
        )
        e = data["experiment"]
        return Experiment(e["id"], e["name"], e["description"], e["lifecycle"])

    def create_experiment(self, name: str, *, description: str = "", tags: Optional[KeyValues] = None) -> Experiment:
        data = self._transport.graphql(
            """mutation($i: CreateExperimentInput!, $k: String) {
              createExperiment(input: $i, idempotencyKey: $k) { id name description lifecycle }
            }""",
            {"i": {"name": name, "description": description, "tags": to_key_values("tag", tags)}, "k": uuid.uuid4().hex},
            retry=True,
        )
        e = data["createExperiment"]
        return Experiment(e["id"], e["name"], e["description"], e["lifecycle"])

    def experiment_id(self, name: str) -> str:
        """The id of the experiment with this name, created if it does not exist yet."""
        try:
            return self.get_experiment(name).id
        except ChronicleApiError as e:
            if e.code != "NOT_FOUND":
                raise
        try:
            return self.create_experiment(name).id
        except ChronicleApiError as e:
            # Another process created it between our read and our write: use theirs.
            if e.code == "CONFLICT":
                return self.get_experiment(name).id
            raise

    # -- runs ------------------------------------------------------------------------------------

    def start_run(
        self,
        name: Optional[str] = None,
        *,
        experiment: Optional[str] = None,
        experiment_id: Optional[str] = None,
        params: Optional[KeyValues] = None,
        tags: Optional[KeyValues] = None,
        parent: Union[Run, RunInfo, str, None] = None,
        nested: bool = False,
        run_id: Optional[str] = None,
        capture_git: bool = True,
        system_metrics: bool = False,
        system_metrics_interval: float = 10.0,
        **run_options: Any,
    ) -> Run:
        """Starts a run and makes it the active run (the target of ``chronicle.log``).

        ``experiment`` is a name (created if needed), ``experiment_id`` an id; by default the
        client's experiment, else the Default experiment ("0"). ``parent`` (a run or its id), or
        ``nested=True`` for the active run, makes it a child run; a child lives in its parent's
        experiment. Use the run as a context manager to end it.
        """
        if experiment is not None and experiment_id is not None:
            raise ChronicleInputError("start_run: give experiment or experiment_id, not both")
        if nested and parent is None:
            parent = self.active_run()
            if parent is None:
                raise ChronicleConfigError("start_run(nested=True) needs an active run to nest under")
        parent_id = parent.id if isinstance(parent, (Run, RunInfo)) else parent
        if experiment_id is None:
            if experiment is not None:
                experiment_id = self.experiment_id(experiment)
            elif parent is not None:
                experiment_id = parent.experiment_id if isinstance(parent, (Run, RunInfo)) else self.get_run(parent).experiment_id
            elif self.experiment is not None:
                experiment_id = self.experiment_id(self.experiment)
            else:
                experiment_id = DEFAULT_EXPERIMENT_ID
        source, environment = collect(capture_git)
        inp: Dict[str, Any] = {
            "experimentId": experiment_id,
            # Chosen here, so a retried start can only ever create this one run.
            "runId": run_id or uuid.uuid4().hex,
            "tags": to_key_values("tag", tags),
            "source": source,
            "environment": environment,
        }
        if name is not None:
            inp["name"] = name
        if parent_id is not None:
            inp["parentRunId"] = parent_id
        data = self._transport.graphql(
            f"mutation($i: StartRunInput!, $k: String) {{ run: startRun(input: $i, idempotencyKey: $k) {{ ...RunFields }} }} {RUN_FIELDS}",
            {"i": inp, "k": uuid.uuid4().hex},
            retry=True,
        )
        info = RunInfo.from_wire(data["run"])
        if params:
            self._runs_log_params(info.id, params)
        run = Run(
            self,
            info,
            system_metrics=system_metrics,
            system_metrics_interval=system_metrics_interval,
            **{**self._run_defaults, **run_options},
        )
        with _active_lock:
            _active.append(run)
        return run

    def resume_run(self, run_id: str, **run_options: Any) -> Run:
        """Logs to a run that already exists (e.g. started by another process); NOT_FOUND if none."""
        info = self.get_run(run_id)
        run = Run(self, info, **{**self._run_defaults, **run_options})
        with _active_lock:
            _active.append(run)
        return run

    def active_run(self) -> Optional[Run]:
        with _active_lock:
            return _active[-1] if _active else None

    def _forget_active(self, run: Run) -> None:
        with _active_lock:
            if run in _active:
                _active.remove(run)

    def get_run(self, run_id: str) -> RunInfo:
        data = self._transport.graphql(f"query($id: ID!) {{ run(id: $id) {{ ...RunFields }} }} {RUN_FIELDS}", {"id": run_id}, retry=True)
        return RunInfo.from_wire(data["run"])

    def search_runs(
        self,
        experiment_ids: Optional[Sequence[str]] = None,
        filter: Optional[str] = None,
        order_by: Optional[Sequence[str]] = None,
        max_results: int = 1000,
    ) -> List[RunInfo]:
        """Runs matching an MLflow-style filter (plus OR, NOT, parentheses), all pages up to ``max_results``."""
        out: List[RunInfo] = []
        after: Optional[str] = None
        while len(out) < max_results:
            data = self._transport.graphql(
                f"""query($e: [ID!], $f: String, $o: [String!], $n: Int, $a: String) {{
                  runs(experimentIds: $e, filter: $f, orderBy: $o, first: $n, after: $a) {{
                    nodes {{ ...RunFields }} pageInfo {{ endCursor hasNextPage }}
                  }}
                }} {RUN_FIELDS}""",
                {
                    "e": list(experiment_ids) if experiment_ids is not None else None,
                    "f": filter,
                    "o": list(order_by) if order_by is not None else None,
                    "n": min(500, max_results - len(out)),
                    "a": after,
                },
                retry=True,
            )
            page = data["runs"]
            out.extend(RunInfo.from_wire(r) for r in page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        return out

    def metric_history(self, run_id: str, key: str) -> List[MetricPoint]:
        """Every point of one metric, ordered by step (all pages)."""
        points: List[MetricPoint] = []
        after: Optional[str] = None
        while True:
            data = self._transport.graphql(
                """query($r: ID!, $k: String!, $a: String) {
                  metricHistory(runId: $r, key: $k, first: 10000, after: $a) {
                    points { step value timestamp } pageInfo { endCursor hasNextPage }
                  }
                }""",
                {"r": run_id, "k": key, "a": after},
                retry=True,
            )
            page = data["metricHistory"]
            points.extend(MetricPoint(int(p["step"]), decode_value(p["value"]), int(p["timestamp"])) for p in page["points"])
            if not page["pageInfo"]["hasNextPage"]:
                return points
            after = page["pageInfo"]["endCursor"]

    def _run_mutation(self, field: str, args: str, call: str, variables: Dict[str, Any]) -> RunInfo:
        data = self._transport.graphql(
            f"mutation({args}, $k: String) {{ run: {call} {{ ...RunFields }} }} {RUN_FIELDS}",
            {**variables, "k": uuid.uuid4().hex},
            retry=True,
        )
        return RunInfo.from_wire(data["run"])

    def _runs_log_params(self, run_id: str, params: KeyValues) -> RunInfo:
        return self._run_mutation(
            "logParams",
            "$r: ID!, $p: [KeyValueInput!]!",
            "logParams(runId: $r, params: $p, idempotencyKey: $k)",
            {"r": run_id, "p": to_key_values("param", params)},
        )

    def _runs_set_tags(self, run_id: str, tags: KeyValues) -> RunInfo:
        return self._run_mutation(
            "setTags", "$r: ID!, $t: [KeyValueInput!]!", "setTags(runId: $r, tags: $t, idempotencyKey: $k)", {"r": run_id, "t": to_key_values("tag", tags)}
        )

    def _runs_finish(self, run_id: str, status: str) -> RunInfo:
        return self._run_mutation(
            "finishRun", "$r: ID!, $s: TerminalStatus", "finishRun(runId: $r, status: $s, idempotencyKey: $k)", {"r": run_id, "s": status}
        )

    # -- datasets and lineage ----------------------------------------------------------------------

    def commit_dataset(
        self,
        name: str,
        path: PathLike,
        *,
        message: str = "",
        tags: Sequence[str] = (),
        rebase: bool = False,
        on_progress: Optional[Callable[[str, int, int], None]] = None,
    ) -> DatasetVersion:
        """Commits a local directory (or file) as the next version of dataset ``name`` (created
        if needed), uploading only the files the server lacks. ``changed`` is False when the
        content equals the head, which is then returned. With ``rebase``, a concurrent commit
        (CONFLICT) is answered by committing the same files on the new head."""
        return self.datasets.commit(name, path, message=message, tags=tags, rebase=rebase, on_progress=on_progress)

    def dataset_version(self, name: str, version: Union[int, str, None] = None) -> DatasetVersion:
        """A version by number or tag; the latest by default."""
        return self.datasets.version(name, version)

    def checkout_dataset(self, name: str, dest: PathLike, version: Union[int, str, None] = None) -> DatasetVersion:
        """Downloads a dataset version's files into ``dest`` (verified against their hashes)."""
        return self.datasets.checkout(name, version, dest)

    def declare_run_inputs(self, run_id: str, inputs: Sequence[Mapping[str, Any]]) -> List[RunInput]:
        rows = self.datasets.declare_inputs(run_id, [dict(i) for i in inputs])
        return [RunInput(r["datasetName"], int(r["versionNumber"]), r["versionId"], r["role"]) for r in rows]

    def declare_run_outputs(self, run_id: str, outputs: Sequence[Mapping[str, Any]]) -> List[RunInput]:
        rows = self.datasets.declare_outputs(run_id, [dict(o) for o in outputs])
        return [RunInput(r["datasetName"], int(r["versionNumber"]), r["versionId"], "output") for r in rows]

    # -- artifacts -------------------------------------------------------------------------------

    def upload_artifact(self, run_id: str, local_path: PathLike, artifact_path: Optional[str] = None) -> UploadedArtifact:
        return _artifacts.upload_file(self._transport, run_id, local_path, artifact_path)

    def upload_artifacts(self, run_id: str, local_dir: PathLike, artifact_path: Optional[str] = None) -> List[UploadedArtifact]:
        return _artifacts.upload_dir(self._transport, run_id, local_dir, artifact_path)

    def download_artifact(self, run_id: str, artifact_path: str, dest: PathLike) -> str:
        """Streams a run artifact to ``dest`` (a file, or a directory to put it in); returns the path."""
        return _artifacts.download(self._transport, run_id, artifact_path, dest)

    # -- models ----------------------------------------------------------------------------------

    def register_model(
        self,
        name: str,
        run: Union[Run, RunInfo, str],
        artifact_path: str,
        *,
        alias: Optional[str] = None,
        format: Optional[str] = None,
        description: Optional[str] = None,
        signature: Optional[Mapping[str, Any]] = None,
    ) -> ModelVersion:
        """Registers a run's artifact as the next version of model ``name`` (the model is created
        if needed) and optionally points ``alias`` at it."""
        run_id = run.id if isinstance(run, (Run, RunInfo)) else run
        self.models.ensure_model(name)
        version = self.models.create_version(name, run_id, artifact_path, format=format, description=description, signature=signature)
        if alias is not None:
            version = self.models.set_alias(name, alias, version.version)
        return version

    def set_model_alias(self, name: str, alias: str, version: int, *, expected_current_version: Optional[int] = None) -> ModelVersion:
        """Points ``alias`` at a version; with ``expected_current_version`` (0: none) a
        compare-and-set that fails with CONFLICT if another version holds it now."""
        return self.models.set_alias(name, alias, version, expected_current_version)

    def remove_model_alias(self, name: str, alias: str) -> None:
        self.models.remove_alias(name, alias)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self.models.get_version(name, version)

    def resolve_model(self, ref: str) -> ModelVersion:
        """The version ``name@alias``, ``name/Production`` or ``name/3`` names now."""
        return self.models.resolve(ref)

    def download_model(self, ref: str, dest: PathLike) -> str:
        """Downloads the artifact of the version ``ref`` names; returns the file's path."""
        v = self.resolve_model(ref)
        return self.download_artifact(v.run_id, v.artifact_path, dest)

    def close(self) -> None:
        self._transport.close()
