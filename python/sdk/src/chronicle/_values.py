"""Client-side checks and wire encodings that mirror the server's rules."""

from __future__ import annotations

import json
import math
import operator
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from .errors import ChronicleInputError

MAX_KEY_LENGTH = 250

# The server's rule for metric, param and tag keys (MLflow's): letters, digits, underscores,
# dashes, periods, spaces, colons and slashes. `\w` is Unicode letters, digits and `_`.
_KEY = re.compile(r"[\w\-. :/]+")

KeyValues = Union[Mapping[str, Any], Iterable[Tuple[str, Any]]]


def check_key(kind: str, key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ChronicleInputError(f"{kind} key must be a non-empty string, not {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise ChronicleInputError(f"{kind} key {key[:40]!r}... is longer than {MAX_KEY_LENGTH} characters")
    if not _KEY.fullmatch(key) or ".." in key or key.startswith("/"):
        raise ChronicleInputError(
            f"{kind} key {key!r} is invalid: use letters, digits, underscores, dashes, periods, spaces, colons and slashes"
            " (no '..', no leading '/')"
        )
    return key


def coerce_value(key: str, value: Any) -> float:
    """A metric value as a float: ints, floats, bools and numeric scalars (numpy, torch) pass."""
    if isinstance(value, (str, bytes)):
        raise ChronicleInputError(f"metric {key!r}: value must be a number, not the string {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise ChronicleInputError(f"metric {key!r}: value must be a number (NaN and ±inf are fine), not {type(value).__name__}") from e


def check_step(step: Any) -> Optional[int]:
    if step is None:
        return None
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise ChronicleInputError(f"step must be an integer, not {step!r}")
    return operator.index(step)  # ints, numpy integers


def check_timestamp(timestamp: Any) -> int:
    """Milliseconds since the epoch: a non-negative integer (numpy integers too)."""
    if isinstance(timestamp, bool) or not hasattr(timestamp, "__index__") or operator.index(timestamp) < 0:
        raise ChronicleInputError(f"timestamp must be a non-negative integer of milliseconds, not {timestamp!r}")
    return operator.index(timestamp)


def encode_value(v: float) -> str:
    """A value as JSON text: a number, or one of "NaN", "Infinity", "-Infinity"."""
    if v != v:
        return '"NaN"'
    if v == math.inf:
        return '"Infinity"'
    if v == -math.inf:
        return '"-Infinity"'
    return repr(v)


def decode_value(v: Any) -> float:
    if isinstance(v, (int, float)):
        return float(v)
    if v == "NaN":
        return math.nan
    if v == "Infinity":
        return math.inf
    if v == "-Infinity":
        return -math.inf
    return float(v)


def stringify(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, separators=(",", ":"), default=str)
    return str(v)


def to_key_values(kind: str, values: Optional[KeyValues]) -> List[Dict[str, str]]:
    """``{"lr": 0.1}`` or ``[("lr", 0.1)]`` → ``[{"key": "lr", "value": "0.1"}]``; None values are skipped."""
    if values is None:
        return []
    items = values.items() if isinstance(values, Mapping) else values
    out: List[Dict[str, str]] = []
    for k, v in items:
        if v is None:
            continue
        out.append({"key": check_key(kind, k), "value": stringify(v)})
    return out
