"""``POST /v1/evaluate/batch``: JSON Lines in, JSON Lines out, both streamed, in input order.

Each line of the answer is the decision on a line of the body, exactly as ``pbr evaluate
--format json`` writes it, or ``{"rejected": <rejection>}``; blank lines are skipped, as the
command skips them. The last line is ``{"summary": ...}``: the counts and the money payable
now, and whether every line was answered — an answer without it was cut off. A family id
seen earlier in the body is rejected (a family is claimed for once). A body the command would
refuse as a file (UTF-16, compressed, lines ended by CR alone) is a 415. Memory stays bounded: the
body is read as it arrives, one line at a time, and an answer the client is slow to read waits
in a temporary file (`Spool`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple

from fastapi import Response

from pbr._seen import SeenIds
from pbr._summary_notes import run_warnings
from pbr.batch import Evaluated
from pbr.io import HEAD, Rejection, too_large
from pbr.money import ZERO
from pbr.serve._evaluate import SOURCE, Evaluator, Numbered
from pbr.serve._guard import COUNTS_KEY
from pbr.serve._limits import Receive, Scope, Send, told_by, unreadable_body
from pbr.serve._logs import failure
from pbr.serve._models import BatchSummary, CouncilTotals, ProgrammeTotals, Totals
from pbr.serve._problems import ProblemError, send_problem
from pbr.serve._spool import Spool
from pbr.totals import Totals as ByCouncil

__all__ = ["NDJSON", "BatchResponse"]

NDJSON = "application/x-ndjson"
_BOM = b"\xef\xbb\xbf"
_STEP = 64
"""Records evaluated between two turns of the event loop (about 25 ms of work)."""
_IN_MEMORY = 4 << 20
"""Answer bytes kept in memory for a slow reader before they go to a temporary file."""


class _Cut(NamedTuple):
    """A line longer than the limit, skipped: its first bytes (to name its family) and size."""

    head: bytes
    size: int


_Line = tuple[int, bytes | _Cut]
"""(line number, the line's bytes, or what is kept of it when it is longer than the limit)."""


class BatchResponse(Response):
    """The answer to a batch: reads the request body while it writes the answer."""

    def __init__(self, evaluator: Evaluator, *, max_line: int, seconds: float) -> None:
        super().__init__(media_type=NDJSON)
        # the length is not known in advance: the answer is sent in chunks
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._evaluator = evaluator
        self._max_line = max_line
        self._seconds = seconds
        self._lines = _Lines(max_line)
        self._seen = SeenIds()
        self._by_council = ByCouncil()
        self._records = self._evaluated = self._rejected = 0
        self._written = False
        self._early: ProblemError | None = None
        self._stopped: str | None = None
        self._gone = False
        self._counts: dict[str, int] = {}
        self._warned: dict[str, int] = {}  # families warned of each code (`warned_families`)
        self._totals: dict[str, dict[str, Decimal]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spool = Spool(_IN_MEMORY)
        reading = asyncio.create_task(self._read(receive, spool))
        try:
            await self._write(send, spool)
        finally:
            if not reading.done():
                self._gone = True
                reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            spool.discard()
            scope[COUNTS_KEY] = (
                f"records={self._records} evaluated={self._evaluated} rejected={self._rejected}"
            )

    async def _write(self, send: Send, spool: Spool) -> None:
        parts = aiter(spool)
        first = await anext(parts, None)
        if first is None and self._early is not None:
            await send_problem(send, self._early.status, self._early.detail, self._early.headers)
            return
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        if first is not None:
            await send({"type": "http.response.body", "body": first, "more_body": True})
        async for part in parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _read(self, receive: Receive, spool: Spool) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._seconds
        try:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    self._gone = True
                    return
                more = message.get("more_body", False)
                lines = self._lines.feed(message.get("body", b""), final=not more)
                for step in _steps(lines, _STEP):
                    spool.put(self._answer(step))
                    await asyncio.sleep(0)
                    if loop.time() > deadline:
                        raise ProblemError(408, f"the batch ran longer than {self._seconds:g} s")
        except ProblemError as exc:
            if not self._written:
                self._early = exc
                return
            self._stopped = exc.detail
        except Exception as exc:
            error_id = failure(exc, "batch")
            self._stopped = f"pbr could not go on (error {error_id} in the server's log)"
        finally:
            if not self._gone and self._early is None:
                spool.put(self._summary())
            spool.close()

    def _answer(self, lines: list[_Line]) -> bytes:
        """The answer lines for some lines of the body."""
        out: list[bytes] = []
        run: list[Numbered] = []
        for line, text in lines:
            if isinstance(text, bytes) and not text.strip():
                continue
            self._records += 1
            if self._records == 1 and isinstance(text, bytes) and text.lstrip().startswith(b"["):
                raise ProblemError(
                    400,
                    "the batch endpoint takes JSON Lines (one family record per line), "
                    "not a JSON array; send one record at a time to /v1/evaluate",
                )
            if isinstance(text, _Cut):  # rejected as a file's over-long line is (`too_large`)
                out += self._results(run)
                run = []
                cut = too_large(text.head, text.size, self._max_line, SOURCE, line, self._records)
                out.append(self._rejected_line(cut))
            else:
                run.append((line, self._records, text))
        out += self._results(run)
        self._written = self._written or bool(out)
        return b"".join(out)

    def _results(self, run: list[Numbered]) -> Iterator[bytes]:
        if not run:
            return
        for result, (line, record, _) in zip(self._evaluator.json(run), run, strict=True):
            if isinstance(result, Rejection):
                yield self._rejected_line(result)
                continue
            repeated = self._counted(result, line, record)
            if repeated is not None:
                yield self._rejected_line(repeated)
                continue
            yield result[3].encode() + b"\n"

    def _counted(self, result: Evaluated, line: int | None, record: int) -> Rejection | None:
        """Count a decision into the totals, or reject it if its family came earlier."""
        family_id, programme, amounts, _ = result
        if not self._seen.add(family_id, line or 0):
            return Rejection.repeated_family(
                source=SOURCE,
                line=line,
                record=record,
                family_id=family_id,
                first_line=self._seen.first_line(family_id),
                local_authority=result.local_authority,
            )
        self._evaluated += 1
        self._by_council.add_amounts(
            result.local_authority, result.attachment_fee, amounts.values()
        )
        self._counts[programme] = self._counts.get(programme, 0) + 1
        for code in result.warnings:
            self._warned[code] = self._warned.get(code, 0) + 1
        mine = self._totals.setdefault(programme, {})
        for kind, amount in amounts.items():
            mine[kind] = mine.get(kind, ZERO) + amount
        return None

    def _rejected_line(self, rejection: Rejection) -> bytes:
        self._rejected += 1
        self._by_council.reject(rejection.local_authority)
        return b'{"rejected":' + rejection.model_dump_json().encode() + b"}\n"

    def _summary(self) -> bytes:
        programmes = {
            programme: ProgrammeTotals(
                families=self._counts[programme],
                payable={kind: _pounds(amount) for kind, amount in totals.items()},
                total=_pounds(sum(totals.values(), ZERO)),
            )
            for programme, totals in self._totals.items()
        }
        everything = sum((sum(t.values(), ZERO) for t in self._totals.values()), ZERO)
        totals = Totals(
            records=self._records,
            evaluated=self._evaluated,
            rejected=self._rejected,
            complete=self._stopped is None,
            stopped=self._stopped,
            programmes=programmes,
            payable=_pounds(everything),
            councils=[
                CouncilTotals(
                    local_authority=name,
                    families_evaluated=row.families_evaluated,
                    families_rejected=row.families_rejected,
                    results_paid=row.results_paid,
                    attachment_fees=_pounds(row.attachment_fees),
                    results_payments=_pounds(row.results_payments),
                    total=_pounds(row.total),
                )
                for name, row in self._by_council.councils.items()
            ],
            warnings=self._warnings(),
        )
        return BatchSummary(summary=totals).model_dump_json().encode() + b"\n"

    def _warnings(self) -> list[str]:
        """What ``pbr evaluate``'s summary warns of, in its words, in its order."""
        payable = {p: sum(kinds.values(), ZERO) for p, kinds in self._totals.items()}
        return run_warnings(
            self._evaluator.as_of,
            self._counts,
            payable,
            self._by_council,
            self._evaluator.plans,
            self._warned,
        )


def _pounds(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _steps(lines: list[_Line], size: int) -> Iterator[list[_Line]]:
    for start in range(0, len(lines), size):
        yield lines[start : start + size]


class _Lines:
    """Splits a body arriving in parts into numbered lines, never holding more than one line.

    A line longer than the limit is skipped to its end, keeping its first `HEAD` bytes and
    counting the rest, and reported there (`_Cut`), as a file's over-long line is.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._start: bytearray | None = bytearray()  # the body's first bytes, until past a BOM
        self._pending = bytearray()
        self._number = 0
        self._skipping = False
        self._head = b""
        self._skipped = 0
        self._ends_cr = False  # whether the line being skipped ends, so far, in \r

    def feed(self, data: bytes, *, final: bool) -> list[_Line]:
        data = self._unmarked(data, final=final)
        found: list[_Line] = []
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            piece = data[start:end]
            start = end + 1
            self._number += 1
            if self._skipping:
                found.append((self._number, self._cut(piece)))
                continue
            text = bytes(self._pending) + piece if self._pending else piece
            self._pending.clear()
            found.append(self._line(text))
        rest = data[start:]
        if self._skipping:
            self._skip(rest)
        else:
            self._pending += rest
            if len(self._pending) > self._limit + 1:  # one more: a Windows line end's \r
                self._head, self._skipped = bytes(self._pending[:HEAD]), len(self._pending)
                self._ends_cr = self._pending.endswith(b"\r")
                self._pending.clear()
                self._skipping = True
        if final:
            if self._pending:
                self._number += 1
                found.append(self._line(bytes(self._pending), ended=False))
                self._pending.clear()
            elif self._skipping:
                self._number += 1
                found.append((self._number, self._cut(b"", ended=False)))
        return found

    def _unmarked(self, data: bytes, *, final: bool) -> bytes:
        """`data` without the byte-order mark that may start the body, once its start is read.

        The start is held until it says whether the body is lines of UTF-8 text at all
        (`unreadable_body`), then the mark is taken off before lines are measured, as
        ``pbr evaluate`` does with a file.

        Raises:
            ProblemError: 415 for a body ``pbr evaluate`` would refuse as a file.

        """
        if self._start is None:
            return data
        self._start += data
        if not final and not told_by(self._start):
            return b""  # the start cannot tell yet: wait for more
        said = unreadable_body(bytes(self._start))
        if said is not None:
            raise ProblemError(415, said)
        data, self._start = bytes(self._start).removeprefix(_BOM), None
        return data

    def _skip(self, data: bytes) -> None:
        """More of the line being skipped: counted, and kept while its head is short."""
        if len(self._head) < HEAD:
            self._head += data[: HEAD - len(self._head)]
        self._skipped += len(data)
        if data:
            self._ends_cr = data.endswith(b"\r")

    def _cut(self, last: bytes, *, ended: bool = True) -> _Cut:
        """The line being skipped, ended by `last`; its size leaves out a line end it has."""
        self._skip(last)
        cut = _Cut(self._head, self._skipped - (ended and self._ends_cr))
        self._skipping, self._head, self._skipped = False, b"", 0
        return cut

    def _line(self, text: bytes, *, ended: bool = True) -> _Line:
        r"""A line (`ended` by \n) as ``pbr evaluate`` reads it: a Windows line end's \r left out.

        Left in, a rejection quoted it and counted it in its column; a last line with no \n
        keeps it, as a file's does (`pbr.io.record_size`).
        """
        record = text[:-1] if ended and text.endswith(b"\r") else text
        if len(record) > self._limit:
            return self._number, _Cut(text[:HEAD], len(record))
        return self._number, record
