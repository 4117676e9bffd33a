"""The ASGI app: the routes, each a thin call into the library, inside the safety middleware."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from pbr import __version__
from pbr.calendars import load_term_calendar, own_dates, term_calendar_data
from pbr.decisions import Decision
from pbr.io import Rejection
from pbr.periods import TermCalendar
from pbr.plans import OutcomePlan, load_plan
from pbr.records import Family, Payment
from pbr.serve import _audit, _documents, _models, _openapi, _params
from pbr.serve._access import Access
from pbr.serve._batch import NDJSON, BatchResponse
from pbr.serve._evaluate import Evaluator
from pbr.serve._guard import HASH_KEY, HEAD_KEY, LOG_KEY, Guard
from pbr.serve._ledger import LedgerHistory
from pbr.serve._limits import Limits, unreadable_body
from pbr.serve._problems import PROBLEM_TYPE, ProblemError, problem_body
from pbr.serve._rules import InForce, RulesInForce
from pbr.serve._settings import Settings

__all__ = ["create_app"]

_BATCH = "/v1/evaluate/batch"
_AUDIT = "/v1/audit"
_EXPLAIN = "/v1/explain"


def _labelled_once(given: Sequence[object], plans: Sequence[OutcomePlan]) -> None:
    """Refuse two plans of one label, naming where each came from (its file, if a file)."""
    seen: dict[str, object] = {}
    for source, plan in zip(given, plans, strict=True):
        if plan.label in seen:
            first, second = (
                f" ({s})" if not isinstance(s, OutcomePlan) else ""
                for s in (seen[plan.label], source)
            )
            raise ValueError(
                f"two plans are labelled {plan.label}: {plan.label}{first} and "
                f"{plan.label}{second}; a request chooses a plan by its label"
            )
        seen[plan.label] = source


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ``pbr serve`` API as an ASGI app, for uvicorn or any ASGI server.

    Plans and a term calendar given as paths are loaded and the ledger verified now, so that a
    bad one stops the server before it answers anything.

    >>> import asyncio, httpx
    >>> from pbr.serve import create_app
    >>> app = create_app()
    >>> async def health():
    ...     transport = httpx.ASGITransport(app=app)
    ...     async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
    ...         return (await c.get("/v1/health")).json()["status"]
    >>> asyncio.run(health())
    'ok'

    Raises:
        pbr.PlanError: a plan file cannot be read or is not a plan.
        pbr.CalendarError: the term calendar file cannot be read or is not a calendar.
        ValueError: two plans have the same label, or the ledger cannot be used.

    """
    settings = settings or Settings()
    plans = [p if isinstance(p, OutcomePlan) else load_plan(p) for p in settings.plans]
    _labelled_once(settings.plans, plans)
    rules = RulesInForce(settings.interpretations, plans, _calendar(settings.term_calendar))
    ledger = (
        LedgerHistory(settings.ledger, settings.ledger_key) if settings.ledger is not None else None
    )
    _documents.family_schema(), _documents.decision_schema(), _documents.rule_sets()
    for model in (Family, Payment, Decision, Rejection, OutcomePlan):
        model.model_rebuild()  # built on first use: here, once, before any request's thread
    app = FastAPI(
        title="pbr",
        version=__version__,
        summary="Payment-by-results claims for England's Troubled Families programme.",
        description="Every decision is exactly the JSON that `pbr evaluate --format json` "
        "writes; every answer names the pbr version and the rules hash in its headers."
        + _calendar_said(rules.term_calendar),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by `_routes`, which refuses a query as every endpoint does
        redirect_slashes=False,  # /v1/evaluate/ is no path: a 404 problem, not a 307 to http://
    )
    _routes(app, settings, rules, ledger)
    _errors(app)
    app.openapi = functools.partial(  # type: ignore[method-assign]
        _openapi_document,
        app,
        token=settings.token is not None,
    )
    app.add_middleware(
        Limits,
        record_bytes=settings.max_record_bytes,
        upload_bytes=settings.max_upload_bytes,
        upload_paths=frozenset({_BATCH, _AUDIT}),
        timeout=settings.timeout,
        streaming_paths=frozenset({_BATCH}),
    )
    app.add_middleware(Access, token=settings.token, allowed_hosts=settings.allowed_hosts)
    if settings.cors_origins:
        app.add_middleware(
            _Cors,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Pbr-Version", "X-Pbr-Rules-Hash", "X-Pbr-Ledger-Head"],
        )
    app.add_middleware(
        Guard,
        version=__version__,
        rules_hash=rules.default.rules_hash,
        access_log=settings.access_log,
        log_ids=settings.log_ids,
    )
    return app


