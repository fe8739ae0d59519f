"""The real mlflow client's tracking calls against Chronicle, checked through Chronicle's GraphQL."""

from __future__ import annotations

import math
import time
from typing import Any

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from _helpers import as_dict, history, run_graphql, same_float, unique


def test_default_experiment_is_zero(mlflow_client: Any) -> None:
    exp = mlflow_client.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == "mlflow-artifacts:/0"


def test_fluent_run_with_nested_child_shows_in_graphql(chronicle: Any) -> None:
    name = unique("fluent")
    exp = mlflow.set_experiment(name)
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"layers": 3, "optimizer": "adam"})
        mlflow.log_metric("loss", 0.9, step=0)
        mlflow.log_metric("loss", 0.4, step=1)
        mlflow.log_metrics({"acc": 0.7, "f1": 0.6}, step=1)
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"stage": "dev", "owner": "ada"})
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 1.5)
    parent_id, child_id = parent.info.run_id, child.info.run_id

    g = chronicle.graphql("query($n: String) { experiment(name: $n) { id name lifecycle } }", {"n": name})["experiment"]
    assert g["id"] == exp.experiment_id and g["name"] == name

    run = run_graphql(chronicle, parent_id)
    assert run["name"] == "parent"
    assert run["status"] == "FINISHED"
    assert run["experimentId"] == exp.experiment_id
    assert run["endTime"] is not None
    assert as_dict(run["params"]) == {"lr": "0.01", "layers": "3", "optimizer": "adam"}
    tags = as_dict(run["tags"])
    assert tags["team"] == "vision" and tags["stage"] == "dev" and tags["owner"] == "ada"
    assert tags["mlflow.runName"] == "parent"
    assert run["source"]["source"], "mlflow.source.name becomes the run's source"
    latest = {m["key"]: m for m in run["metrics"]}
    assert latest["loss"]["value"] == 0.4 and latest["loss"]["step"] == 1 and latest["loss"]["count"] == 2
    assert latest["acc"]["value"] == 0.7
    assert [c["id"] for c in run["children"]] == [child_id]

    child_run = run_graphql(chronicle, child_id)
    assert child_run["parentRunId"] == parent_id
    assert as_dict(child_run["tags"])["mlflow.parentRunId"] == parent_id
    assert child_run["name"] == "child"


def test_client_reads_back_what_it_wrote(mlflow_client: Any) -> None:
    exp_id = mlflow_client.create_experiment(unique("readback"), tags={"purpose": "test"})
    run = mlflow_client.create_run(exp_id, run_name="rb", tags={"k": "v"})
    rid = run.info.run_id
    assert run.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{rid}/artifacts"
    assert run.info.status == "RUNNING" and run.info.lifecycle_stage == "active"
    mlflow_client.log_param(rid, "p", "1")
    mlflow_client.log_metric(rid, "m", 2.5, step=3)
    mlflow_client.set_tag(rid, "t", "x")
    got = mlflow_client.get_run(rid)
    assert got.data.params == {"p": "1"}
    assert got.data.metrics == {"m": 2.5}
    assert got.data.tags["t"] == "x" and got.data.tags["k"] == "v"
    assert got.info.run_name == "rb"
    assert mlflow_client.get_experiment(exp_id).tags["purpose"] == "test"


def test_log_batch_is_one_atomic_write(chronicle: Any, mlflow_client: Any) -> None:
    exp_id = mlflow_client.create_experiment(unique("batch"))
    rid = mlflow_client.create_run(exp_id).info.run_id
    ts = int(time.time() * 1000)
    metrics = [Metric("loss", 1.0 / (s + 1), ts + s, s) for s in range(400)] + [Metric("acc", s / 400, ts + s, s) for s in range(400)]
    mlflow_client.log_batch(rid, metrics=metrics, params=[Param("bs", "32")], tags=[RunTag("phase", "train")])
    run = run_graphql(chronicle, rid)
    assert as_dict(run["params"]) == {"bs": "32"}
    assert as_dict(run["tags"])["phase"] == "train"
    h = history(chronicle, rid, "loss")
    assert h["totalCount"] == 400
    assert [p["step"] for p in h["points"]] == list(range(400))
    # One LogBatch is one append: params, tags and metrics land in the same correlation.
    entries = chronicle.graphql(
        'query($e: String!) { history(entity: $e, first: 100) { nodes { type correlationId } } }', {"e": f"run:{rid}"}
    )["history"]["nodes"]
    batch = [e for e in entries if e["type"] in ("RunParamsLogged", "RunTagsSet", "RunMetricsLogged")]
    assert {e["type"] for e in batch} == {"RunParamsLogged", "RunTagsSet", "RunMetricsLogged"}
    assert len({e["correlationId"] for e in batch}) == 1


def test_a_bad_item_refuses_the_whole_batch(chronicle: Any, mlflow_client: Any) -> None:
    rid = mlflow_client.create_run("0").info.run_id
    mlflow_client.log_param(rid, "p", "1")
    with pytest.raises(MlflowException) as err:
        mlflow_client.log_batch(rid, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("p", "2")])
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert history(chronicle, rid, "m")["totalCount"] == 0


