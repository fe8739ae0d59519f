"""Dataset versions: a local directory committed as content-addressed files plus a manifest.

The same protocol as the CLI's ``chronicle data commit``: hash every file, ask the server which
hashes it lacks, upload only those (small files in batches, large ones streamed one by one),
upload the canonical manifest, then record the version last, so an interrupted commit leaves no
version behind. Committing the same content again records nothing (``changed`` is False).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from ._transport import Transport
from .artifacts import stream_to_file
from .errors import ChronicleApiError, ChronicleInputError, ChronicleIntegrityError
from .types import DATASET_VERSION_FIELDS, DatasetVersion

PathLike = Union[str, "os.PathLike[str]"]

#: Hashes per existence check.
MISSING_BATCH = 5000
#: Files up to this size travel in batch uploads; larger ones are streamed one by one.
BATCH_ITEM_MAX = 1024 * 1024
BATCH_MAX_ITEMS = 200
BATCH_MAX_BYTES = 4 * 1024 * 1024
UPLOAD_PARALLEL = 4
_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class LocalFile:
    #: Relative to the committed root, ``/``-separated.
    path: str
    absolute: str
    size: int
    sha256: str = ""


def walk(root: PathLike) -> Tuple[List[LocalFile], List[Tuple[str, str]]]:
    """Every regular file under ``root`` (or ``root`` itself if it is a file), plus what was
    skipped and why. Symlinks to files are followed; symlinks to directories are not (a link
    cycle can never make the walk endless); empty directories hold no file and are not versioned."""
    top = os.fspath(root)
    if os.path.isfile(top):
        return [LocalFile(os.path.basename(top), top, os.stat(top).st_size)], []
    if not os.path.isdir(top):
        raise ChronicleInputError(f"{top} is neither a file nor a directory")
    files: List[LocalFile] = []
    skipped: List[Tuple[str, str]] = []
    for dirpath, dirs, names in os.walk(top, followlinks=False):
        rel_dir = os.path.relpath(dirpath, top)
        for d in list(dirs):
            if os.path.islink(os.path.join(dirpath, d)):
                skipped.append((_rel(rel_dir, d), "symlink to a directory"))
        for name in names:
            absolute = os.path.join(dirpath, name)
            path = _rel(rel_dir, name)
            try:
                st = os.stat(absolute)
            except OSError:
                skipped.append((path, "dangling symlink"))
                continue
            if not os.path.isfile(absolute):
                skipped.append((path, "not a regular file"))
                continue
            try:
                path.encode("utf-8")
            except UnicodeEncodeError:
                raise ChronicleInputError(f"file name {path!r} is not valid UTF-8; rename it to commit it") from None
            files.append(LocalFile(path, absolute, st.st_size))
    return files, skipped


def _rel(rel_dir: str, name: str) -> str:
    rel = name if rel_dir == "." else os.path.join(rel_dir, name)
    return rel.replace(os.sep, "/")


def sha256_file(path: str) -> Tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(_BLOCK)
            if not block:
                break
            h.update(block)  # releases the GIL for large blocks: threads hash in parallel
            size += len(block)
    return h.hexdigest(), size


def hash_files(files: Sequence[LocalFile], workers: int = 0) -> List[LocalFile]:
    workers = workers or min(8, (os.cpu_count() or 1) * 2)

    def one(f: LocalFile) -> LocalFile:
        digest, size = sha256_file(f.absolute)
        return LocalFile(f.path, f.absolute, size, digest)

    if len(files) <= 1:
        return [one(f) for f in files]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, files))


def encode_manifest(files: Iterable[LocalFile]) -> bytes:
    """The canonical manifest the server expects (and re-checks): one JSON line per file with
    sorted keys and no spaces, sorted by path in UTF-16 code-unit order (JavaScript's)."""
    ordered = sorted(files, key=lambda f: f.path.encode("utf-16-be"))
    lines = []
    for i, f in enumerate(ordered):
        if i > 0 and ordered[i - 1].path == f.path:
            raise ChronicleInputError(f"the dataset lists {f.path!r} twice")
        lines.append(json.dumps({"path": f.path, "sha256": f.sha256, "size": f.size}, ensure_ascii=False, separators=(",", ":")))
    return "".join(line + "\n" for line in lines).encode("utf-8")


def encode_blob_batch(items: Sequence[Tuple[str, bytes]]) -> bytes:
    """The batch wire format: per item its SHA-256 (32 raw bytes), its size (u64 big-endian), its bytes."""
    parts: List[bytes] = []
    for sha, data in items:
        parts.append(bytes.fromhex(sha))
        parts.append(struct.pack(">Q", len(data)))
        parts.append(data)
    return b"".join(parts)


class DatasetsApi:
    def __init__(self, t: Transport) -> None:
        self._t = t

    def head(self, name: str) -> Optional[int]:
        """The head version number; None for a dataset without versions; NOT_FOUND if none."""
        data = self._t.graphql("query($n: String!) { dataset(name: $n) { latestVersion } }", {"n": name}, retry=True)
        latest = int(data["dataset"]["latestVersion"])
        return None if latest == 0 else latest

    def create(self, name: str, description: str = "") -> None:
        self._t.graphql(
            "mutation($n: String!, $d: String) { createDataset(name: $n, description: $d) { name } }",
            {"n": name, "d": description},
            retry=True,
            idempotency_key=uuid.uuid4().hex,
        )

    def version(self, name: str, version: Union[int, str, None] = None) -> DatasetVersion:
        data = self._t.graphql(
            f"query($d: String!, $v: String) {{ datasetVersion(dataset: $d, version: $v) {{ {DATASET_VERSION_FIELDS} }} }}",
            {"d": name, "v": None if version is None else str(version)},
            retry=True,
        )
        v = data.get("datasetVersion")
        if v is None:
            raise ChronicleApiError(
                f"dataset {name} has no version {version if version is not None else '(none yet)'}",
                code="NOT_FOUND",
                status=404,
                details={"dataset": name, "version": version},
            )
        return DatasetVersion.from_wire(v)

    def missing(self, hashes: Sequence[str]) -> Set[str]:
        unique = sorted(set(hashes))
        out: Set[str] = set()
        if not unique:
            return out
        for i in range(0, len(unique), MISSING_BATCH):
            res = self._t.post_json("/api/v1/blobs/missing", {"sha256": unique[i : i + MISSING_BATCH]}, retry=True)
            out.update(res["missing"])
        return out

    def upload_blob(self, sha256: str, path: Optional[str] = None, data: Optional[bytes] = None) -> None:
        """Content-addressed, so a retry can only store the same bytes again: always safe."""

        def open_body() -> Tuple[Any, int]:
            if data is not None:
                return data, len(data)
            f = open(path or "", "rb")
            return f, os.fstat(f.fileno()).st_size

        self._t.upload("PUT", f"/api/v1/blobs/{sha256}", open_body)

    def upload_batch(self, files: Sequence[LocalFile]) -> None:
        items = []
        for f in files:
            with open(f.absolute, "rb") as fh:
                items.append((f.sha256, fh.read()))
        body = encode_blob_batch(items)
        self._t.upload("POST", "/api/v1/blobs/batch", lambda: (body, len(body)), content_type="application/vnd.chronicle.blob-batch")

    def commit(
        self,
        name: str,
        root: PathLike,
        *,
        message: str = "",
        tags: Sequence[str] = (),
        rebase: bool = False,
        on_progress: Optional[Callable[[str, int, int], None]] = None,
    ) -> DatasetVersion:
        files, _skipped = walk(root)
        files = hash_files(files)
        try:
            head = self.head(name)
        except ChronicleApiError as e:
            if e.code != "NOT_FOUND":
                raise
            try:
                self.create(name)
            except ChronicleApiError as c:
                # Another committer created it first: commit on top of it like any other.
                if c.code != "CONFLICT":
                    raise
            head = self.head(name)
        missing = self.missing([f.sha256 for f in files])
        uploads: Dict[str, LocalFile] = {}
        for f in files:
            if f.sha256 in missing and f.sha256 not in uploads:
                uploads[f.sha256] = f
        todo = list(uploads.values())
        uploaded_bytes = sum(f.size for f in todo)
        singles = [f for f in todo if f.size > BATCH_ITEM_MAX]
        batches: List[List[LocalFile]] = []
        current: List[LocalFile] = []
        current_bytes = 0
        for f in todo:
            if f.size > BATCH_ITEM_MAX:
                continue
            if len(current) >= BATCH_MAX_ITEMS or (current and current_bytes + f.size > BATCH_MAX_BYTES):
                batches.append(current)
                current, current_bytes = [], 0
            current.append(f)
            current_bytes += f.size
        if current:
            batches.append(current)
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if on_progress is not None:
                on_progress("uploading", done[0], len(todo))

        def run_batch(batch: List[LocalFile]) -> None:
            self.upload_batch(batch)
            progress(len(batch))

        def run_single(f: LocalFile) -> None:
            self.upload_blob(f.sha256, path=f.absolute)
            progress(1)

        if todo:
            with ThreadPoolExecutor(UPLOAD_PARALLEL) as pool:
                futures = [pool.submit(run_batch, b) for b in batches] + [pool.submit(run_single, f) for f in singles]
                for fut in futures:
                    fut.result()  # the first failure is raised here
        manifest = encode_manifest(files)
        manifest_sha = hashlib.sha256(manifest).hexdigest()
        self.upload_blob(manifest_sha, data=manifest)
        if on_progress is not None:
            on_progress("recording", len(todo), len(todo))
        while True:
            try:
                data = self._t.graphql(
                    f"""mutation($d: String!, $p: Int, $m: String!, $msg: String, $tags: [String!], $k: String) {{
                      commitDatasetVersion(dataset: $d, parentVersion: $p, manifestSha256: $m, message: $msg, tags: $tags, idempotencyKey: $k) {{
                        changed version {{ {DATASET_VERSION_FIELDS} }}
                      }}
                    }}""",
                    {"d": name, "p": head, "m": manifest_sha, "msg": message, "tags": list(tags), "k": uuid.uuid4().hex},
                    retry=True,
                )
            except ChronicleApiError as e:
                if not (rebase and e.code == "CONFLICT"):
                    raise
                head = self.head(name)
                continue
            r = data["commitDatasetVersion"]
            return DatasetVersion.from_wire(
                r["version"], changed=bool(r["changed"]), uploaded_files=len(todo), uploaded_bytes=uploaded_bytes
            )

    def checkout(self, name: str, version: Union[int, str, None], dest: PathLike) -> DatasetVersion:
        """Writes the version's files under ``dest``, each verified against its hash."""
        v = self.version(name, version)
        root = os.fspath(dest)
        with self._t.download(f"/api/v1/blobs/{v.manifest_sha256}") as res:
            manifest = b"".join(res)
        if hashlib.sha256(manifest).hexdigest() != v.manifest_sha256:
            raise ChronicleIntegrityError(f"the manifest of {name}@{v.version} does not hash to {v.manifest_sha256}")
        for line in manifest.decode("utf-8").splitlines():
            entry = json.loads(line)
            rel = entry["path"]
            if rel.startswith("/") or any(seg in ("", ".", "..") for seg in rel.split("/")):
                raise ChronicleInputError(f"manifest path {rel!r} would leave the checkout directory")
            target = os.path.join(root, *rel.split("/"))
            with self._t.download(f"/api/v1/blobs/{entry['sha256']}") as res:
                stream_to_file(res, target, entry["sha256"], what=f"{name}@{v.version}:{rel}")
        return v

    def declare_inputs(self, run_id: str, inputs: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
        decl = []
        for i in inputs:
            role = i.get("role", "train")
            if role not in ("train", "validation", "test", "other"):
                raise ChronicleInputError(f"role must be train, validation, test or other, not {role!r}")
            decl.append({"dataset": i["dataset"], "version": str(i["version"]), "role": role})
        data = self._t.graphql(
            """mutation($r: String!, $i: [RunInputDeclaration!]!, $k: String) {
              declareRunInputs(runId: $r, inputs: $i, idempotencyKey: $k) { datasetName versionId versionNumber role }
            }""",
            {"r": run_id, "i": decl, "k": uuid.uuid4().hex},
            retry=True,
        )
        rows: List[Dict[str, Any]] = data["declareRunInputs"]
        return rows

    def declare_outputs(self, run_id: str, outputs: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
        decl = [{"dataset": o["dataset"], "version": str(o["version"])} for o in outputs]
        data = self._t.graphql(
            """mutation($r: String!, $o: [RunOutputDeclaration!]!, $k: String) {
              declareRunOutputs(runId: $r, outputs: $o, idempotencyKey: $k) { datasetName versionId versionNumber }
            }""",
            {"r": run_id, "o": decl, "k": uuid.uuid4().hex},
            retry=True,
        )
        rows: List[Dict[str, Any]] = data["declareRunOutputs"]
        return rows
