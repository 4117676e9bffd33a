"""Monetary-unit sampling: plan a sample, draw it by hand-checkable rules, bound the over-claims.

Plan (`mus_plan`): the smallest sample whose Poisson upper limit, with the expected
misstatement found, stays below the tolerable misstatement (the arithmetic of the AICPA Audit
Sampling guide's table C-1). Select (`mus_select`): every penny of the file is a sampling unit;
claims are listed in a seeded order, a penny is taken every sampling interval from a seeded
start, and the claim holding it is sampled, so claims of at least the interval are always taken.
Evaluate (`mus_evaluate`): each sampled claim's over-claim as a share of its amount (its
tainting), projected to its interval, plus basic precision and an incremental allowance by
ranked taintings: the upper misstatement limit at the stated confidence.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import ParamSpec, TypeVar

from pbr.audit._poisson import gamma_cdf, upper_limit
from pbr.money import format_gbp, money, round_up_to_penny

__all__ = [
    "Misstatement",
    "MusEvaluation",
    "MusItem",
    "MusPlan",
    "MusSample",
    "confidence_factor",
    "mus_evaluate",
    "mus_plan",
    "mus_select",
]

_FACTOR_PLACES = 6
"""Confidence factors are used rounded up to six decimal places (the printed tables use two)."""
_MAX_SAMPLE = 10_000_000
_CONTEXT = Context(prec=60)
"""Money sums here are exact: 60 digits, whatever `decimal` context the caller has set."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _in_exact_context(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `function` in `_CONTEXT`, so the caller's `decimal` context cannot round anything."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(_CONTEXT):
            return function(*args, **kwargs)

    return wrapper


def seed_text(seed: object, name: str = "seed") -> str:
    r"""The seed as the text every hash is taken of: text, or a whole number (``1`` is ``"1"``).

    Anything else would be hashed as Python prints it (None as ``"None"``, ``1.0`` unlike
    ``--seed 1``), and a control character cannot be shown in a report as the text to hash, so
    the sample could not be redone by hand from it: each is refused, naming the value.

    >>> seed_text(2015), seed_text("2015-Q4")
    ('2015', '2015-Q4')
    >>> seed_text(None)
    Traceback (most recent call last):
    ...
    TypeError: seed must be text or a whole number, got None
    >>> seed_text("Q4\n")
    Traceback (most recent call last):
    ...
    ValueError: seed 'Q4\n' has a control character, U+000A, at character 3: a seed is printed in every report as the text hashed, so it must be printable
    >>> seed_text("Q\ud8004")
    Traceback (most recent call last):
    ...
    ValueError: seed 'Q\ud8004' has a lone surrogate, U+D800, at character 2: a seed is hashed as UTF-8, which cannot hold it
    """
    from pbr._record_checks import control_character

    if isinstance(seed, bool) or not isinstance(seed, str | int):
        raise TypeError(f"{name} must be text or a whole number, got {seed!r}")
    text = str(seed)
    bad = control_character(text)
    if bad is not None:
        raise ValueError(
            f"{name} {text!r} has {bad}: a seed is printed in every report as the text hashed, "
            "so it must be printable"
        )
    try:
        text.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate: Python text no UTF-8 can hold
        raise ValueError(
            f"{name} {text!r} has a lone surrogate, U+{ord(text[exc.start]):04X}, at character "
            f"{exc.start + 1}: a seed is hashed as UTF-8, which cannot hold it"
        ) from None
    return text


# --- planning -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MusPlan:
    """A monetary-unit sample plan: the sample size and sampling interval, and why.

    >>> plan = mus_plan("1000000", confidence="95%", tolerable="2%", expected="0.4%")
    >>> plan.sample_size, plan.interval, plan.expected_taintings
    (232, Decimal('4310.34'), Decimal('0.93'))
    """

    book_value: Decimal
    """The total claimed, in pounds: the population of pennies sampled."""
    confidence: Decimal
    """The confidence wanted, as a share: ``0.95`` for 95% (risk of incorrect acceptance 5%)."""
    tolerable: Decimal
    """The tolerable misstatement (over-claim), in pounds."""
    expected: Decimal
    """The misstatement expected, in pounds; the sample is sized so finding it still concludes."""
    sample_size: int
    """The number of selections: the smallest n whose upper limit is below tolerable."""
    interval: Decimal
    """The sampling interval: the book value divided by the sample size, rounded down to the penny."""
    expected_taintings: Decimal
    """n × expected / book value, rounded up to two places (the last column of table C-1)."""
    method: str
    """The plan in one sentence, for the report header."""