def test_get_metric_history_returns_every_point(mlflow_client: Any) -> None:
    rid = mlflow_client.create_run("0").info.run_id
    ts = int(time.time() * 1000)
    for chunk in range(3):
        mlflow_client.log_batch(rid, metrics=[Metric("val", s * 0.5, ts + s, s) for s in range(chunk * 1000, chunk * 1000 + 1000)])
    hist = mlflow_client.get_metric_history(rid, "val")
    assert len(hist) == 3000
    assert [m.step for m in hist] == list(range(3000))
    assert all(m.value == m.step * 0.5 and m.key == "val" for m in hist)
    assert mlflow_client.get_metric_history(rid, "absent") == []


def test_nan_and_infinities_round_trip(chronicle: Any, mlflow_client: Any) -> None:
    rid = mlflow_client.create_run("0").info.run_id
    values = [float("nan"), float("inf"), float("-inf"), 1.25]
    for step, v in enumerate(values):
        mlflow_client.log_metric(rid, "odd", v, step=step)
    hist = mlflow_client.get_metric_history(rid, "odd")
    assert math.isnan(hist[0].value) and hist[1].value == math.inf and hist[2].value == -math.inf and hist[3].value == 1.25
    points = history(chronicle, rid, "odd")["points"]
    assert all(same_float(p["value"], v) for p, v in zip(points, values))


def test_params_are_immutable_with_mlflow_error_code(mlflow_client: Any) -> None:
    rid = mlflow_client.create_run("0").info.run_id
    mlflow_client.log_param(rid, "alpha", "1")
    mlflow_client.log_param(rid, "alpha", "1")  # the same value again is fine, as in MLflow
    with pytest.raises(MlflowException) as err:
        mlflow_client.log_param(rid, "alpha", "2")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_rename_terminate_delete_and_restore_a_run(chronicle: Any, mlflow_client: Any) -> None:
    rid = mlflow_client.create_run("0", run_name="before").info.run_id
    mlflow_client.update_run(rid, name="after")
    assert run_graphql(chronicle, rid)["name"] == "after"
    assert mlflow_client.get_run(rid).data.tags["mlflow.runName"] == "after"
    mlflow_client.set_tag(rid, "mlflow.runName", "via-tag")
    assert run_graphql(chronicle, rid)["name"] == "via-tag"
    mlflow_client.set_terminated(rid, "FAILED")
    assert run_graphql(chronicle, rid)["status"] == "FAILED"
    assert mlflow_client.get_run(rid).info.status == "FAILED"
    mlflow_client.delete_run(rid)
    assert run_graphql(chronicle, rid)["lifecycle"] == "DELETED"
    assert mlflow_client.get_run(rid).info.lifecycle_stage == "deleted"
    mlflow_client.restore_run(rid)
    assert run_graphql(chronicle, rid)["lifecycle"] == "ACTIVE"


def test_delete_tag(chronicle: Any, mlflow_client: Any) -> None:
    rid = mlflow_client.create_run("0").info.run_id
    mlflow_client.set_tag(rid, "temp", "1")
    mlflow_client.delete_tag(rid, "temp")
    assert "temp" not in as_dict(run_graphql(chronicle, rid)["tags"])
    assert "temp" not in mlflow_client.get_run(rid).data.tags


def test_experiment_lifecycle(chronicle: Any, mlflow_client: Any) -> None:
    name = unique("exp")
    exp_id = mlflow_client.create_experiment(name)
    assert mlflow_client.get_experiment_by_name(name).experiment_id == exp_id
    assert mlflow_client.get_experiment_by_name(unique("missing")) is None
    mlflow_client.set_experiment_tag(exp_id, "team", "nlp")
    renamed = unique("renamed")
    mlflow_client.rename_experiment(exp_id, renamed)
    g = chronicle.graphql("query($id: ID) { experiment(id: $id) { name tags { key value } lifecycle } }", {"id": exp_id})["experiment"]
    assert g["name"] == renamed and as_dict(g["tags"]) == {"team": "nlp"}
    # The old name is free again, as in MLflow.
    again = mlflow_client.create_experiment(name)
    assert again != exp_id
    mlflow_client.delete_experiment(exp_id)
    assert mlflow_client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert chronicle.graphql("query($id: ID) { experiment(id: $id) { lifecycle } }", {"id": exp_id})["experiment"]["lifecycle"] == "DELETED"
    mlflow_client.restore_experiment(exp_id)
    assert mlflow_client.get_experiment(exp_id).lifecycle_stage == "active"
    with pytest.raises(MlflowException) as err:
        mlflow_client.create_experiment(renamed, tags={"other": "request"})
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_set_experiment_creates_then_reuses(mlflow_client: Any) -> None:
    name = unique("setexp")
    first = mlflow.set_experiment(name)
    second = mlflow.set_experiment(name)
    assert first.experiment_id == second.experiment_id
    assert mlflow.set_experiment(experiment_id=first.experiment_id).name == name


def test_log_input_dataset_shows_in_graphql(chronicle: Any) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0.1, 0.2, 0.3]})
    dataset = mlflow.data.from_pandas(df, name="toy", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(dataset, context="training")  # logged once, as MLflow does
    got = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(got) == 1 and got[0].dataset.name == "toy" and got[0].dataset.digest == dataset.digest
    g = run_graphql(chronicle, run.info.run_id)["datasets"]
    assert len(g) == 1
    assert g[0]["name"] == "toy" and g[0]["digest"] == dataset.digest and g[0]["sourceType"] == dataset.source._get_source_type()
    assert as_dict(g[0]["tags"]) == {"mlflow.data.context": "training"}
    assert "x" in g[0]["schema"]
