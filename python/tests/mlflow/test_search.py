"""search_runs and search_experiments with the real client: filters, ordering, paging."""

from __future__ import annotations

import time
from typing import Any

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

from _helpers import unique

N = 25


@pytest.fixture(scope="module")
def populated(mlflow_client: Any) -> dict[str, Any]:
    """An experiment of 25 runs: acc = i/25, model a or b, every fifth run tagged gold."""
    exp_id = mlflow_client.create_experiment(unique("search"))
    ts = int(time.time() * 1000)
    runs: dict[str, int] = {}
    for i in range(N):
        rid = mlflow_client.create_run(exp_id, run_name=f"run-{i:02d}", start_time=ts + i).info.run_id
        mlflow_client.log_batch(
            rid,
            metrics=[Metric("acc", i / N, ts, 0), Metric("loss", 1 - i / N, ts, 0)],
            params=[Param("model", "a" if i % 2 == 0 else "b"), Param("depth", str(i % 4))],
            tags=[RunTag("tier", "gold" if i % 5 == 0 else "plain")],
        )
        runs[rid] = i
    return {"exp_id": exp_id, "runs": runs}


def index(populated: dict[str, Any], found: list[Any]) -> list[int]:
    return [populated["runs"][r.info.run_id] for r in found]


def test_filter_and_order(mlflow_client: Any, populated: dict[str, Any]) -> None:
    found = mlflow_client.search_runs(
        [populated["exp_id"]], "metrics.acc > 0.5 and params.model = 'a'", order_by=["metrics.acc DESC"]
    )
    assert index(populated, found) == [i for i in range(N - 1, -1, -1) if i / N > 0.5 and i % 2 == 0]
    tagged = mlflow_client.search_runs([populated["exp_id"]], "tags.tier = 'gold'", order_by=["attributes.run_name ASC"])
    assert index(populated, tagged) == [0, 5, 10, 15, 20]
    by_name = mlflow_client.search_runs([populated["exp_id"]], "attributes.run_name LIKE 'run-1%'")
    assert sorted(index(populated, by_name)) == list(range(10, 20))
    by_param_number = mlflow_client.search_runs([populated["exp_id"]], "params.depth = '3'")
    assert sorted(index(populated, by_param_number)) == [i for i in range(N) if i % 4 == 3]


def test_default_order_is_newest_first(mlflow_client: Any, populated: dict[str, Any]) -> None:
    found = mlflow_client.search_runs([populated["exp_id"]])
    assert index(populated, found) == list(range(N - 1, -1, -1))


def test_or_is_an_extension_over_mlflow(mlflow_client: Any, populated: dict[str, Any]) -> None:
    found = mlflow_client.search_runs([populated["exp_id"]], "metrics.acc < 0.1 OR metrics.acc >= 0.9", order_by=["metrics.acc"])
    assert index(populated, found) == [0, 1, 2, 23, 24]


def test_paging_with_page_token_visits_every_run_once(mlflow_client: Any, populated: dict[str, Any]) -> None:
    seen: list[int] = []
    token = None
    pages = 0
    while True:
        page = mlflow_client.search_runs([populated["exp_id"]], order_by=["metrics.loss ASC"], max_results=7, page_token=token)
        seen += index(populated, page)
        pages += 1
        token = page.token
        if not token:
            break
    assert pages == 4
    assert seen == list(range(N - 1, -1, -1))


def test_view_type_and_deleted_runs(mlflow_client: Any) -> None:
    exp_id = mlflow_client.create_experiment(unique("views"))
    keep = mlflow_client.create_run(exp_id).info.run_id
    gone = mlflow_client.create_run(exp_id).info.run_id
    mlflow_client.delete_run(gone)
    ids = lambda vt: {r.info.run_id for r in mlflow_client.search_runs([exp_id], run_view_type=vt)}  # noqa: E731
    assert ids(ViewType.ACTIVE_ONLY) == {keep}
    assert ids(ViewType.DELETED_ONLY) == {gone}
    assert ids(ViewType.ALL) == {keep, gone}


def test_fluent_search_runs_dataframe(populated: dict[str, Any]) -> None:
    df = mlflow.search_runs(experiment_ids=[populated["exp_id"]], filter_string="metrics.acc >= 0.8")
    assert len(df) == 5
    assert set(df["params.model"]) == {"a", "b"}
    assert sorted(df["metrics.acc"].tolist()) == [20 / N, 21 / N, 22 / N, 23 / N, 24 / N]


def test_search_matches_graphql(chronicle: Any, mlflow_client: Any, populated: dict[str, Any]) -> None:
    flt = "metrics.loss <= 0.4 and tags.tier != 'gold'"
    via_mlflow = [r.info.run_id for r in mlflow_client.search_runs([populated["exp_id"]], flt, order_by=["metrics.loss"])]
    g = chronicle.graphql(
        "query($e: [ID!], $f: String, $o: [String!]) { runs(experimentIds: $e, filter: $f, orderBy: $o, first: 100) { nodes { id } totalCount } }",
        {"e": [populated["exp_id"]], "f": flt, "o": ["metrics.loss"]},
    )["runs"]
    assert [n["id"] for n in g["nodes"]] == via_mlflow
    assert g["totalCount"] == len(via_mlflow) == 8


def test_bad_filter_is_invalid_parameter(mlflow_client: Any, populated: dict[str, Any]) -> None:
    with pytest.raises(MlflowException) as err:
        mlflow_client.search_runs([populated["exp_id"]], "metrics.acc >>> 1")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as err:
        mlflow_client.search_runs([populated["exp_id"]], order_by=["nonsense.key DESC"])
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_experiments(mlflow_client: Any) -> None:
    prefix = unique("sx")
    ids = [mlflow_client.create_experiment(f"{prefix}-{i}", tags={"parity": "even" if i % 2 == 0 else "odd"}) for i in range(5)]
    found = mlflow_client.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
    assert [e.experiment_id for e in found] == list(reversed(ids))
    odd = mlflow_client.search_experiments(filter_string=f"name LIKE '{prefix}%' AND tags.parity = 'odd'")
    assert {e.experiment_id for e in odd} == {ids[1], ids[3]}
    first = mlflow_client.search_experiments(filter_string=f"name LIKE '{prefix}%'", max_results=2, order_by=["name"])
    assert [e.experiment_id for e in first] == ids[:2] and first.token
    rest = mlflow_client.search_experiments(filter_string=f"name LIKE '{prefix}%'", max_results=10, order_by=["name"], page_token=first.token)
    assert [e.experiment_id for e in rest] == ids[2:] and not rest.token
    mlflow_client.delete_experiment(ids[0])
    deleted = mlflow_client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name LIKE '{prefix}%'")
    assert [e.experiment_id for e in deleted] == [ids[0]]
    with pytest.raises(MlflowException) as err:
        mlflow_client.search_experiments(filter_string="name = 'a' OR name = 'b'")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
