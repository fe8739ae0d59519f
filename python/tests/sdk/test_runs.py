"""Run lifecycle: start, params, tags, nesting, status on exit, source and environment."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import chronicle as sdk
from sdk_helpers import run_status, unique


def test_context_manager_finishes_the_run_with_params_and_tags(chronicle, client):
    exp = unique("runs")
    with client.start_run("baseline", experiment=exp, params={"lr": 0.01, "layers": [64, 32]}, tags={"team": "vision"}) as run:
        run.log_param("depth", 6)
        run.set_tag("stage", "dev")
        assert run_status(chronicle, run.id) == "RUNNING"
    data = chronicle.graphql(
        """query($id: ID!) { run(id: $id) { status name endTime experiment { name } params { key value } tags { key value } } }""",
        {"id": run.id},
    )["run"]
    assert data["status"] == "FINISHED" and data["endTime"] is not None
    assert data["name"] == "baseline" and data["experiment"]["name"] == exp
    assert {p["key"]: p["value"] for p in data["params"]} == {"lr": "0.01", "layers": "[64,32]", "depth": "6"}
    tags = {t["key"]: t["value"] for t in data["tags"]}
    assert tags["team"] == "vision" and tags["stage"] == "dev"
    assert run.finished


def test_an_exception_ends_the_run_failed_and_is_not_swallowed(chronicle, client):
    with pytest.raises(ZeroDivisionError):
        with client.start_run("crashes") as run:
            run.log({"loss": 0.5}, step=0)
            1 / 0
    assert run_status(chronicle, run.id) == "FAILED"


def test_ctrl_c_ends_the_run_killed(chronicle, client):
    with pytest.raises(KeyboardInterrupt):
        with client.start_run("interrupted") as run:
            raise KeyboardInterrupt
    assert run_status(chronicle, run.id) == "KILLED"


def test_a_finished_run_refuses_more_logging(client):
    run = client.start_run("done")
    run.finish()
    with pytest.raises(sdk.ChronicleRunStateError):
        run.log({"loss": 1.0})
    with pytest.raises(sdk.ChronicleRunStateError):
        run.finish()


def test_nested_runs_record_their_parent(chronicle, client):
    exp = unique("nested")
    with client.start_run("parent", experiment=exp) as parent:
        with client.start_run("child", nested=True) as child:
            assert client.active_run() is child
        with client.start_run("explicit", parent=parent.id) as other:
            pass
        assert client.active_run() is parent
    data = chronicle.graphql("query($id: ID!) { run(id: $id) { children { id parentRunId experimentId } } }", {"id": parent.id})
    children = {c["id"]: c for c in data["run"]["children"]}
    assert set(children) == {child.id, other.id}
    assert all(c["parentRunId"] == parent.id and c["experimentId"] == parent.experiment_id for c in children.values())


def test_module_level_api_uses_init_and_the_active_run(chronicle):
    exp = unique("module")
    sdk.init(url=chronicle.url, token=chronicle.admin_token, experiment=exp)
    with sdk.start_run("fluent", params={"optimizer": "adam"}) as run:
        assert sdk.active_run() is run
        for step in range(5):
            sdk.log({"loss": 1.0 / (step + 1)}, step=step)
        sdk.log_params({"batch": 32})
        sdk.set_tags({"fluent": True})
    assert run not in sdk.client.active_runs()
    info = sdk.get_client().get_run(run.id)
    assert info.status == "FINISHED"
    assert info.params == {"optimizer": "adam", "batch": "32"} and info.tags["fluent"] == "true"
    assert info.metrics["loss"].count == 5 and info.metrics["loss"].step == 4
    assert sdk.get_client().get_experiment(exp).id == info.experiment_id


def test_init_reads_the_environment(chronicle, monkeypatch):
    monkeypatch.setenv("CHRONICLE_URL", chronicle.url + "/")
    monkeypatch.setenv("CHRONICLE_TOKEN", chronicle.admin_token)
    c = sdk.init()
    assert c.url == chronicle.url
    assert c.whoami()["authenticatedBy"] != "loopback"


def test_git_source_and_environment_are_recorded(chronicle, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q", "-b", "feature/x")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    git("remote", "add", "origin", "https://user:secret@example.com/team/repo.git")
    script = repo / "train.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import chronicle
            chronicle.init(url={chronicle.url!r}, token={chronicle.admin_token!r})
            with chronicle.start_run("git") as run:
                print(run.id)
            """
        )
    )
    git("add", "train.py")
    git("commit", "-q", "-m", "first")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    script.write_text(script.read_text() + "# an uncommitted change\n")
    res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    info = sdk.Client(chronicle.url, chronicle.admin_token).get_run(res.stdout.strip())
    assert info.source["gitCommit"] == commit
    # The token in the remote URL is not recorded.
    assert info.source["gitRepo"] == "https://example.com/team/repo.git"
    assert info.source["source"] == "train.py" and info.source["entryPoint"] == str(script)
    git_env = info.environment["git"]
    assert git_env["branch"] == "feature/x" and git_env["dirty"] is True
    assert "+# an uncommitted change" in git_env["diff"]
    assert info.environment["python"] == ".".join(map(str, sys.version_info[:3]))
    assert info.environment["platform"] and info.environment["sdk"].startswith("chronicle-python")


def test_resume_run_logs_to_an_existing_run(chronicle, client):
    first = client.start_run("resumable")
    first.log({"x": 1.0}, step=0)
    first.flush()
    again = client.resume_run(first.id)
    again.log({"x": 2.0}, step=1)
    again.finish()
    info = client.get_run(first.id)
    assert info.metrics["x"].count == 2 and info.status == "FINISHED"
    first.finish()  # the same status again is a no-op on the server
