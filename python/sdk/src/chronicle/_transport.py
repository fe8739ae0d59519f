"""One HTTP conversation with the server: auth, timeouts, error mapping, retries.

Standard library only (``http.client``). Small JSON requests reuse a keep-alive connection per
thread; streamed uploads and downloads get a connection of their own.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import IO, Any, Callable, Dict, Iterator, Mapping, Optional, Tuple, TypeVar, Union

from .errors import ChronicleApiError, ChronicleConfigError, ChronicleNetworkError, is_retryable

T = TypeVar("T")

#: The HTTP status that goes with each error code (the server's REST mapping).
STATUS_OF_CODE: Dict[str, int] = {
    "BAD_USER_INPUT": 400,
    "BAD_REQUEST": 400,
    "GRAPHQL_PARSE_FAILED": 400,
    "GRAPHQL_VALIDATION_FAILED": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "FAILED_PRECONDITION": 422,
    "INTERNAL_SERVER_ERROR": 500,
}

# Large reads and writes: fewer system calls than http.client's 8 KiB default.
_BLOCK = 1024 * 1024

Body = Union[bytes, IO[bytes], None]


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for reads and idempotent writes after network errors, 5xx, 408 and 429."""

    #: Tries in all, the first included.
    attempts: int = 5
    #: Delay before the second try, in seconds; doubles each time (with jitter).
    base_delay: float = 0.25
    #: Cap on one delay, in seconds.
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        exp = min(self.max_delay, self.base_delay * float(2 ** (attempt - 1)))
        # Jitter keeps many clients that lost the same server from coming back in lockstep.
        return exp / 2 + random.random() * (exp / 2)


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any


