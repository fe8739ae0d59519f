"""Dataset commits from a local directory, and the lineage a run declares."""

from __future__ import annotations

import hashlib
import os

import pytest

import chronicle as sdk
from chronicle.datasets import encode_manifest, walk
from sdk_helpers import unique


def make_tree(root):
    (root / "images" / "cats").mkdir(parents=True)
    (root / "images" / "cats" / "a.bin").write_bytes(b"cat-a" * 100)
    (root / "images" / "cats" / "b.bin").write_bytes(b"cat-b" * 100)
    (root / "labels.csv").write_text("id,label\n1,cat\n2,cat\n")
    (root / "copy.csv").write_text("id,label\n1,cat\n2,cat\n")  # same content: uploaded once
    (root / "large.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # streamed on its own
    (root / "ünïcode name.txt").write_text("ok")
    os.symlink(root / "images", root / "link-to-dir")  # not followed


def test_commit_uploads_what_is_missing_and_records_versions(chronicle, client, tmp_path):
    name = unique("ds")
    root = tmp_path / "data"
    root.mkdir()
    make_tree(root)
    v1 = client.commit_dataset(name, root, message="first", tags=["raw"])
    assert (v1.version, v1.changed, v1.file_count) == (1, True, 6)
    assert v1.uploaded_files == 5  # labels.csv and copy.csv share one blob
    assert v1.total_bytes == sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
    assert v1.ref == f"{name}@1" and v1.tags == ("raw",)

    same = client.commit_dataset(name, root)
    assert (same.version, same.changed, same.uploaded_files) == (1, False, 0)

    (root / "labels.csv").write_text("id,label\n1,cat\n2,dog\n")
    v2 = client.commit_dataset(name, root, message="relabel")
    assert (v2.version, v2.changed, v2.uploaded_files, v2.parent_version) == (2, True, 1, 1)

    diff = chronicle.graphql(
        'query($d: String!) { datasetDiff(dataset: $d, from: "1", to: "2") { modified { path } added { path } removed { path } } }',
        {"d": name},
    )["datasetDiff"]
    assert [m["path"] for m in diff["modified"]] == ["labels.csv"] and diff["added"] == diff["removed"] == []
    assert client.dataset_version(name, "raw").version == 1
    assert client.dataset_version(name).version == 2


def test_manifest_is_the_servers_canonical_form(tmp_path):
    root = tmp_path / "m"
    root.mkdir()
    for name in ("b", "a", "Z", "é", "\U0001f600", "\uff21"):
        (root / name).write_text(name)
    files, skipped = walk(root)
    from chronicle.datasets import hash_files

    manifest = encode_manifest(hash_files(files)).decode()
    # UTF-16 code-unit order (JavaScript's): the emoji (a surrogate pair) sorts before U+FF21.
    assert [line.split('"')[3] for line in manifest.splitlines()] == ["Z", "a", "b", "é", "\U0001f600", "\uff21"]
    assert manifest.endswith("\n") and ", " not in manifest and skipped == []


def test_checkout_writes_the_same_files(client, tmp_path):
    name = unique("checkout")
    root = tmp_path / "src"
    root.mkdir()
    make_tree(root)
    v = client.commit_dataset(name, root)
    out = tmp_path / "out"
    client.checkout_dataset(name, out, version=v.version)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    for f in ("images/cats/a.bin", "labels.csv", "large.bin", "ünïcode name.txt"):
        assert digest(out / f) == digest(root / f)
    assert not (out / "link-to-dir").exists()


def test_run_inputs_show_in_graphql_lineage(chronicle, client, tmp_path):
    name = unique("lineage")
    root = tmp_path / "train"
    root.mkdir()
    (root / "train.csv").write_text("x,y\n1,2\n")
    v = client.commit_dataset(name, root)
    (root / "val.csv").write_text("x,y\n3,4\n")
    v2 = client.commit_dataset(name, root)
    with client.start_run("trains-on-data") as run:
        run.use_dataset(v, role="train")
        inputs = run.use_dataset(name, role="validation")  # latest version
    assert {(i.dataset, i.version, i.role) for i in inputs} == {(name, 1, "train"), (name, 2, "validation")}
    data = chronicle.graphql(
        """query($id: ID!, $node: String!) {
          run(id: $id) { inputs { datasetName versionNumber role } }
          lineage(node: $node) { nodes { kind datasetVersion { dataset version } } }
        }""",
        {"id": run.id, "node": f"run:{run.id}"},
    )
    assert sorted((i["datasetName"], i["versionNumber"], i["role"]) for i in data["run"]["inputs"]) == [
        (name, 1, "train"),
        (name, 2, "validation"),
    ]
    versions = {(n["datasetVersion"]["dataset"], n["datasetVersion"]["version"]) for n in data["lineage"]["nodes"] if n["kind"] == "DATASET_VERSION"}
    assert {(name, 1), (name, v2.version)} <= versions


def test_bad_role_and_missing_path_are_refused(client, tmp_path):
    with pytest.raises(sdk.ChronicleInputError):
        client.commit_dataset(unique("nothing"), tmp_path / "does-not-exist")
    with client.start_run("bad-role") as run:
        with pytest.raises(sdk.ChronicleInputError):
            run.declare_inputs([{"dataset": "x", "version": 1, "role": "training"}])
        with pytest.raises(sdk.ChronicleApiError) as err:
            run.use_dataset("no-such-dataset", 1)
        assert err.value.code == "NOT_FOUND"