@_in_exact_context
def mus_plan(
    book_value: Decimal | str | int,
    *,
    confidence: Decimal | str,
    tolerable: Decimal | str | int,
    expected: Decimal | str | int = 0,
) -> MusPlan:
    """Size a monetary-unit sample: the smallest n with ``Γ⁻¹(confidence; 1 + n·e) / n < t``.

    `t` and `e` are the tolerable and expected misstatement as shares of `book_value`; Γ⁻¹ is
    the gamma (Poisson) upper limit. With nothing expected this is ``n > −ln(1 − confidence) / t``
    (the "3 / t" rule at 95%); with an expected misstatement the sample is large enough that
    finding exactly the expected total tainting still gives an upper limit below tolerable.
    This is the arithmetic of the AICPA Audit Sampling guide (2017), appendix C, table C-1,
    which `tests/test_mus.py` reproduces cell by cell.

    Give `confidence` as a share (``"0.95"``) or a percentage (``"95%"``), at least 50%, with
    at most 10 decimal places as a percentage; `tolerable` and `expected` in pounds
    (``"20000.00"``, ``20000``) or as a percentage of the book value (``"2%"``; tolerable is
    rounded down, expected up, to the penny).

    >>> plan = mus_plan("500000", confidence="95%", tolerable="25000")
    >>> plan.sample_size, plan.interval
    (60, Decimal('8333.33'))
    >>> mus_plan("500000", confidence="90%", tolerable="1%", expected="0.5%").sample_size
    799

    Raises:
        ValueError: a non-positive book value, a confidence outside [50%, 100%) or with more
            than 10 decimal places as a percentage, a tolerable misstatement not above the
            expected one or not below the book value (any over-claim would be tolerable: no
            sample is needed), or a sample that would need more than one selection per penny.

    """
    book = _pence(_money(book_value, "book_value"))
    if book <= 0:
        raise ValueError(f"book_value must be above zero, got {book_value!r}")
    share = confidence_level(confidence)
    tolerable_p = amount_in_pence(tolerable, book, "tolerable", round_up=False)
    expected_p = amount_in_pence(expected, book, "expected", round_up=True)
    if tolerable_p <= 0:
        raise ValueError(f"tolerable must be above zero, got {tolerable!r}")
    if expected_p >= tolerable_p:
        raise ValueError(
            f"expected ({_gbp(expected_p)}) must be below tolerable ({_gbp(tolerable_p)}): "
            "no sample size can conclude when the misstatement expected is already intolerable"
        )
    if tolerable_p >= book:
        raise ValueError(
            f"the tolerable misstatement {_gbp(tolerable_p)} is not below the {_gbp(book)} "
            "claimed: any over-claim would be tolerable, so no sample is needed"
        )
    t = Fraction(tolerable_p, book)
    e = Fraction(expected_p, book)
    n = _sample_size(t, e, share, book)
    interval = book // n
    taintings = _ceil_places(n * e, 2)
    found = f"{taintings} taintings (n × expected / book)" if expected_p else "nothing"
    method = (
        f"monetary-unit sampling at {_percent(share)} confidence: tolerable misstatement "
        f"{_gbp(tolerable_p)} of {_gbp(book)}, expected {_gbp(expected_p)}; sample size {n}, "
        f"the smallest n whose Poisson upper limit, having found {found}, is below tolerable "
        f"(AICPA Audit Sampling guide, table C-1); sampling interval {_gbp(interval)} "
        "(book value / n, rounded down to the penny)"
    )
    return MusPlan(
        book_value=_pounds(book),
        confidence=_exact(share).normalize(),
        tolerable=_pounds(tolerable_p),
        expected=_pounds(expected_p),
        sample_size=n,
        interval=_pounds(interval),
        expected_taintings=taintings,
        method=method,
    )


def _sample_size(t: Fraction, e: Fraction, confidence: Fraction, book: int) -> int:
    """The smallest n with P(1 + n·e, n·t) > confidence (the upper limit below tolerable)."""

    def enough(n: int) -> bool:
        return gamma_cdf(1 + n * e, n * t) > confidence

    limit = min(book, _MAX_SAMPLE)
    lo, hi = 0, 1  # enough(lo) is false: P(·, 0) = 0
    while not enough(hi):
        lo, hi = hi, hi * 2
        if lo > limit:
            beyond = f"{limit:,} selections, the most pbr draws" if limit < book else _pennies(book)
            raise ValueError(_too_large(f"more than {beyond}", t, e, confidence, book))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    if hi > book:
        raise ValueError(
            _too_large(f"{hi:,} selections, more than {_pennies(book)}", t, e, confidence, book)
        )
    return hi


