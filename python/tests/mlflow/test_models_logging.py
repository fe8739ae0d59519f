"""Logging a real model, registering it, and loading it back by name, with the real `mlflow` client.

`log_model` uploads the model's files through the proxied artifact endpoints (and in MLflow 3
creates a logged model first); `load_model("models:/...")` resolves the name through the
registry and downloads the files back. Nothing here knows it talks to Chronicle.
"""

from __future__ import annotations

import uuid
from typing import Any

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pytest
import requests
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

MLFLOW_MAJOR = int(mlflow.__version__.split(".")[0])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def trained() -> tuple[LogisticRegression, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return LogisticRegression().fit(x, y), x[:20]


def log_sklearn(model: LogisticRegression, registered_model_name: str | None = None) -> Any:
    # MLflow 3 names a logged model with `name`; MLflow 2 places it at `artifact_path`.
    where = {"name": "model"} if MLFLOW_MAJOR >= 3 else {"artifact_path": "model"}
    return mlflow.sklearn.log_model(model, registered_model_name=registered_model_name, **where)


def test_log_register_and_load_by_alias_stage_and_version(mlflow_client: MlflowClient, chronicle: Any) -> None:
    name = unique("churn")
    model, sample = trained()
    expected = model.predict(sample)
    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", float(model.score(sample, expected)))
        info = log_sklearn(model, registered_model_name=name)
    assert str(info.registered_model_version) == "1"

    version = mlflow_client.get_model_version(name, "1")
    assert version.run_id == run.info.run_id
    mlflow_client.set_registered_model_alias(name, "champion", "1")
    mlflow_client.transition_model_version_stage(name, "1", "Production")

    for uri in (f"models:/{name}@champion", f"models:/{name}/Production", f"models:/{name}/1"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert (loaded.predict(sample) == expected).all(), uri
    # The flavor's own loader gets the same estimator back.
    assert (mlflow.sklearn.load_model(f"models:/{name}@champion").predict(sample) == expected).all()

    # Chronicle registered the model directory (MLmodel and its files) by its manifest.
    v = chronicle.graphql(
        "query($n: String!) { modelVersion(model: $n, version: 1) { format sha256 run { id } aliases stage } }", {"n": name}
    )["modelVersion"]
    assert v["format"] == "mlflow"
    assert v["run"]["id"] == run.info.run_id
    assert v["aliases"] == ["champion"]
    assert v["stage"] == "PRODUCTION"
    resolved = chronicle.graphql("query($r: String!) { resolveModel(ref: $r) { version } }", {"r": f"{name}@champion"})
    assert resolved["resolveModel"]["version"] == 1


def test_register_a_logged_model_afterwards(mlflow_client: MlflowClient) -> None:
    name = unique("later")
    model, sample = trained()
    with mlflow.start_run() as run:
        info = log_sklearn(model)
    # Both clients resolve `runs:/<run>/model`: MLflow 2 to the run's files, MLflow 3 to its logged model.
    registered = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    assert registered.version == "1"
    assert (mlflow.pyfunc.load_model(f"models:/{name}/1").predict(sample) == model.predict(sample)).all()
    assert (mlflow.pyfunc.load_model(info.model_uri).predict(sample) == model.predict(sample)).all()


@pytest.mark.skipif(MLFLOW_MAJOR < 3, reason="logged models (models:/<model_id>) are new in MLflow 3")
def test_logged_models_api(mlflow_client: MlflowClient, chronicle: Any) -> None:
    experiment_id = mlflow.set_experiment(unique("logged-models")).experiment_id
    model, sample = trained()
    with mlflow.start_run() as run:
        info = log_sklearn(model)
    logged = mlflow_client.get_logged_model(info.model_id)
    assert logged.source_run_id == run.info.run_id
    assert logged.status.to_proto() == 2  # READY
    assert logged.artifact_location.startswith(f"mlflow-artifacts:/{experiment_id}/{run.info.run_id}/artifacts/models/")

    mlflow_client.set_logged_model_tags(info.model_id, {"stage": "candidate"})
    assert mlflow_client.get_logged_model(info.model_id).tags["stage"] == "candidate"
    found = mlflow_client.search_logged_models(experiment_ids=[experiment_id], filter_string="tags.stage = 'candidate'")
    assert [m.model_id for m in found] == [info.model_id]
    mlflow_client.delete_logged_model_tag(info.model_id, "stage")
    assert "stage" not in mlflow_client.get_logged_model(info.model_id).tags

    # Registering by the logged model's URI, as log_model(registered_model_name=...) does.
    name = unique("from-logged")
    mlflow_client.create_registered_model(name)
    version = mlflow_client.create_model_version(name, f"models:/{info.model_id}", model_id=info.model_id)
    assert version.run_id == run.info.run_id
    assert (mlflow.pyfunc.load_model(f"models:/{name}/{version.version}").predict(sample) == model.predict(sample)).all()
    # (The client drops model_id when it parses a ModelVersion, so read the wire.)
    wire = requests.get(f"{chronicle.url}/api/2.0/mlflow/model-versions/get", params={"name": name, "version": "1"}, timeout=30).json()
    assert wire["model_version"]["model_id"] == info.model_id


@pytest.mark.skipif(MLFLOW_MAJOR < 3, reason="logging a model outside a run is new in MLflow 3")
def test_log_model_outside_a_run(mlflow_client: MlflowClient) -> None:
    name = unique("no-run")
    model, sample = trained()
    info = log_sklearn(model, registered_model_name=name)
    # Its files live on a run started to hold them, finished once the model is.
    holder = mlflow_client.get_run(mlflow_client.get_model_version(name, "1").run_id)
    assert holder.data.tags["mlflow.loggedModelId"] == info.model_id
    assert holder.info.status == "FINISHED"
    assert (mlflow.pyfunc.load_model(f"models:/{name}/1").predict(sample) == model.predict(sample)).all()
