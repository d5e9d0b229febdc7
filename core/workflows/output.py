"""Step outputs are stored for templates and inspection, within a size limit."""

from __future__ import annotations

import json
from typing import Any


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str, separators=(",", ":")).encode("utf-8"))


def limit_output(output: Any, limit_bytes: int) -> tuple[Any, bool]:
    """The output as stored, and whether it had to be trimmed to fit `limit_bytes`.

    Rows (a list under "rows") are dropped from the end first, so templates still find
    the first rows; anything else too large becomes a text preview.
    """
    output = json.loads(json.dumps(output, default=str))  # plain JSON types only
    if _size(output) <= limit_bytes:
        return output, False
    if isinstance(output, dict) and isinstance(output.get("rows"), list):
        rows = output["rows"]
        low, high = 0, len(rows)
        while low < high:  # the most rows that still fit
            middle = (low + high + 1) // 2
            if _size({**output, "rows": rows[:middle]}) <= limit_bytes:
                low = middle
            else:
                high = middle - 1
        trimmed = {**output, "rows": rows[:low], "truncated": True}
        if _size(trimmed) <= limit_bytes:
            return trimmed, True
    text = json.dumps(output, default=str)
    return {"truncated": True, "preview": text[: max(0, limit_bytes - 64) // 6]}, True
