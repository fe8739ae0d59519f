"""Typed errors, with the same semantics as the TypeScript SDK (`@chronicle/sdk`).

- :class:`ChronicleApiError`: the server answered and refused; ``code`` is its wire code
  (``BAD_USER_INPUT``, ``NOT_FOUND``, ``CONFLICT``, ``FAILED_PRECONDITION``, ``UNAUTHENTICATED``,
  ``FORBIDDEN``, ``INTERNAL_SERVER_ERROR``, ...), ``status`` the HTTP status, ``details`` the rest.
- :class:`ChronicleNetworkError`: no answer (unreachable, connection dropped, timed out). The
  request may or may not have been processed, which is why the SDK retries only requests that
  carry an idempotency key (all of its writes do) or that are reads.
- :class:`ChronicleInputError`: refused on this side before anything was sent (also a
  ``ValueError``).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional

__all__ = [
    "ChronicleError",
    "ChronicleApiError",
    "ChronicleNetworkError",
    "ChronicleInputError",
    "ChronicleConfigError",
    "ChronicleRunStateError",
    "ChronicleBufferFullError",
    "ChronicleIntegrityError",
    "is_retryable",
]


class ChronicleError(Exception):
    """Base class of every error this SDK raises on purpose."""


class ChronicleApiError(ChronicleError):
    """The server refused a request.

    For GraphQL errors, which arrive with HTTP 200, ``status`` is the status the same error gets
    from the REST endpoints (e.g. 404 for ``NOT_FOUND``).
    """

    def __init__(self, message: str, *, code: str, status: int, details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details: Mapping[str, Any] = MappingProxyType(dict(details or {}))

    def __str__(self) -> str:
        return f"{self.code} ({self.status}): {self.message}"

    def __repr__(self) -> str:
        return f"ChronicleApiError(code={self.code!r}, status={self.status}, message={self.message!r})"

    def __reduce__(self) -> Any:  # picklable, e.g. across multiprocessing
        return (_rebuild_api_error, (self.message, self.code, self.status, dict(self.details)))


def _rebuild_api_error(message: str, code: str, status: int, details: Dict[str, Any]) -> ChronicleApiError:
    return ChronicleApiError(message, code=code, status=status, details=details)


class ChronicleNetworkError(ChronicleError):
    """No answer from the server; ``code`` is ``NETWORK_ERROR`` or ``TIMEOUT``."""

    def __init__(self, message: str, *, url: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.code = "TIMEOUT" if timed_out else "NETWORK_ERROR"

    def __reduce__(self) -> Any:
        return (_rebuild_network_error, (self.message, self.url, self.code == "TIMEOUT"))


def _rebuild_network_error(message: str, url: str, timed_out: bool) -> ChronicleNetworkError:
    return ChronicleNetworkError(message, url=url, timed_out=timed_out)


class ChronicleInputError(ChronicleError, ValueError):
    """Input refused by the SDK itself (an invalid metric key, a non-numeric value, ...).

    Checked before sending because the server refuses a whole metric batch for one bad point,
    and the batch's good points would go with it.
    """


class ChronicleConfigError(ChronicleError):
    """The SDK is not set up: no server URL, a malformed one, or no active run."""


class ChronicleRunStateError(ChronicleError):
    """The run is finished (or finishing): start a new run to log more."""


class ChronicleBufferFullError(ChronicleError):
    """The metric buffer is full and the server cannot be reached: this call's points were not
    recorded. The points already buffered are kept and sent when the server is back."""


class ChronicleIntegrityError(ChronicleError):
    """Downloaded content does not hash to what the server said it is."""


def is_retryable(error: BaseException) -> bool:
    """Worth another try with the same idempotency key: nothing says the request was wrong."""
    if isinstance(error, ChronicleNetworkError):
        return True
    if isinstance(error, ChronicleApiError):
        return error.status >= 500 or error.status in (408, 429)
    return False