def _pennies(book: int) -> str:
    """``the 2,460,000 pennies claimed (£24,600.00; ...)``: what a sample cannot exceed."""
    return (
        f"the {book:,} pennies claimed ({_gbp(book)}; a monetary-unit sample selects pennies, "
        "each at most once)"
    )


def _too_large(needed: str, t: Fraction, e: Fraction, confidence: Fraction, book: int) -> str:
    """Why no sample fits the file: the tolerable misstatement, or the expected one, is the cause.

    With nothing expected the sample needs n > F(0) / (tolerable / book value); if even that is
    too many, the tolerable misstatement is too small, else the expected one is too close to it.

    >>> print(_too_large("more than the 10 pennies claimed", Fraction(1, 10), Fraction(0),
    ...     Fraction(95, 100), 10))  # doctest: +NORMALIZE_WHITESPACE
    the sample would need more than the 10 pennies claimed: at 95% confidence a tolerable
    misstatement of £0.01 needs about 30 selections even if nothing is expected
    (n > 2.995733 × £0.10 / £0.01); raise the tolerable misstatement, or check every claim
    instead
    """
    factor = _factor(0, confidence)
    alone = int(Fraction(factor) / t) + 1
    tolerable, expected = int(t * book), int(e * book)
    if e == 0 or alone > min(book, _MAX_SAMPLE):
        why = (
            f"at {_percent(confidence)} confidence a tolerable misstatement of {_gbp(tolerable)} "
            f"needs about {alone:,} selections even if nothing is expected "
            f"(n > {factor} × {_gbp(book)} / {_gbp(tolerable)}); raise the tolerable "
            "misstatement, or check every claim instead"
        )
    else:
        why = (
            f"the expected misstatement {_gbp(expected)} is too close to the tolerable "
            f"{_gbp(tolerable)} (with nothing expected, about {alone:,} selections would do); "
            "lower the expected misstatement, or check every claim instead"
        )
    return f"the sample would need {needed}: {why}"


def confidence_factor(misstatements: int, confidence: Decimal | str) -> Decimal:
    """The Poisson confidence factor for a number of misstatements, rounded up to 6 places.

    The upper limit λ with ``P(X ≤ misstatements; λ) = 1 − confidence``: the factor the AICPA
    tables print to two places (3.00, 4.75, 6.30 for 0, 1, 2 misstatements at 95%).

    >>> confidence_factor(0, "95%"), confidence_factor(1, "95%"), confidence_factor(2, "0.95")
    (Decimal('2.995733'), Decimal('4.743865'), Decimal('6.295794'))

    Raises:
        ValueError: a negative count, or a confidence outside [50%, 100%) or with more than
            10 decimal places as a percentage.

    """
    if isinstance(misstatements, bool) or not isinstance(misstatements, int) or misstatements < 0:
        raise ValueError(f"misstatements must be a whole number ≥ 0, got {misstatements!r}")
    return _factor(misstatements, confidence_level(confidence))


def _factor(misstatements: int, confidence: Fraction) -> Decimal:
    return _ceil_places(Fraction(upper_limit(Fraction(misstatements), confidence)), _FACTOR_PLACES)


# --- selection ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MusItem:
    """A sampled claim: its amount, how many selected pennies fell in it, and the first one.

    >>> claims = dict(zip([f"C-{i:02}" for i in range(1, 13)],
    ...     "4000 1600 800 700 100 1600 800 4000 700 1000 800 100".split()))
    >>> plan = mus_plan("16200", confidence="95%", tolerable="5000")
    >>> drawn = mus_select(claims, plan, seed=2)
    >>> drawn.items[1]
    MusItem(item_id='C-02', amount=Decimal('1600.00'), hits=1, top_stratum=False, selected_at=Decimal('5261.45'))
    """

    item_id: str
    amount: Decimal
    """The claimed amount (book value), in pounds."""
    hits: int
    """How many selected pennies fell in this claim (more than one only in the top stratum)."""
    top_stratum: bool
    """The amount is at least the interval: always selected, its misstatement not projected."""
    selected_at: Decimal
    """The running total, in pounds, of the first selected penny in this claim."""


