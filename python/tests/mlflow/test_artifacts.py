"""Proxied artifacts (`mlflow-artifacts:` URIs) with the real client, stored as Chronicle run artifacts."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import mlflow
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

from _helpers import call, run_graphql


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_log_list_and_download(chronicle: Any, mlflow_client: Any, tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src / "config.json", b'{"lr": 0.1}')
    write(src / "model" / "weights.bin", os.urandom(200_000))
    write(src / "model" / "sub" / "notes.txt", b"hello")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(src / "config.json"))
        mlflow.log_artifacts(str(src / "model"), artifact_path="model")
    rid = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")

    root = {f.path: f for f in mlflow_client.list_artifacts(rid)}
    assert set(root) == {"config.json", "model"}
    assert not root["config.json"].is_dir and root["config.json"].file_size == 11
    assert root["model"].is_dir
    repo = get_artifact_repository(run.info.artifact_uri)
    assert {(f.path, f.is_dir) for f in repo.list_artifacts("model")} == {("model/weights.bin", False), ("model/sub", True)}

    out = Path(mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="model", dst_path=str(tmp_path / "out")))
    assert (out / "weights.bin").read_bytes() == (src / "model" / "weights.bin").read_bytes()
    assert (out / "sub" / "notes.txt").read_bytes() == b"hello"
    one = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="config.json", dst_path=str(tmp_path / "one"))
    assert Path(one).read_bytes() == b'{"lr": 0.1}'

    # The same files are the run's artifacts in Chronicle, addressed by content.
    arts = {a["path"]: a for a in run_graphql(chronicle, rid)["artifacts"]}
    assert set(arts) == {"config.json", "model/weights.bin", "model/sub/notes.txt"}
    weights = (src / "model" / "weights.bin").read_bytes()
    assert arts["model/weights.bin"]["sha256"] == hashlib.sha256(weights).hexdigest()
    assert arts["model/weights.bin"]["size"] == len(weights)
    # ...and Chronicle's own download route serves them.
    status, body = call(chronicle.url, "GET", f"/api/v1/runs/{rid}/artifacts/model/sub/notes.txt")
    assert status == 200 and body == b"hello"


def test_large_artifact_streams_both_ways(chronicle: Any, tmp_path: Path) -> None:
    data = os.urandom(24 * 1024 * 1024)
    big = write(tmp_path / "big.bin", data)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), artifact_path="ckpt")
    got = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="ckpt/big.bin", dst_path=str(tmp_path / "dl")))
    assert hashlib.sha256(got.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    art = run_graphql(chronicle, run.info.run_id)["artifacts"][0]
    assert art["path"] == "ckpt/big.bin" and art["size"] == len(data)


def test_raw_artifact_api(chronicle: Any, mlflow_client: Any) -> None:
    run = mlflow_client.create_run("0")
    rid = run.info.run_id
    base = f"/api/2.0/mlflow-artifacts/artifacts/0/{rid}/artifacts"
    # A retried upload of the same bytes records the artifact once.
    for _ in range(2):
        status, body = call(chronicle.url, "PUT", f"{base}/a/b.txt", b"content", {"content-type": "text/plain"})
        assert (status, body) == (200, {})
    history = chronicle.graphql('query($e: String!) { history(entity: $e) { nodes { type } } }', {"e": f"run:{rid}"})["history"]["nodes"]
    assert [e["type"] for e in history].count("RunArtifactLogged") == 1
    # Artifacts are immutable: other bytes under the same path are refused, in MLflow's error shape.
    status, body = call(chronicle.url, "PUT", f"{base}/a/b.txt", b"other", {"content-type": "text/plain"})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE" and "immutable" in body["message"]
    status, body = call(chronicle.url, "GET", f"{base}/a/b.txt")
    assert (status, body) == (200, b"content")
    status, body = call(chronicle.url, "GET", f"/api/2.0/mlflow-artifacts/artifacts?path=0/{rid}/artifacts/a")
    assert (status, body) == (200, {"files": [{"path": "b.txt", "is_dir": False, "file_size": 7}]})
    status, body = call(chronicle.url, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={rid}&path=a")
    assert status == 200 and body["files"] == [{"path": "a/b.txt", "is_dir": False, "file_size": 7}]
    assert body["root_uri"] == run.info.artifact_uri
    status, body = call(chronicle.url, "GET", f"{base}/missing.txt")
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, body = call(chronicle.url, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/0/{'f' * 32}/artifacts/x.txt", b"x")
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, body = call(chronicle.url, "PUT", f"{base}/../escape.txt", b"x")
    assert status in (400, 404) and "error_code" in body
