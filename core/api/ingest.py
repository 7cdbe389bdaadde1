"""What a posted batch of samples must be: ISO 8601 times with their zone, finite numbers,
known tags, plausible values (``core.acquisition.plausible``), within the retention and not in
the future, each item judged on its own.

No ``from __future__ import annotations``: pydantic reads ``When`` at run time, and the API's
query parameters reuse it.
"""

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import HTTPException
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    TypeAdapter,
    ValidationError,
)

from core.acquisition.plausible import EARLIEST, LATEST, why_implausible


def iso_only(value: Any) -> Any:
    """Times are ISO 8601 strings: a bare number is not silently taken as a Unix time."""
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected an ISO 8601 time with its zone, e.g. 2026-11-27T03:00:00Z")
    return value


def in_range(value: datetime) -> datetime:
    """Times the stores can hold: from 1970 (a year-1 stamp broke the historians) to 9999."""
    if not EARLIEST <= value <= LATEST:
        raise ValueError("a time between 1970 and 9999")
    return value


When = Annotated[AwareDatetime, BeforeValidator(iso_only), AfterValidator(in_range)]


class SampleIn(BaseModel):
    """One posted sample; validated on its own so one bad item never rejects the batch."""

    model_config = ConfigDict(extra="forbid")
    tag: str
    ts: When
    value: Annotated[float, Strict()]  # true is not 1.0, "3" is not 3
    quality: Literal["good", "uncertain", "bad"] = "good"


_SAMPLE = TypeAdapter(SampleIn)
_BATCH = TypeAdapter(list[SampleIn])
# The documented body: what a sample must look like, although items are checked one by one
INGEST_SCHEMA = {
    "type": "object",
    "required": ["samples"],
    "additionalProperties": False,
    "properties": {"samples": {"type": "array", "items": SampleIn.model_json_schema()}},
}


def posted_items(body: bytes) -> list[Any]:
    """The ``samples`` list of a posted body; the items themselves are checked one by one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise HTTPException(422, f"the body is not valid JSON: {err}") from None
    except RecursionError:
        raise HTTPException(422, "the body nests too deeply to be a batch of samples") from None
    if not isinstance(data, dict) or set(data) != {"samples"} or not isinstance(data["samples"], list):
        raise HTTPException(422, 'expected {"samples": [{"tag": …, "ts": …, "value": …}, …]}')
    items: list[Any] = data["samples"]
    return items


def validated(items: list[Any]) -> list[SampleIn | ValidationError]:
    """The whole batch in one call when it is valid (the usual case), else item by item."""
    try:
        return list(_BATCH.validate_python(items))
    except ValidationError:
        results: list[SampleIn | ValidationError] = []
        for item in items:
            try:
                results.append(_SAMPLE.validate_python(item))
            except ValidationError as err:
                results.append(err)
        return results


def explain(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "sample"
        message = e["msg"]
        if e["type"] == "timezone_aware":
            message = "needs a time zone, e.g. 2026-11-27T03:00:00Z"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def why_refused(sample: SampleIn, tags: dict[str, Any], horizon: datetime, oldest: datetime) -> str:
    if sample.tag not in tags:
        shown = sample.tag if len(sample.tag) <= 100 else sample.tag[:100] + "…"
        return f"unknown tag {shown!r}"
    impossible = why_implausible(sample.value)
    if impossible:
        return impossible
    if sample.ts > horizon:
        return f"ts: {sample.ts.isoformat()} is in the future (clock wrong?)"
    if sample.ts < oldest:
        return (f"ts: {sample.ts.isoformat()} is older than the retention ({oldest.date().isoformat()}): "
                "it would be deleted, so it is not stored")  # fmt: skip
    return ""
