"""Samples in and out: IoT ingestion, the stations, the tags, their latest value and history.

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).

A posted batch is answered once its accepted samples are durable (``Runtime.ingest``); each
refused one is named with its index and the reason. History is raw or downsampled, JSON or CSV.
"""

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from core.acquisition.plausible import bounds_of, judged
from core.api import schemas as s
from core.api.auth import API, ERRORS, Access
from core.api.ingest import INGEST_SCHEMA, When, explain, posted_items, validated, why_refused
from core.api.shapes import csv_response, number, sample_out
from core.config.roles import state_words
from core.config.schema import Tag, TagKind
from core.model import Quality, Sample
from core.runtime import Runtime
from core.storage.tokens import Token


def words_of(tag: Tag) -> dict[str, list[str]]:
    """A discrete tag's words for 0 and 1, in each language the pages speak."""
    return {lang: list(state_words(tag, lang)) for lang in ("fr", "en")}


_QUALITY = {"good": Quality.GOOD, "uncertain": Quality.UNCERTAIN, "bad": Quality.BAD}


def router(runtime: Runtime, access: Access) -> APIRouter:
    routes = APIRouter()
    config, need = runtime.config, access.need
    tags = {tag.id: tag for tag in config.tags}
    bounds = bounds_of(config.tags)

    @routes.post(
        f"{API}/samples",
        response_model=s.IngestResult,
        responses={
            **ERRORS,
            413: {"model": s.Problem},
            415: {"model": s.Problem, "description": "the body is not sent as application/json"},
            422: {
                "model": s.IngestResult | s.Problem,
                "description": "no sample accepted, or a malformed body",
            },
        },
        summary="Store a batch of samples; answered once the accepted ones are durable",
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": INGEST_SCHEMA}}}
        },
    )
    async def post_samples(request: Request, _: Annotated[Token, Depends(need("ingest"))]) -> Any:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise HTTPException(
                415, f"send the samples as application/json, not {kind[:60] or 'no content type'}"
            )
        items = posted_items(await request.body())
        if len(items) > config.api.max_batch:
            raise HTTPException(
                413, f"{len(items)} samples in one batch; the limit is {config.api.max_batch}"
            )
        now = runtime.clock.now()  # a time-lapse's in the demo, as the stations' stamps are
        horizon = now + timedelta(seconds=config.api.max_future_s)
        oldest = now - timedelta(days=config.storage.retention_days)
        accepted: list[Sample] = []
        rejected: list[s.Rejected] = []
        for index, item in enumerate(validated(items)):
            if isinstance(item, ValidationError):
                rejected.append(s.Rejected(index=index, error=explain(item)))
                continue
            sample = item
            problem = why_refused(sample, tags, horizon, oldest)
            if problem:
                rejected.append(s.Rejected(index=index, error=problem))
                continue
            posted = Sample(sample.tag, sample.ts, float(sample.value), _QUALITY[sample.quality])
            accepted.append(judged(posted, bounds.get(sample.tag)))  # out of range: uncertain
        if accepted:
            await runtime.ingest(accepted)
        result = s.IngestResult(accepted=len(accepted), rejected=rejected)
        if rejected and not accepted:
            return JSONResponse(result.model_dump(), status_code=422)
        return result

    @routes.get(f"{API}/stations", response_model=list[s.StationOut], responses=ERRORS)
    async def stations(_: Annotated[Token, Depends(need("read"))]) -> Any:
        return [
            s.StationOut(
                id=st.id,
                name=st.name,
                source=st.source,
                endpoint=st.endpoint,
                state=runtime.stations[st.id].state.value,
                detail=runtime.stations[st.id].detail,
                since=runtime.stations[st.id].ts,
            )
            for st in config.stations
        ]

    # OpenAPI links: how a client (and schemathesis's stateful phase) goes from a list to an item
    tag_links = {"links": {
        "latest": {"operationId": "tag_latest", "parameters": {"tag": "$response.body#/0/id"}},
        "history": {"operationId": "tag_history", "parameters": {"tag": "$response.body#/0/id"}},
    }}  # fmt: skip

    @routes.get(f"{API}/tags", response_model=list[s.TagOut], responses={**ERRORS, 200: tag_links})
    async def list_tags(_: Annotated[Token, Depends(need("read"))]) -> Any:
        return [
            s.TagOut(
                id=t.id,
                station=t.station,
                kind=t.kind.value,
                unit=t.unit,
                range=t.range,
                decimals=t.decimals,
                label_fr=t.label.fr,
                label_en=t.label.en,
                states=words_of(t) if t.kind is TagKind.DISCRETE else None,
            )
            for t in config.tags
        ]

    def known(tag: str) -> str:
        if tag not in tags:
            raise HTTPException(404, f"unknown tag {tag!r}; GET {API}/tags lists them")
        return tag

    @routes.get(
        f"{API}/tags/{{tag}}/latest",
        operation_id="tag_latest",
        response_model=s.SampleOut,
        responses={**ERRORS, 404: {"model": s.Problem}},
    )
    async def latest(tag: str, _: Annotated[Token, Depends(need("read"))]) -> Any:
        sample = runtime.latest.get(known(tag)) or await runtime.historian.latest(tag)
        if sample is None:
            raise HTTPException(404, f"no sample of {tag!r} yet")
        return sample_out(sample)

    @routes.get(
        f"{API}/tags/{{tag}}/history",
        operation_id="tag_history",
        response_model=s.History,
        responses={**ERRORS, 404: {"model": s.Problem}, 200: {"content": {"text/csv": {}}}},
        summary="Raw or downsampled history; CSV when the client accepts text/csv",
    )
    async def history(
        tag: str,
        request: Request,
        _: Annotated[Token, Depends(need("read"))],
        start: Annotated[When | None, Query(alias="from")] = None,
        end: Annotated[When | None, Query(alias="to")] = None,
        max_points: Annotated[int, Query(ge=1, le=100_000)] = 1000,
        agg: Literal["raw", "downsampled"] = "downsampled",
    ) -> Any:
        known(tag)
        end = end or runtime.clock.now()
        start = start or end - timedelta(hours=24)
        csv_wanted = "text/csv" in request.headers.get("accept", "")
        if agg == "raw":
            samples = await runtime.historian.raw(tag, start, end, limit=max_points)
            if csv_wanted:
                rows = ([x.ts.isoformat(), number(x.value), x.quality.name.lower()] for x in samples)
                return csv_response(["ts", "value", "quality"], rows)
            return s.History(tag=tag, agg="raw", samples=[sample_out(x) for x in samples])
        buckets = await runtime.historian.downsampled(tag, start, end, max_points)
        if csv_wanted:
            table = ([b.start.isoformat(), b.min, b.max, b.avg, b.last, b.count] for b in buckets)
            return csv_response(["start", "min", "max", "avg", "last", "count"], table)
        return s.History(
            tag=tag,
            agg="downsampled",
            buckets=[s.BucketOut(start=b.start, min=b.min, max=b.max, avg=b.avg, last=b.last, count=b.count)
                     for b in buckets],
        )  # fmt: skip

    return routes