def _describe(e: BaseException) -> str:
    if isinstance(e, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(e, socket.gaierror):
        return f"cannot resolve the host name ({e.strerror or e})"
    if isinstance(e, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(e, (ConnectionResetError, BrokenPipeError)):
        return "the connection was reset"
    if isinstance(e, ssl.SSLError):
        return f"TLS error: {e}"
    text = str(e) or e.__class__.__name__
    return text


class Transport:
    """Sends requests to one Chronicle server. Thread-safe."""

    def __init__(
        self,
        url: str,
        token: Optional[str] = None,
        *,
        timeout: float = 30.0,
        retry: Optional[RetryPolicy] = None,
        user_agent: str = "chronicle-python",
    ) -> None:
        parsed = urllib.parse.urlsplit(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ChronicleConfigError(f"the server URL must look like http://host:port, not {url!r}")
        self.base_url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port or (443 if self._https else 80)
        # A server behind a reverse proxy may live under a path prefix.
        self._prefix = parsed.path.rstrip("/")
        self._token = token or None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._user_agent = user_agent
        self._local = threading.local()

    # -- connections -------------------------------------------------------------------------

    def _new_connection(self, timeout: Optional[float] = None) -> http.client.HTTPConnection:
        t = self.timeout if timeout is None else timeout
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=t, blocksize=_BLOCK)
        return http.client.HTTPConnection(self._host, self._port, timeout=t, blocksize=_BLOCK)

    def _pooled(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._new_connection()
            self._local.conn = conn
        return conn

    def _drop_pooled(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Closes this thread's keep-alive connection (others close when their thread ends)."""
        self._drop_pooled()

    def headers(self, extra: Optional[Mapping[str, str]] = None, idempotency_key: Optional[str] = None) -> Dict[str, str]:
        h = {"user-agent": self._user_agent, "accept": "application/json"}
        if self._token:
            h["authorization"] = f"Bearer {self._token}"
        if idempotency_key:
            h["idempotency-key"] = idempotency_key
        if extra:
            h.update(extra)
        return h

    def url_of(self, path: str) -> str:
        return self.base_url + path

    # -- retries -----------------------------------------------------------------------------

    def with_retry(self, retry: bool, once: Callable[[], T]) -> T:
        attempts = max(1, self.retry.attempts) if retry else 1
        attempt = 1
        while True:
            try:
                return once()
            except (ChronicleApiError, ChronicleNetworkError) as e:
                if attempt >= attempts or not is_retryable(e):
                    raise
                time.sleep(self.retry.delay(attempt))
                attempt += 1

    # -- one exchange ------------------------------------------------------------------------

    def _exchange(
        self,
        method: str,
        path: str,
        body: Body,
        headers: Mapping[str, str],
        *,
        pooled: bool = True,
        timeout: Optional[float] = None,
    ) -> Tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends a request and returns the connection with the response, its body unread."""
        conn = self._pooled() if pooled else self._new_connection(timeout)
        try:
            conn.request(method, self._prefix + path, body=body, headers=dict(headers))
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            # A half-used connection cannot carry the next request.
            if pooled:
                self._drop_pooled()
            else:
                conn.close()
            timed_out = isinstance(e, (socket.timeout, TimeoutError))
            reason = f"no answer within {conn.timeout} s" if timed_out else _describe(e)
            raise ChronicleNetworkError(
                f"cannot reach Chronicle at {self.base_url}: {reason}", url=self.url_of(path), timed_out=timed_out
            ) from e

    def send(
        self,
        method: str,
        path: str,
        body: Body = None,
        headers: Optional[Mapping[str, str]] = None,
        *,
        pooled: bool = True,
    ) -> Answer:
        """One request whose answer is read whole and parsed as JSON when it is JSON."""
        conn, res = self._exchange(method, path, body, headers or self.headers(), pooled=pooled)
        try:
            raw = res.read()
        except (OSError, http.client.HTTPException) as e:
            self._drop_pooled() if pooled else conn.close()
            raise ChronicleNetworkError(
                f"cannot reach Chronicle at {self.base_url}: the answer was cut off ({_describe(e)})", url=self.url_of(path)
            ) from e
        if not pooled or res.will_close:
            if pooled:
                self._drop_pooled()
            else:
                conn.close()
        parsed: Any = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
        return Answer(res.status, {k.lower(): v for k, v in res.getheaders()}, parsed)

    @staticmethod
    def _json_body(payload: Any) -> bytes:
        # allow_nan=False: JSON has no NaN; metric values are encoded as strings beforehand.
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")

    # -- GraphQL and REST ----------------------------------------------------------------------

    def graphql(
        self,
        query: str,
        variables: Optional[Mapping[str, Any]] = None,
        *,
        retry: bool = False,
        idempotency_key: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Runs a GraphQL operation and returns its ``data``; the first of ``errors`` is raised."""
        body = self._json_body({"query": query, "variables": dict(variables or {})})
        headers = self.headers({"content-type": "application/json"}, idempotency_key)

        def once() -> Dict[str, Any]:
            answer = self.send("POST", "/graphql", body, headers)
            res = answer.body if isinstance(answer.body, dict) else {}
            errors = res.get("errors")
            if errors:
                first = errors[0] if isinstance(errors[0], dict) else {}
                ext = dict(first.get("extensions") or {})
                code = ext.pop("code", None)
                if not isinstance(code, str):
                    code = "INTERNAL_SERVER_ERROR" if answer.status >= 500 else "BAD_REQUEST"
                # GraphQL answers resolver errors with HTTP 200; report the status REST would have used.
                status = answer.status if answer.status >= 400 else STATUS_OF_CODE.get(code, 400)
                raise ChronicleApiError(
                    str(first.get("message") or "the server reported an error"), code=code, status=status, details=ext
                )
            data = res.get("data")
            if answer.status >= 400 or not isinstance(data, dict):
                raise http_error(answer.status, answer.body)
            return data

        return self.with_retry(retry, once)

    def post_json(
        self,
        path: str,
        payload: Any,
        *,
        retry: bool = False,
        idempotency_key: Optional[str] = None,
        encoded: Optional[bytes] = None,
    ) -> Any:
        """POST a JSON body (or one already encoded) to a REST route and return the parsed answer."""
        body = encoded if encoded is not None else self._json_body(payload)
        headers = self.headers({"content-type": "application/json"}, idempotency_key)

        def once() -> Any:
            answer = self.send("POST", path, body, headers)
            if answer.status >= 400:
                raise rest_error(answer.status, answer.body)
            return answer.body

        return self.with_retry(retry, once)

    def upload(
        self,
        method: str,
        path: str,
        open_body: Callable[[], Tuple[Union[bytes, IO[bytes]], int]],
        *,
        content_type: str = "application/octet-stream",
        retry: bool = True,
        idempotency_key: Optional[str] = None,
        after: Optional[Callable[[Any], None]] = None,
    ) -> Any:
        """Streams a body (reopened for every try) and returns the parsed JSON answer.

        ``open_body`` gives bytes or a binary file object plus its length; a file object is sent
        in blocks, never read whole. ``after`` sees the answer of a successful try (e.g. to compare
        hashes) before the body is closed.
        """

        def once() -> Any:
            body, size = open_body()
            try:
                headers = self.headers({"content-type": content_type, "content-length": str(size)}, idempotency_key)
                answer = self.send(method, path, body, headers, pooled=False)
                if answer.status >= 400:
                    raise rest_error(answer.status, answer.body)
                if after is not None:
                    after(answer.body)
                return answer.body
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

        return self.with_retry(retry, once)

    @property
    def on_this_machine(self) -> bool:
        """Whether the server is on this machine (a same-host transfer is worth asking for)."""
        return self._host in ("127.0.0.1", "localhost", "::1")

    def download(self, path: str, *, retry: bool = True, headers: Optional[Mapping[str, str]] = None) -> "Download":
        """Opens a GET whose body is read in blocks by the caller (a file download)."""

        def once() -> Download:
            conn, res = self._exchange("GET", path, None, self.headers({"accept": "*/*", **(headers or {})}), pooled=False)
            if res.status >= 400:
                raw = res.read()
                conn.close()
                body: Any = raw.decode("utf-8", "replace")
                try:
                    body = json.loads(raw)
                except ValueError:
                    pass
                raise rest_error(res.status, body)
            return Download(self, path, conn, res)

        return self.with_retry(retry, once)


class Download:
    """A response body being streamed; iterate for blocks, then close (or use ``with``)."""

    def __init__(self, transport: Transport, path: str, conn: http.client.HTTPConnection, res: http.client.HTTPResponse) -> None:
        self._transport = transport
        self._path = path
        self._conn = conn
        self.response = res
        self.headers = {k.lower(): v for k, v in res.getheaders()}

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                block = self.response.read(_BLOCK)
            except (OSError, http.client.HTTPException) as e:
                raise ChronicleNetworkError(
                    f"cannot reach Chronicle at {self._transport.base_url}: the download was cut off ({_describe(e)})",
                    url=self._transport.url_of(self._path),
                ) from e
            if not block:
                return
            yield block

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Download":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def rest_error(status: int, body: Any) -> ChronicleApiError:
    """``{"error": {"code", "message", ...details}}`` becomes a ChronicleApiError."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        details = {k: v for k, v in err.items() if k not in ("code", "message")}
        message = err.get("message")
        code = err.get("code")
        return ChronicleApiError(
            message if isinstance(message, str) else f"HTTP {status}",
            code=code if isinstance(code, str) else f"HTTP_{status}",
            status=status,
            details=details,
        )
    # A GraphQL-shaped error on a REST route (the server answers some early failures this way).
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        ext = dict(errors[0].get("extensions") or {})
        code = ext.pop("code", None)
        return ChronicleApiError(
            str(errors[0].get("message") or f"HTTP {status}"),
            code=code if isinstance(code, str) else f"HTTP_{status}",
            status=status,
            details=ext,
        )
    return http_error(status, body)


def http_error(status: int, body: Any) -> ChronicleApiError:
    text = body[:200] if isinstance(body, str) else ""
    return ChronicleApiError(
        f"unexpected answer from the server (HTTP {status})" + (f": {text}" if text else ""),
        code="INTERNAL_SERVER_ERROR" if status >= 500 else f"HTTP_{status}",
        status=status,
    )