@dataclass(frozen=True, slots=True)
class MusSample:
    """A monetary-unit sample anyone can redraw by hand from the claims, amounts and seed.

    >>> claims = dict(zip([f"C-{i:02}" for i in range(1, 13)],
    ...     "4000 1600 800 700 100 1600 800 4000 700 1000 800 100".split()))
    >>> plan = mus_plan("16200", confidence="95%", tolerable="5000")
    >>> drawn = mus_select(claims, plan, seed=2)
    >>> drawn.start, drawn.draws, drawn.item_ids
    (Decimal('401.45'), 10, ('C-01', 'C-02', 'C-09', 'C-08', 'C-11', 'C-06'))
    """

    plan: MusPlan
    seed: str
    start: Decimal
    """The first selected penny's running total, in pounds: 1p + (seeded number mod interval)."""
    draws: int
    """The number of selected pennies (the plan's sample size, or a few more)."""
    items: tuple[MusItem, ...]
    """The sampled claims, in the order listed (the seeded order)."""
    not_selectable: tuple[str, ...]
    """Claims of £0.00: no penny to select, so outside the sample (listed, never dropped)."""
    method: str
    """The selection in one sentence, for the report header."""
    population: tuple[tuple[str, Decimal], ...] = field(repr=False)
    """Every claim and amount in the seeded order, as listed for the running totals."""

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The sampled claims' ids in the order listed.

        >>> plan = mus_plan("100", confidence="95%", tolerable="60")
        >>> mus_select({"A": "100"}, plan, seed=0).item_ids
        ('A',)
        """
        return tuple(item.item_id for item in self.items)


@_in_exact_context
def mus_select(
    items: Mapping[str, Decimal | str | int] | Iterable[tuple[str, Decimal | str | int]],
    plan: MusPlan,
    *,
    seed: str | int,
) -> MusSample:
    """Draw the planned sample, with probability proportional to amount, as a pure function.

    The sample depends on the claims, their amounts and the seed only (not their input order).

    Method, to redo by hand: list the claims in order of the SHA-256 hex digest of
    ``"<seed>|<claim_id>"`` (UTF-8; smallest first, the key `pbr.audit.rank` gives), with a
    running total in pence. The first selected penny is ``1 + (sha256("<seed>|start") as a
    number mod the interval in pence)``; then every interval after it. A claim is sampled when
    a selected penny falls within its running-total range, so every claim of at least the
    interval is always sampled (the top stratum). All arithmetic is in whole pence.

    >>> claims = dict(zip([f"C-{i:02}" for i in range(1, 13)],
    ...     "4000 1600 800 700 100 1600 800 4000 700 1000 800 100".split()))
    >>> plan = mus_plan("16200", confidence="95%", tolerable="5000")
    >>> drawn = mus_select(claims, plan, seed=2)
    >>> plan.sample_size, plan.interval, drawn.start
    (10, Decimal('1620.00'), Decimal('401.45'))
    >>> [(item.item_id, item.hits, item.top_stratum) for item in drawn.items]  # doctest: +NORMALIZE_WHITESPACE
    [('C-01', 3, True), ('C-02', 1, False), ('C-09', 1, False), ('C-08', 3, True),
     ('C-11', 1, False), ('C-06', 1, False)]

    Raises:
        ValueError: a claim id given twice or not text, a negative or non-money amount,
            claims that do not add up to the plan's book value, or a seed with a control
            character.
        TypeError: a seed neither text nor a whole number (None, a float, a bool, bytes).

    """
    seed = seed_text(seed)
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    amounts: dict[str, int] = {}
    twice: set[str] = set()
    for item_id, amount in pairs:
        if not isinstance(item_id, str) or not item_id:
            raise ValueError(f"claim ids must be non-empty text, got {item_id!r}")
        if item_id in amounts:
            twice.add(item_id)
        pence = _pence(_money(amount, f"amount of claim {item_id!r}"))
        if pence < 0:
            raise ValueError(f"claim {item_id!r} has a negative amount {_gbp(pence)}")
        amounts[item_id] = pence
    if twice:
        raise ValueError(f"claim_id given more than once: {sorted(twice)[:5]}")
    book = sum(amounts.values())
    if _pounds(book) != plan.book_value:
        raise ValueError(
            f"the claims total {_gbp(book)} but the plan is for {_gbp(_pence(plan.book_value))}:"
            " plan on the same claims you sample"
        )
    order = sorted(amounts, key=lambda i: (_rank(seed, i), i))
    interval = _pence(plan.interval)
    start = 1 + int(_rank(seed, "start"), 16) % interval
    chosen: list[MusItem] = []
    running, point, draws = 0, start, 0
    for item_id in order:
        running += amounts[item_id]
        first = point
        hits = 0
        while point <= running:
            hits += 1
            point += interval
        if hits:
            draws += hits
            chosen.append(
                MusItem(
                    item_id,
                    _pounds(amounts[item_id]),
                    hits,
                    amounts[item_id] >= interval,
                    _pounds(first),
                )
            )
    method = (
        f"claims listed in order of sha256('{seed}|<claim_id>') in hex, smallest first, with "
        f"running totals in pence; the first selected penny is {_gbp(start)} (1p + "
        f"sha256('{seed}|start') mod the interval), then every {_gbp(interval)}; a claim is "
        "sampled when a selected penny falls in it, so claims of at least the interval always are"
    )
    return MusSample(
        plan=plan,
        seed=seed,
        start=_pounds(start),
        draws=draws,
        items=tuple(chosen),
        not_selectable=tuple(i for i in order if amounts[i] == 0),
        method=method,
        population=tuple((i, _pounds(amounts[i])) for i in order),
    )


def _rank(seed: str, key: str) -> str:
    return hashlib.sha256(f"{seed}|{key}".encode()).hexdigest()


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Misstatement:
    """One sampled claim whose audited amount differs from the amount claimed.

    ``tainting = (claimed − audited) / claimed``; an over-claim below the interval projects to
    ``tainting × interval`` and, ranked by tainting (largest first), adds
    ``(factor increment − 1) × tainting × interval`` to the allowance for sampling risk.

    >>> claims = dict(zip([f"C-{i:02}" for i in range(1, 13)],
    ...     "4000 1600 800 700 100 1600 800 4000 700 1000 800 100".split()))
    >>> plan = mus_plan("16200", confidence="95%", tolerable="5000")
    >>> drawn = mus_select(claims, plan, seed=2)
    >>> audited = claims | {"C-02": "0", "C-05": "0", "C-06": "800", "C-08": "3200"}
    >>> found = mus_evaluate(drawn, audited)
    >>> m = found.misstatements[1]
    >>> m.item_id, m.over_claim, m.tainting, m.rank, m.projected, m.allowance
    ('C-06', Decimal('800.00'), Fraction(1, 2), 2, Decimal('810.00'), Decimal('447.07'))
    """

    item_id: str
    claimed: Decimal
    audited: Decimal
    """The amount the claim should have been (for pbr: the amount the rules allow)."""
    over_claim: Decimal
    """claimed − audited when positive, else zero."""
    under_claim: Decimal
    """audited − claimed when positive, else zero (reported, never netted off over-claims)."""
    tainting: Fraction
    """(claimed − audited) / claimed: the share of the claim that is wrong (negative if under)."""
    top_stratum: bool
    """The claim is at least the interval: its misstatement counts as found, not projected."""
    rank: int | None
    """The over-claim's place among the sample's taintings, largest first (None otherwise)."""
    factor_increment: Decimal | None
    """F(rank) − F(rank − 1), the confidence-factor step this tainting is weighted by."""
    projected: Decimal
    """tainting × interval, rounded up to the penny (the amount itself in the top stratum)."""
    allowance: Decimal
    """(factor_increment − 1) × tainting × interval, rounded up: its incremental allowance.

    Never below zero: at a confidence below about 63% a step is less than one (`_allowance`)."""


@dataclass(frozen=True, slots=True)
class MusEvaluation:
    """The sample's conclusion: the upper misstatement limit on over-claims and how it is built.

    ``upper_limit = basic_precision + projected_over_claim + incremental_allowance``, each part
    rounded up to the penny and shown, so the sum can be checked by hand.

    >>> claims = dict(zip([f"C-{i:02}" for i in range(1, 13)],
    ...     "4000 1600 800 700 100 1600 800 4000 700 1000 800 100".split()))
    >>> plan = mus_plan("16200", confidence="95%", tolerable="5000")
    >>> drawn = mus_select(claims, plan, seed=2)
    >>> audited = claims | {"C-02": "0", "C-05": "0", "C-06": "800", "C-08": "3200"}
    >>> found = mus_evaluate(drawn, audited)
    >>> found.basic_precision, found.projected_over_claim, found.incremental_allowance
    (Decimal('4853.09'), Decimal('3230.00'), Decimal('1659.05'))
    >>> print(found.statement)
    With 95% confidence, over-claims in this file do not exceed £9,742.14.
    """

    plan: MusPlan
    interval: Decimal
    """The sampling interval used (the plan's)."""
    draws: int
    """Selected pennies in the sample."""
    misstatements: tuple[Misstatement, ...]
    """Every sampled claim found wrong: over-claims by rank, then top-stratum, then under-claims."""
    factors: tuple[Decimal, ...]
    """The confidence factors F(0) … F(k) used, k the over-claims below the interval."""
    over_claims_in_sample: Decimal
    """The over-claims found in the sampled claims, not projected."""
    basic_precision: Decimal
    """F(0) × interval: the bound had the sample found nothing."""
    projected_over_claim: Decimal
    """The most likely over-claim in the file: projected taintings plus top-stratum amounts."""
    incremental_allowance: Decimal
    """The extra allowance for sampling risk that each tainting adds, by rank."""
    upper_limit: Decimal
    """The upper misstatement limit: over-claims do not exceed it, at the stated confidence."""
    bound: Decimal
    """The statement's figure: the upper limit, capped at the total claimed (over-claims cannot
    exceed what was claimed)."""
    under_claims_in_sample: Decimal
    """Under-claims found in the sample (not netted off over-claims)."""
    projected_under_claim: Decimal
    """Under-claims projected as over-claims are (a most likely figure; no bound is given)."""
    within_tolerable: bool
    """The upper limit is at most the plan's tolerable misstatement."""
    actual_over_claim: Decimal | None
    """The over-claims in the whole file, when the audited amount of every claim was given."""
    statement: str
    """The conclusion in one sentence: "With 95% confidence, over-claims … do not exceed £X"."""
    conclusion: str
    """The statement, set against tolerable and, when known, against the actual over-claim."""


@_in_exact_context
def mus_evaluate(
    sample: MusSample,
    audited: Mapping[str, Decimal | str | int],
    *,
    unverifiable: Iterable[str] = (),
) -> MusEvaluation:
    """Project the sample's over-claims and bound them at the plan's confidence.

    The bound is Stringer's, with Poisson factors, as in the AICPA Audit Sampling guide.

    `audited` maps claim ids to the amount each claim should have been (for pbr, the amount
    the rules allow). It must cover every sampled claim; give every claim in the file and the
    evaluation also states the actual over-claim beside the bound. With J the interval, t₁ ≥ t₂
    ≥ … the taintings of the over-claims below J, and F(i) the factor for i misstatements:
    basic precision ``F(0)·J``; projected ``Σ tᵢ·J`` plus top-stratum over-claims as found;
    incremental allowance ``Σ max(0, F(i) − F(i−1) − 1)·tᵢ·J``; upper limit the sum of the three.
    `unverifiable` names claims that could not be examined, audited at 0 (wholly over-claimed,
    as audit sampling treats an item it cannot examine): the conclusion says how much of the
    actual over-claim they are.

    >>> claims = dict(zip([f"C-{i:02}" for i in range(1, 13)],
    ...     "4000 1600 800 700 100 1600 800 4000 700 1000 800 100".split()))
    >>> plan = mus_plan("16200", confidence="95%", tolerable="5000")
    >>> drawn = mus_select(claims, plan, seed=2)
    >>> audited = claims | {"C-02": "0", "C-05": "0", "C-06": "800", "C-08": "3200"}
    >>> found = mus_evaluate(drawn, audited)
    >>> [(m.item_id, m.tainting, m.projected) for m in found.misstatements]  # doctest: +NORMALIZE_WHITESPACE
    [('C-02', Fraction(1, 1), Decimal('1620.00')), ('C-06', Fraction(1, 2), Decimal('810.00')),
     ('C-08', Fraction(1, 5), Decimal('800.00'))]
    >>> found.upper_limit, found.actual_over_claim, found.within_tolerable
    (Decimal('9742.14'), Decimal('3300.00'), False)

    Raises:
        ValueError: a sampled claim with no audited amount, an id not in the sample's file,
            or a negative or non-money amount.

    """
    population = dict(sample.population)
    unknown = sorted(set(audited) - set(population))
    if unknown:
        raise ValueError(f"audited amounts given for claims not in the file: {unknown[:5]}")
    missing = [i for i in sample.item_ids if i not in audited]
    if missing:
        raise ValueError(f"no audited amount for sampled claims: {missing[:5]}")
    truth: dict[str, int] = {}
    for item_id, amount in audited.items():
        pence = _pence(_money(amount, f"audited amount of claim {item_id!r}"))
        if pence < 0:
            raise ValueError(f"claim {item_id!r} has a negative audited amount {_gbp(pence)}")
        truth[item_id] = pence
    share = confidence_level(sample.plan.confidence)
    interval = _pence(sample.plan.interval)

    ranked: list[tuple[Fraction, MusItem]] = []
    top: list[MusItem] = []
    under: list[MusItem] = []
    for item in sample.items:
        claimed = _pence(item.amount)
        difference = claimed - truth[item.item_id]
        if difference > 0 and not item.top_stratum:
            ranked.append((Fraction(difference, claimed), item))
        elif difference > 0:
            top.append(item)
        elif difference < 0:
            under.append(item)
    ranked.sort(key=lambda pair: pair[0], reverse=True)  # stable: ties keep the listed order
    factors = tuple(_factor(k, share) for k in range(len(ranked) + 1))

    found: list[Misstatement] = []
    for rank, (tainting, item) in enumerate(ranked, start=1):
        step = factors[rank] - factors[rank - 1]
        found.append(
            _misstatement(
                item,
                truth,
                rank=rank,
                step=step,
                projected=round_up_to_penny(tainting * interval / 100),
                allowance=_allowance(step, tainting, interval),
            )
        )
    for item in top:
        over = _pounds(_pence(item.amount) - truth[item.item_id])
        found.append(_misstatement(item, truth, projected=over))
    for item in under:
        claimed = _pence(item.amount)
        missing_p = truth[item.item_id] - claimed
        projected = (
            _pounds(missing_p)
            if item.top_stratum
            else round_up_to_penny(Fraction(missing_p, claimed) * interval / 100)
        )
        found.append(_misstatement(item, truth, projected=projected))

    over_found = [m for m in found if m.over_claim > 0]
    basic = round_up_to_penny(Fraction(factors[0]) * interval / 100)
    projected = sum((m.projected for m in over_found), Decimal("0.00"))
    allowance = sum((m.allowance for m in over_found), Decimal("0.00"))
    limit = basic + projected + allowance
    actual: Decimal | None = None
    unexamined = Decimal("0.00")
    if set(truth) == set(population):
        actual = _pounds(sum(max(0, _pence(amount) - truth[i]) for i, amount in population.items()))
        unexamined = _pounds(
            sum(max(0, _pence(population[i]) - truth[i]) for i in set(unverifiable) & set(truth))
        )
    within = limit <= sample.plan.tolerable
    bound = min(limit, sample.plan.book_value)
    if limit <= sample.plan.book_value:
        statement = (
            f"With {_percent(share)} confidence, over-claims in this file do not exceed "
            f"{format_gbp(limit)}."
        )
    else:
        statement = (
            f"Over-claims in this file cannot exceed the {format_gbp(bound)} claimed; the "
            f"sample's upper limit at {_percent(share)} confidence, {format_gbp(limit)}, is "
            "above that, so the sample bounds nothing."
        )
    return MusEvaluation(
        plan=sample.plan,
        interval=sample.plan.interval,
        draws=sample.draws,
        misstatements=tuple(found),
        factors=factors,
        over_claims_in_sample=sum((m.over_claim for m in found), Decimal("0.00")),
        basic_precision=basic,
        projected_over_claim=projected,
        incremental_allowance=allowance,
        upper_limit=limit,
        bound=bound,
        under_claims_in_sample=sum((m.under_claim for m in found), Decimal("0.00")),
        projected_under_claim=sum(
            (m.projected for m in found if m.under_claim > 0), Decimal("0.00")
        ),
        within_tolerable=within,
        actual_over_claim=actual,
        statement=statement,
        conclusion=_conclusion(statement, limit, bound, sample.plan, share, actual, unexamined),
    )


def _allowance(step: Decimal, tainting: Fraction, interval: int) -> Decimal:
    """(step − 1) × tainting × interval (in pence), rounded up to the penny; never below zero.

    Below about 63% confidence the factor steps are less than one: the bound is kept at least
    basic precision + projected, as each error must widen it, not narrow it.

    >>> _allowance(Decimal("1.748132"), Fraction(1), 162000)
    Decimal('1211.98')
    >>> _allowance(Decimal("0.985199"), Fraction(1, 5), 540000)  # not -15.98
    Decimal('0.00')
    """
    return round_up_to_penny(max(Fraction(0), (Fraction(step) - 1) * tainting * interval / 100))


def _misstatement(
    item: MusItem,
    truth: Mapping[str, int],
    *,
    projected: Decimal,
    rank: int | None = None,
    step: Decimal | None = None,
    allowance: Decimal = Decimal("0.00"),
) -> Misstatement:
    claimed = _pence(item.amount)
    audited = truth[item.item_id]
    return Misstatement(
        item_id=item.item_id,
        claimed=item.amount,
        audited=_pounds(audited),
        over_claim=_pounds(max(0, claimed - audited)),
        under_claim=_pounds(max(0, audited - claimed)),
        tainting=Fraction(claimed - audited, claimed),
        top_stratum=item.top_stratum,
        rank=rank,
        factor_increment=step,
        projected=projected,
        allowance=allowance,
    )


def _conclusion(
    statement: str,
    limit: Decimal,
    bound: Decimal,
    plan: MusPlan,
    share: Fraction,
    actual: Decimal | None,
    unexamined: Decimal,
) -> str:
    if limit <= plan.tolerable:
        verdict = (
            f"That is within the tolerable misstatement of {format_gbp(plan.tolerable)}: the "
            "sample supports the file."
        )
    else:
        verdict = (
            f"That is above the tolerable misstatement of {format_gbp(plan.tolerable)}: the "
            "sample does not show that over-claims are tolerable."
        )
    parts = [statement, verdict]
    if actual is not None:
        risk = _percent(1 - share)
        found = f"Checking every claim found over-claims of {format_gbp(actual)}"
        if unexamined:
            found += (
                f" ({format_gbp(unexamined)} of it in claims that cannot be verified, counted as "
                "wholly over-claimed)"
            )
        if actual <= bound:
            parts.append(f"{found}, within the bound, as it should be.")
        else:
            parts.append(
                f"{found}, above the bound: a sample misleads like this in at most {risk} of "
                "draws, so check the seed and the inputs before relying on either figure."
            )
    return " ".join(parts)


# --- small helpers ----------------------------------------------------------------------------


def confidence_level(value: Decimal | str) -> Fraction:
    """A confidence as an exact share in [1/2, 1): ``"95%"``, ``"0.95"`` or ``Decimal("0.95")``."""
    share = percent_share(value, "confidence")
    if share is None:
        number: Decimal | None = None
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            raise ValueError(
                "confidence must be a share such as '0.95' or a percentage such as '95%', "
                f"got {value!r}"
            )
        share = Fraction(number)
    if not Fraction(1, 2) <= share < 1:
        raise ValueError(
            f"confidence must be at least 50% and below 100% (e.g. '95%' or '0.95'), got {value!r}"
        )
    if (share * 10 ** (CONFIDENCE_PLACES + 2)).denominator != 1:
        raise TooPrecise(
            f"confidence must have at most {CONFIDENCE_PLACES} decimal places as a percentage "
            f"({CONFIDENCE_PLACES + 2} as a share, e.g. '99.5%' or '0.995'), got {value!r}"
        )
    return share


CONFIDENCE_PLACES = 10
"""The most decimal places a confidence has as a percentage: each figure the plan states (the
confidence, its percentage) is then exact in a few digits."""


class TooPrecise(ValueError):
    """A confidence with more than `CONFIDENCE_PLACES` decimal places as a percentage."""


def percent_share(value: object, name: str) -> Fraction | None:
    """A percentage string (``"2%"``) as an exact share; None for anything else."""
    if not isinstance(value, str) or not value.strip().endswith("%"):
        return None
    try:
        number = Decimal(value.strip()[:-1].strip())
    except InvalidOperation:
        raise ValueError(f"{name} must be a percentage such as '2%', got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} must be a percentage such as '2%', got {value!r}")
    return Fraction(number) / 100


def amount_in_pence(value: Decimal | str | int, book: int, name: str, *, round_up: bool) -> int:
    """Pence from pounds, or from a percentage of the book value (rounded as told)."""
    share = percent_share(value, name)
    if share is None:
        pence = _pence(_money(value, name))
        if pence < 0:
            raise ValueError(f"{name} must not be negative, got {value!r}")
        return pence
    exact = share * book
    return -(-exact.numerator // exact.denominator) if round_up else exact.__floor__()


def _money(value: object, what: str) -> Decimal:
    """Pounds via `pbr.money.money`, its refusals as a `ValueError` naming what was bad."""
    try:
        return money(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: {exc}") from None


def _pence(amount: Decimal, what: str = "amount") -> int:
    """Whole pence from pounds that `money` has already checked (two places at most).

    Called only under `_in_exact_context`, so the scaling is exact.
    """
    pence = amount.scaleb(2)
    if pence != pence.to_integral_value():  # pragma: no cover - money() refuses these
        raise ValueError(f"{what} must be whole pence, got {amount!r}")
    return int(pence)


def _pounds(pence: int) -> Decimal:
    sign = "-" if pence < 0 else ""
    whole, rest = divmod(abs(pence), 100)
    return Decimal(f"{sign}{whole}.{rest:02d}")


def _gbp(pence: int) -> str:
    return format_gbp(_pounds(pence))


def _ceil_places(value: Fraction, places: int) -> Decimal:
    """Round a ratio up to `places` decimal places (factors and taintings, not money)."""
    scaled = value * 10**places
    return Decimal(f"{-(-scaled.numerator // scaled.denominator)}E-{places}")


def _exact(value: Fraction) -> Decimal:
    """A terminating fraction as the `Decimal` equal to it (no context, no rounding)."""
    for places in range(60):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return Decimal(f"{scaled.numerator}E-{places}") if places else Decimal(scaled.numerator)
    raise ValueError(f"{value} has no short decimal form")  # pragma: no cover - shares terminate


def _percent(share: Fraction) -> str:
    """``Fraction(19, 20)`` → ``"95%"``; ``Fraction(199, 200)`` → ``"99.5%"``."""
    return f"{_exact(share * 100).normalize():f}%"