def _calendar(given: TermCalendar | str | Path | None) -> TermCalendar | None:
    """The server's term calendar: as given, or read from its file (`pbr.load_term_calendar`).

    Raises:
        pbr.CalendarError: the file cannot be read or is not a term calendar.

    """
    if given is None or isinstance(given, TermCalendar):
        return given
    return load_term_calendar(given)


def _calendar_said(calendar: TermCalendar | None) -> str:
    """The API description's sentence naming the server's term calendar, if it has one."""
    if calendar is None or calendar.named is None:
        return ""
    said = own_dates(calendar.named, len(calendar.overrides))
    return (
        f" School terms are read on the term calendar {said} for every request; "
        "`GET /v1/rules` gives it."
    )


class _Cors(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered as a problem, as every error is."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        kept = {
            k: v for k, v in answer.headers.items() if k not in ("content-type", "content-length")
        }
        detail = bytes(answer.body).decode()
        return Response(
            problem_body(answer.status_code, detail),
            answer.status_code,
            headers=kept,
            media_type=PROBLEM_TYPE,
        )


def _openapi_document(app: FastAPI, *, token: bool) -> dict[str, Any]:
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        app.openapi_schema = _openapi.finish(document, token=token)
    return app.openapi_schema


def _errors(app: FastAPI) -> None:
    """Every error answer is a problem; none has a traceback."""

    async def problem(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return Response(
            problem_body(exc.status, exc.detail),
            exc.status,
            headers=exc.headers,
            media_type=PROBLEM_TYPE,
        )

    async def bad_parameter(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        said = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors()
        )
        return Response(problem_body(400, said), 400, media_type=PROBLEM_TYPE)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return Response(
            problem_body(exc.status_code, str(exc.detail)),
            exc.status_code,
            headers=exc.headers,
            media_type=PROBLEM_TYPE,
        )

    app.add_exception_handler(ProblemError, problem)
    app.add_exception_handler(RequestValidationError, bad_parameter)
    app.add_exception_handler(HTTPException, http_error)


async def _body(request: Request) -> bytes:
    """A one-record body, without one leading UTF-8 byte-order mark.

    As ``pbr evaluate`` reads a file, and the batch its first line: Windows tools add one.

    Raises:
        ProblemError: 415 for a body declared as something other than JSON, or one that
            ``pbr evaluate`` would refuse as a file (UTF-16, say: `unreadable_body`).

    """
    _json_declared(request.headers.get("content-type"))
    body = b"".join([chunk async for chunk in request.stream()])
    said = unreadable_body(body)
    if said is not None:
        raise ProblemError(415, said)
    return body.removeprefix(_BOM)


def _json_declared(content_type: str | None) -> None:
    """Refuse a body whose Content-Type is not JSON (``application/json`` or ``…+json``).

    None is accepted: the body is read as JSON whatever it is, as the batch reads its lines.
    """
    if content_type is None:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise ProblemError(
            415,
            f"Content-Type {content_type[:80]!r} is not accepted: send the family record as "
            "JSON (application/json)",
        )


_BOM = b"\xef\xbb\xbf"


def _routes(
    app: FastAPI, settings: Settings, rules: RulesInForce, ledger: LedgerHistory | None
) -> None:
    """The endpoints."""
    family_body = _openapi.family_body()

    def in_force(
        request: Request,
        query: Mapping[str, list[str]],
        more: Sequence[str] = (),
        uploaded: Sequence[OutcomePlan] = (),
    ) -> InForce:
        chosen = rules.resolve(
            [*query.get("interpretation", ()), *more], query.get("plan", ()), uploaded
        )
        request.scope[HASH_KEY] = chosen.rules_hash
        return chosen

    def payments() -> Mapping[str, tuple[Payment, ...]] | None:
        return ledger.payments() if ledger is not None else None

    def evaluating(request: Request) -> tuple[Evaluator, Mapping[str, list[str]]]:
        """The evaluator for a request to evaluate, with its query parameters."""
        query = _params.read(
            request, _params.EXPLAIN if request.url.path == _EXPLAIN else _params.EVALUATE
        )
        chosen = in_force(request, query)
        when = _params.as_of(query)
        assert when is not None  # required
        paid = payments()
        if ledger is not None:
            request.scope[HEAD_KEY] = ledger.head
            return Evaluator(chosen, when, paid, ledger.library), query
        return Evaluator(chosen, when), query

    def note(request: Request, family_id: str | None) -> None:
        if family_id:
            request.scope[LOG_KEY] = f"family={family_id}"

    def rejected(result: Rejection) -> Response:
        return Response(result.model_dump_json(), 422, media_type="application/json")

    @app.post(
        "/v1/evaluate",
        summary="Evaluate one family",
        description="One family record in; its decision out, exactly as one line of "
        "`pbr evaluate --format json`, or a 422 whose body is the rejection.",
        response_class=Response,
        responses={
            200: _openapi.json_answer("The decision.", _openapi.ref(Decision)),
            422: _openapi.json_answer(
                "The record was rejected: which field, which value, why.",
                _openapi.ref(Rejection),
            ),
            **_openapi.problems(400, 408, 413, 415, 503),
        },
        openapi_extra=family_body | _params.documented(_params.EVALUATE),
    )
    async def evaluate(request: Request) -> Response:
        evaluator, _ = evaluating(request)
        body = await _body(request)
        (result,) = evaluator.json([(None, 1, body)])
        if isinstance(result, Rejection):
            note(request, result.family_id)
            return rejected(result)
        note(request, result[0])
        return Response(result[3], media_type="application/json")

    @app.post(
        _BATCH,
        summary="Evaluate a batch of families (JSON Lines)",
        description="JSON Lines in, JSON Lines out, streamed both ways and in input order: "
        "for each record, its decision (exactly as `pbr evaluate --format json` writes it) "
        'or `{"rejected": <rejection>}`; the last line is `{"summary": ...}` with the '
        "counts and totals. An answer without a summary line was cut off.",
        response_class=Response,
        responses={
            200: {
                "description": "One JSON object per line: a decision, a rejection, and last "
                "the summary.",
                "content": {
                    NDJSON: {
                        "schema": {
                            "oneOf": [
                                _openapi.ref(Decision),
                                _openapi.ref(_models.BatchRejected),
                                _openapi.ref(_models.BatchSummary),
                            ]
                        }
                    }
                },
            },
            **_openapi.problems(400, 408, 413, 415, 503),
        },
        openapi_extra=_openapi.body(NDJSON, _openapi.json_lines(Family))
        | _params.documented(_params.EVALUATE),
    )
    async def batch(request: Request) -> Response:
        evaluator, _ = evaluating(request)
        return BatchResponse(
            evaluator, max_line=settings.max_record_bytes, seconds=settings.batch_timeout
        )

    @app.post(
        _EXPLAIN,
        summary="The working paper for one family",
        description="One family record in; the auditor's working paper out, as text (what "
        "`pbr explain` prints) or as JSON with the decision.",
        response_class=Response,
        responses={
            200: {
                "description": "The working paper.",
                "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "application/json": {"schema": _openapi.ref(_models.Explained)},
                },
            },
            422: _openapi.json_answer("The record was rejected.", _openapi.ref(Rejection)),
            **_openapi.problems(400, 408, 413, 415, 503),
        },
        openapi_extra=family_body | _params.documented(_params.EXPLAIN),
    )
    async def explain(request: Request) -> Response:
        evaluator, query = evaluating(request)
        body = await _body(request)
        result = evaluator.decision(body)
        note(request, result.family_id)
        if isinstance(result, Rejection):
            return rejected(result)
        paper = result.explain()
        if query.get("format", ["text"]) == ["text"]:
            return Response(paper, media_type="text/plain; charset=utf-8")
        text = (
            b'{"decision":'
            + result.model_dump_json().encode()
            + b',"working_paper":'
            + json.dumps(paper).encode()
            + b"}"
        )
        return Response(text, media_type="application/json")

    @app.post(
        _AUDIT,
        summary="Audit a claim file against its families",
        description="A multipart form: the claim file (part `claims`: CSV, JSON or JSON "
        "Lines, by its file name), the family records (parts `families`), optionally outcome "
        "plans (parts `plan`) and interpretations (parts `interpretation`, ID=VALUE). The "
        "audit report comes back as JSON, or as HTML, Markdown, CSV or XLSX on request.",
        response_class=Response,
        responses={
            200: {
                "description": "The audit report.",
                "content": {
                    "application/json": {"schema": _openapi.ref(_models.AuditReport)},
                    "text/html": {"schema": {"type": "string"}},
                    "text/markdown": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}},
                    _audit.REPORT_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **_openapi.problems(400, 408, 413, 415, 503),
        },
        openapi_extra=_openapi.audit_body() | _params.documented(_params.AUDIT),
    )
    async def audit(request: Request) -> Response:
        query = _params.read(request, _params.AUDIT)
        when = _params.as_of(query)
        drawn = _audit.sample_request(query)
        report = query.get("format", ["json"])[0]
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise ProblemError(
                415, "send a multipart/form-data body with parts 'claims' and 'families'"
            )
        from starlette.formparsers import MultiPartException

        with _audit.temporary_folder() as folder:
            try:
                async with request.form(max_files=64, max_fields=64) as form:
                    parts = await _audit.read_parts(form, Path(folder))
            except MultiPartException as exc:
                raise ProblemError(400, f"the multipart body cannot be read: {exc}") from None
            uploaded = await anyio.to_thread.run_sync(_audit.load_plans, parts.plans)
            chosen = in_force(request, query, parts.interpretations, uploaded)
            paid: Any = payments()
            if ledger is not None:
                request.scope[HEAD_KEY] = ledger.head
                paid = ledger.library or paid
            body = await anyio.to_thread.run_sync(
                functools.partial(
                    _audit.run_audit,
                    parts,
                    chosen,
                    as_of=when,
                    payments=paid,
                    report=report,
                    sample=drawn,
                )
            )
        headers = {}
        if report == "html":
            headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        elif report != "json":
            headers["Content-Disposition"] = f'attachment; filename="audit.{report}"'
        return Response(body, media_type=_audit.REPORT_TYPES[report], headers=headers)

    @app.get(
        "/v1/schema/family",
        summary="The family record's JSON Schema",
        description="Exactly what `pbr schema` prints.",
        response_class=Response,
        responses={200: _openapi.json_answer("The JSON Schema.", {"type": "object"})},
    )
    async def family_schema(request: Request) -> Response:
        _params.read(request, ())
        return Response(_documents.family_schema(), media_type="application/json")

    @app.get(
        "/v1/schema/decision",
        summary="The decision's JSON Schema",
        description="The JSON Schema every decision (and every decision line of a batch) matches.",
        response_class=Response,
        responses={200: _openapi.json_answer("The JSON Schema.", {"type": "object"})},
    )
    async def decision_schema(request: Request) -> Response:
        _params.read(request, ())
        return Response(_documents.decision_schema(), media_type="application/json")

    @app.get(
        "/openapi.json",
        summary="This OpenAPI document",
        description="The API as OpenAPI 3.1: every endpoint, parameter, body and answer.",
        response_class=Response,
        responses={200: _openapi.json_answer("The OpenAPI document.", {"type": "object"})},
    )
    async def openapi_document(request: Request) -> Response:
        _params.read(request, ())
        return Response(
            json.dumps(app.openapi(), ensure_ascii=False, separators=(",", ":")).encode(),
            media_type="application/json",
        )

    @app.get(
        "/v1/rules",
        summary="The rules in force and every rule set",
        description="For the interpretations and plans given (or the server's): each "
        "programme's rules version, interpretations, outcome plan and rules hash (the one its "
        "decisions carry), and every rule set as `pbr rules --format json` prints it.",
        response_class=Response,
        responses={
            200: _openapi.json_answer("The rules.", _openapi.ref(_models.RulesDocument)),
            **_openapi.problems(400),
        },
        openapi_extra=_params.documented(_params.RULES),
    )
    async def rules_document(request: Request) -> Response:
        chosen = in_force(request, _params.read(request, _params.RULES))
        document = _models.RulesDocument(
            pbr_version=__version__,
            rules_hash=chosen.rules_hash,
            in_force=list(chosen.programmes),
            plans=list(rules.plans),
            term_calendar=(
                None if rules.term_calendar is None else term_calendar_data(rules.term_calendar)
            ),
            rule_sets=_documents.rule_sets(),
        )
        return Response(document.model_dump_json(), media_type="application/json")

    @app.get(
        "/v1/health",
        summary="Is the server up?",
        description="Needs no token: the version and the default rules hash only.",
        response_class=Response,
        responses={
            200: _openapi.json_answer("Up.", _openapi.ref(_models.Health)),
            **_openapi.problems(503),
        },
    )
    async def health(request: Request) -> Response:
        _params.read(request, ())
        if ledger is not None:
            ledger.payments()  # re-reads and re-verifies a ledger that has changed
            request.scope[HEAD_KEY] = ledger.head
        answer = _models.Health(
            pbr_version=__version__,
            rules_hash=rules.default.rules_hash,
            ledger_head=ledger.head if ledger is not None else None,
        )
        return Response(answer.model_dump_json(), media_type="application/json")
