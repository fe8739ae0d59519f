"""Artifacts streamed up and down, and models registered from them."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

import pytest

import chronicle as sdk
from sdk_helpers import chronicle_client, unique

MB = 1024 * 1024


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MB), b""):
            h.update(block)
    return h.hexdigest()


def test_multi_megabyte_artifact_round_trip_is_streamed(chronicle, client, tmp_path):
    src = tmp_path / "weights.bin"
    with open(src, "wb") as f:
        for _ in range(24):
            f.write(os.urandom(MB))
    with client.start_run("artifacts") as run:
        tracemalloc.start()
        up = run.log_artifact(src, "checkpoints/weights.bin")
        _, peak_up = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert up.created and up.size == 24 * MB and up.sha256 == sha256(src)
        again = run.log_artifact(src, "checkpoints/weights.bin")  # same content, same path
        assert not again.created
    # Neither direction holds the file in memory (24 MB); a few 1 MB blocks at most.
    assert peak_up < 4 * MB
    tracemalloc.start()
    out = client.download_artifact(run.id, "checkpoints/weights.bin", tmp_path / "out")  # a new file path
    _, peak_down = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak_down < 4 * MB
    assert sha256(out) == sha256(src)
    arts = chronicle.graphql("query($id: ID!) { run(id: $id) { artifacts { path size sha256 } } }", {"id": run.id})["run"]["artifacts"]
    assert arts == [{"path": "checkpoints/weights.bin", "size": 24 * MB, "sha256": up.sha256}]


def test_directory_upload_keeps_relative_paths(client, tmp_path):
    d = tmp_path / "model"
    (d / "sub").mkdir(parents=True)
    (d / "config.json").write_text('{"layers": 2}')
    (d / "sub" / "vocab.txt").write_text("a\nb\n")
    with client.start_run("dir") as run:
        ups = run.log_artifacts(d, "model")
    assert sorted(u.path for u in ups) == ["model/config.json", "model/sub/vocab.txt"]
    assert {a.path: a.content_type for a in client.get_run(run.id).artifacts}["model/config.json"] == "application/json"
    into_dir = tmp_path / "dl"
    into_dir.mkdir()
    path = run.download_artifact("model/sub/vocab.txt", into_dir)
    assert open(path).read() == "a\nb\n" and path == str(into_dir / "vocab.txt")


def test_other_content_under_a_taken_path_is_refused(client, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("one")
    b.write_text("two")
    with client.start_run("taken") as run:
        run.log_artifact(a, "x.txt")
        with pytest.raises(sdk.ChronicleApiError) as err:
            run.log_artifact(b, "x.txt")
    assert (err.value.code, err.value.status) == ("BAD_USER_INPUT", 400)
    assert "immutable" in err.value.message and err.value.details["path"] == "x.txt"
    with pytest.raises(sdk.ChronicleInputError):
        client.upload_artifact(run.id, a, "../escape")


def test_register_model_versions_and_aliases(chronicle, client, tmp_path):
    name = unique("model")
    weights = tmp_path / "model.pkl"
    weights.write_bytes(b"v1-weights")
    with client.start_run("train-1") as run1:
        run1.log_artifact(weights)
        v1 = sdk.init(url=chronicle.url, token=chronicle.admin_token).register_model(name, run1, "model.pkl", alias="champion", format="pickle")
    assert (v1.model, v1.version, v1.run_id, v1.aliases) == (name, 1, run1.id, ("champion",))
    weights.write_bytes(b"v2-weights")
    with client.start_run("train-2") as run2:
        run2.log_artifact(weights)
        v2 = run2.register_model(name, "model.pkl", description="second")
    assert v2.version == 2 and v2.sha256 == hashlib.sha256(b"v2-weights").hexdigest()
    assert client.resolve_model(f"{name}@champion").version == 1
    client.set_model_alias(name, "champion", 2, expected_current_version=1)
    assert client.resolve_model(f"{name}@champion").version == 2
    with pytest.raises(sdk.ChronicleApiError) as err:
        client.set_model_alias(name, "champion", 1, expected_current_version=1)  # stale compare-and-set
    assert err.value.code == "CONFLICT"
    out = client.download_model(f"{name}@champion", tmp_path / "loaded.pkl")
    assert open(out, "rb").read() == b"v2-weights"
    history = chronicle.graphql(
        "query($m: String!) { aliasHistory(model: $m, alias: \"champion\") { version } }", {"m": name}
    )["aliasHistory"]
    assert [h["version"] for h in history] == [1, 2]
    with pytest.raises(sdk.ChronicleApiError) as err:
        client.register_model(name, run2, "no-such-artifact")
    assert (err.value.code, err.value.status, err.value.details["path"]) == ("NOT_FOUND", 404, "no-such-artifact")


def test_same_host_server_copies_artifacts_from_an_opened_directory(tmp_path, monkeypatch, start_server):
    """A server on this machine with the directory opened copies the file itself (no bytes
    stream); outside that directory, or with it closed, the file streams as before."""
    from chronicle._transport import Transport

    opened = tmp_path / "opened"
    opened.mkdir()
    server = start_server({"CHRONICLE_LOCAL_TRANSFER_ROOTS": str(opened)})
    client = chronicle_client(server)
    inside = opened / "model.bin"
    inside.write_bytes(os.urandom(3 * MB))
    outside = tmp_path / "notes.txt"
    outside.write_text("streamed")
    streamed_uploads = []
    real_upload = Transport.upload
    monkeypatch.setattr(Transport, "upload", lambda self, *a, **k: streamed_uploads.append(a[1]) or real_upload(self, *a, **k))
    with client.start_run("same-host") as run:
        copied = run.log_artifact(inside, "model.bin")
        assert copied.created and copied.size == 3 * MB and copied.sha256 == sha256(inside)
        assert streamed_uploads == []
        run.log_artifact(outside, "notes.txt")
        assert len(streamed_uploads) == 1
        original = sha256(inside)
        inside.write_bytes(b"edited after the copy")
        dest = run.download_artifact("model.bin", tmp_path / "back.bin")
        assert sha256(dest) == original
        # A stored file that rotted is refused on the same-host path too.
        stored = server.data_dir / "data" / "blobs" / original[:2] / original[2:4] / original
        data = bytearray(stored.read_bytes())
        data[MB] ^= 0xFF
        stored.write_bytes(bytes(data))
        with pytest.raises(sdk.ChronicleIntegrityError):
            run.download_artifact("model.bin", tmp_path / "rotten.bin")
        assert not (tmp_path / "rotten.bin").exists()
    client.close()
