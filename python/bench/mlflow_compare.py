"""Chronicle vs a real `mlflow server` (SQLite backend), driven by the same mlflow client.

Starts both servers on free ports in temporary directories, runs one workload against each,
and prints the times and the ratios:

  1. ingestion: 100 runs x 10 metrics x 1,000 steps through log_batch (1,000 points a call);
  2. search: search_runs over an experiment of 10,000 runs (filters, ordering, paging), after
     creating those runs with create_run + log_batch (the same calls on both servers);
  3. get_metric_history of every ingested run's metric.

Each phase reports three times: end to end (what the script waits, including the mlflow
client's own protobuf and JSON work, identical for both servers); in HTTP (mlflow's
http_request: JSON encoding by `requests`, the round trip, reading the answer); and server
(`requests`' Response.elapsed: first byte sent to response headers parsed, the servers' share
measured the same way on both). The ratio that compares the servers is the server one.

Usage (from the repository root, after `npm run build`):
  .venv/mlflow2/bin/python python/bench/mlflow_compare.py [--runs 100] [--search-runs 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

REPO = Path(__file__).resolve().parents[2]
SERVER_MAIN = REPO / "apps" / "server" / "dist" / "main.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{url} not healthy after {timeout} s:\n{log.read_text(errors='replace')[-4000:]}")


@contextlib.contextmanager
def mlflow_server(workdir: Path) -> Iterator[str]:
    port = free_port()
    log = workdir / "mlflow-server.log"
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen(
        [str(mlflow_bin), "server", "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
         "--artifacts-destination", str(workdir / "mlartifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        # gunicorn's workers are the server's children: end the whole session we started.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


@contextlib.contextmanager
def chronicle_server(workdir: Path) -> Iterator[str]:
    if not SERVER_MAIN.exists():
        raise RuntimeError(f"{SERVER_MAIN} is missing: run `npm run build` first")
    port = free_port()
    log = workdir / "chronicle.log"
    proc = subprocess.Popen(
        ["node", str(SERVER_MAIN)],
        env={**os.environ, "CHRONICLE_DATA_DIR": str(workdir / "data"), "CHRONICLE_PORT": str(port),
             "CHRONICLE_HOST": "127.0.0.1", "CHRONICLE_LOG_LEVEL": "warn"},
        stdout=open(log, "wb"), stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class Clock:
    """Time spent inside mlflow's http_request, and the servers' share of it.

    `server` sums `requests`' Response.elapsed: from sending the request's first byte to having
    parsed the response's headers. It leaves out what the client does before sending (the
    request's JSON encoding) and after (reading and decoding the body), so it is the time the
    server took (plus loopback transfer), measured the same way for both servers.
    """

    http: float = 0.0
    server: float = 0.0
    calls: int = 0

    def install(self) -> None:
        import mlflow.utils.rest_utils as rest_utils

        original = rest_utils.http_request
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                response = original(*args, **kwargs)
                clock.server += response.elapsed.total_seconds()
                return response
            finally:
                clock.http += time.perf_counter() - t
                clock.calls += 1

        rest_utils.http_request = timed


@dataclass
class Phase:
    total: float
    http: float
    server: float
    calls: int
    extra: dict[str, Any] = field(default_factory=dict)


def measure(clock: Clock, fn: Callable[[], Any]) -> Phase:
    h0, s0, c0 = clock.http, clock.server, clock.calls
    t = time.perf_counter()
    extra = fn() or {}
    return Phase(time.perf_counter() - t, clock.http - h0, clock.server - s0, clock.calls - c0, extra)


def workload(url: str, clock: Clock, args: argparse.Namespace) -> dict[str, Phase]:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    out: dict[str, Phase] = {}
    base_ts = 1_700_000_000_000
    steps_per_call = 1000 // args.metrics
    # The entities are built once, outside the timings: both servers get the same objects.
    batches = [
        [Metric(f"m{k}", random.Random(s * 31 + k).random(), base_ts + s, s) for s in range(start, start + steps_per_call) for k in range(args.metrics)]
        for start in range(0, args.steps, steps_per_call)
    ]

    exp_ingest = client.create_experiment("ingest")
    run_ids = [client.create_run(exp_ingest).info.run_id for _ in range(args.runs)]

    def ingest() -> dict[str, Any]:
        for rid in run_ids:
            for b in batches:
                client.log_batch(rid, metrics=b)
        return {"points": args.runs * args.metrics * args.steps}

    out["ingest"] = measure(clock, ingest)

    exp_search = client.create_experiment("search")
    models = ["resnet", "vit", "xgb", "mlp"]
    teams = ["vision", "nlp", "tabular"]

    def populate_one(i: int) -> None:
        rid = client.create_run(exp_search, start_time=base_ts + i, run_name=f"r{i}-{models[i % 4]}").info.run_id
        rnd = random.Random(i)
        client.log_batch(
            rid,
            metrics=[Metric("acc", rnd.random(), base_ts, 0), Metric("loss", rnd.random(), base_ts, 0), Metric("f1", rnd.random(), base_ts, 0)],
            params=[Param("model", models[i % 4]), Param("lr", str(10 ** -(1 + i % 4))), Param("seed", str(i))],
            tags=[RunTag("team", teams[i % 3]), RunTag("gpu", "a100" if i % 2 else "t4")],
        )

    def populate() -> dict[str, Any]:
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(populate_one, range(args.search_runs)))
        return {"runs": args.search_runs}

    out["populate"] = measure(clock, populate)

    queries: list[tuple[str, dict[str, Any]]] = [
        ("metrics.acc > 0.9, by acc, top 100", {"filter_string": "metrics.acc > 0.9", "order_by": ["metrics.acc DESC"], "max_results": 100}),
        ("params.model = 'vit' and metrics.loss < 0.2, 100", {"filter_string": "params.model = 'vit' and metrics.loss < 0.2", "max_results": 100}),
        ("tags.team = 'nlp' and params.lr = '0.01', by f1", {"filter_string": "tags.team = 'nlp' and params.lr = '0.01'", "order_by": ["metrics.f1 ASC"], "max_results": 100}),
        ("no filter, newest 100", {"max_results": 100}),
        ("attributes.run_name LIKE '%-vi%', 1000", {"filter_string": "attributes.run_name LIKE '%-vi%'", "max_results": 1000}),
    ]

    def search() -> dict[str, Any]:
        counts = {}
        for label, q in queries:
            for _ in range(args.repeat):
                found = client.search_runs([exp_search], **q)
            counts[label] = len(found)
        # Every run, page by page (1,000 a page), as a dashboard export would.
        token, seen = None, 0
        while True:
            page = client.search_runs([exp_search], max_results=1000, page_token=token)
            seen += len(page)
            token = page.token
            if not token:
                break
        counts["all runs, pages of 1000"] = seen
        return counts

    out["search"] = measure(clock, search)

    def histories() -> dict[str, Any]:
        n = 0
        for rid in run_ids:
            n += len(client.get_metric_history(rid, "m0"))
        return {"points": n}

    out["history"] = measure(clock, histories)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=100, help="runs ingested (each metrics x steps points)")
    ap.add_argument("--metrics", type=int, default=10)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--search-runs", type=int, default=10_000, help="runs in the searched experiment")
    ap.add_argument("--repeat", type=int, default=3, help="times each search query runs")
    ap.add_argument("--threads", type=int, default=4, help="client threads creating the searched runs")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if 1000 % args.metrics:
        ap.error("--metrics must divide 1000 (a log_batch carries 1000 points)")

    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    import mlflow

    clock = Clock()
    clock.install()
    results: dict[str, dict[str, Phase]] = {}
    root = Path(tempfile.mkdtemp(prefix="mlflow-compare-"))
    try:
        for name, server in (("mlflow", mlflow_server), ("chronicle", chronicle_server)):
            workdir = root / name
            workdir.mkdir()
            with server(workdir) as url:
                print(f"== {name} at {url}", flush=True)
                results[name] = workload(url, clock, args)
                for phase, r in results[name].items():
                    print(f"   {phase:9s} {r.total:9.2f} s total  {r.http:9.2f} s in HTTP  {r.server:9.2f} s server  ({r.calls} calls) {r.extra}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    for phase in ("ingest", "search", "history"):
        a, b = results["mlflow"][phase], results["chronicle"][phase]
        if a.extra != b.extra:
            raise SystemExit(f"{phase}: the servers answered differently: mlflow {a.extra}, chronicle {b.extra}")

    print()
    print(f"mlflow client {mlflow.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"{'phase':9s} | {'end to end: MLflow':>18s} {'Chronicle':>9s} {'ratio':>6s} | {'HTTP: MLflow':>12s} {'Chronicle':>9s} {'ratio':>6s} | {'server: MLflow':>14s} {'Chronicle':>9s} {'ratio':>6s}")
    figures = {}
    for phase in ("ingest", "populate", "search", "history"):
        a, b = results["mlflow"][phase], results["chronicle"][phase]
        rt, rh, rs = a.total / b.total, a.http / b.http, a.server / b.server
        figures[phase] = {"mlflow_total_s": a.total, "chronicle_total_s": b.total, "ratio_total": rt,
                          "mlflow_http_s": a.http, "chronicle_http_s": b.http, "ratio_http": rh,
                          "mlflow_server_s": a.server, "chronicle_server_s": b.server, "ratio_server": rs, "calls": a.calls}
        print(f"{phase:9s} | {a.total:17.2f}s {b.total:8.2f}s {rt:5.1f}x | {a.http:11.2f}s {b.http:8.2f}s {rh:5.1f}x | {a.server:13.2f}s {b.server:8.2f}s {rs:5.1f}x")
    pts = results["chronicle"]["ingest"].extra["points"]
    print(f"ingestion throughput: MLflow {pts / results['mlflow']['ingest'].total:,.0f} points/s, "
          f"Chronicle {pts / results['chronicle']['ingest'].total:,.0f} points/s end to end")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
