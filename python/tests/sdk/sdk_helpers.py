"""Helpers for the SDK's tests (imported as `sdk_helpers`): GraphQL checks, child Python
processes that use the SDK, a server restart on the same port and data, and an HTTP proxy that
loses answers."""

from __future__ import annotations

import http.client
import http.server
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import chronicle as sdk

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVER_MAIN = REPO_ROOT / "apps" / "server" / "dist" / "main.js"
#: The `chronicle` fixture's server (python/tests/conftest.py: url, admin_token, graphql, ...).
ChronicleServer = Any


def chronicle_client(server: Any, **kw: Any) -> sdk.Client:
    return sdk.Client(server.url, server.admin_token, **kw)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def history(server: ChronicleServer, run_id: str, key: str) -> List[Dict[str, Any]]:
    """Every stored point of a metric, read through GraphQL (not through the SDK)."""
    data = server.graphql(
        "query($r: ID!, $k: String!) { metricHistory(runId: $r, key: $k, first: 100000) { totalCount points { step value } } }",
        {"r": run_id, "k": key},
    )
    page = data["metricHistory"]
    assert page["totalCount"] == len(page["points"])
    return page["points"]


def run_status(server: ChronicleServer, run_id: str) -> str:
    return server.graphql("query($id: ID!) { run(id: $id) { status } }", {"id": run_id})["run"]["status"]


def run_script(server: ChronicleServer, code: str, *, timeout: float = 60, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Runs Python code in a child process with CHRONICLE_URL/TOKEN pointing at the server."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "CHRONICLE_URL": server.url, "CHRONICLE_TOKEN": server.admin_token, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def spawn_script(server: ChronicleServer, code: str, env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "CHRONICLE_URL": server.url, "CHRONICLE_TOKEN": server.admin_token, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_healthy(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as res:
                if res.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy")


def stop_server(server: ChronicleServer) -> None:
    """Stops the process but keeps its data directory (unlike `server.stop()`)."""
    server.process.terminate()
    server.process.wait(timeout=15)


def start_again(server: ChronicleServer) -> None:
    """Starts the server again on the same port and data: the same history, a new process."""
    port = urllib.parse.urlsplit(server.url).port
    log_file = open(server.log_path, "ab")
    server.process = subprocess.Popen(
        ["node", str(SERVER_MAIN)],
        env={
            **os.environ,
            "CHRONICLE_DATA_DIR": str(server.data_dir / "data"),
            "CHRONICLE_PORT": str(port),
            "CHRONICLE_HOST": "127.0.0.1",
            "CHRONICLE_LOG_LEVEL": "warn",
        },
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    wait_healthy(server.url)


class LossyProxy:
    """An HTTP proxy to the server that forwards every request (after `delay` seconds), but for
    the first `drop` requests matching `should_drop(method, path)` closes the connection instead
    of relaying the answer: the server did the work, the client never heard. Records what it saw."""

    def __init__(self, upstream: str, should_drop: Callable[[str, str], bool], drop: int = 1, delay: float = 0.0) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.delay = delay
        self.should_drop = should_drop
        self.to_drop = drop
        self.seen: List[Tuple[str, str, Optional[str]]] = []
        self.dropped: List[Tuple[str, str, Optional[str]]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                if proxy.delay:
                    time.sleep(proxy.delay)  # a slow network: the client waits for each answer
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                key = self.headers.get("idempotency-key")
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                res = conn.getresponse()
                payload = res.read()
                conn.close()
                with proxy._lock:
                    proxy.seen.append((self.command, self.path, key))
                    drop = proxy.to_drop > 0 and proxy.should_drop(self.command, self.path)
                    if drop:
                        proxy.to_drop -= 1
                        proxy.dropped.append((self.command, self.path, key))
                if drop:
                    self.close_connection = True
                    return  # the answer is lost on the way back
                self.send_response(res.status)
                for k, v in res.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _forward

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "LossyProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
