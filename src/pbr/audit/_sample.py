"""A spot-check sample anyone can redo by hand: SHA-256 ranks within strata, no random numbers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pbr.audit._claims import Claim
from pbr.audit._mus import seed_text
from pbr.audit._mus_audit import sampling_ids

__all__ = ["Sample", "rank", "sample"]

_STRATA = frozenset(Claim.model_fields) - {"amount", "row"}
API_NAMES: Mapping[str, str] = {
    "size": "size",
    "fraction": "fraction",
    "strata": "strata",
    "min_per_stratum": "min_per_stratum",
}
"""How errors name the options: the keywords of `sample` (the command line passes its flags)."""
CLI_NAMES: Mapping[str, str] = {
    "size": "--sample",
    "fraction": "--fraction",
    "strata": "--strata",
    "min_per_stratum": "--min-per-stratum",
}
"""The options as ``pbr audit`` names them."""


@dataclass(frozen=True, slots=True)
class Sample:
    """A reproducible spot-check sample, the size drawn from each stratum and how.

    >>> from datetime import date
    >>> claims = [Claim(claim_id=f"C{i}", family_id="F", kind="attachment_fee", amount="1",
    ...           claimed_on=date(2013, 1, 1)) for i in range(4)]
    >>> drawn = sample(claims, size=2, seed="audit-2015")
    >>> drawn.sizes, len(drawn.claims), drawn.item_ids
    ({'attachment_fee': 2}, 2, ('C2', 'C1'))
    """

    claims: tuple[Claim, ...]
    seed: str
    strata: tuple[str, ...]
    sizes: Mapping[str, int]
    """How many claims each stratum gave, by stratum name (e.g. the kind)."""
    method: str
    """The method in one sentence, for the report."""
    item_ids: tuple[str, ...] = ()
    """Each sampled claim's sampling id, in the order drawn: its claim id, or ``<claim id>#<k>``
    for a claim id on several rows, as a monetary-unit sample keys it
    (`pbr.audit._mus_audit.sampling_ids`): a row that repeats another is money claimed twice."""


def rank(seed: str | int, claim_id: str) -> str:
    """The key a claim is ranked by: SHA-256 of ``"<seed>|<claim_id>"`` (UTF-8), in hex.

    For a claim id on several rows, `claim_id` is the row's sampling id, ``<claim id>#<k>``.

    >>> rank(2015, "C-001")[:12]
    '23ed4ae47d00'

    Raises:
        TypeError: a seed neither text nor a whole number (`pbr.audit._mus.seed_text`).
        ValueError: a seed with a control character.

    """
    return hashlib.sha256(f"{seed_text(seed)}|{claim_id}".encode()).hexdigest()


def sample(
    claims: Iterable[Claim],
    size: int | None = None,
    fraction: Decimal | str | None = None,
    *,
    seed: str | int,
    strata: Sequence[str] = ("kind",),
    min_per_stratum: int = 0,
) -> Sample:
    """Draw a spot-check sample that anyone can reproduce by hand from the claims and the seed.

    Method: group claims by `strata` (default: kind); in each group rank claims by the SHA-256
    hex digest of ``"<seed>|<claim_id>"`` (`rank`), smallest first, and take the first n.
    Every claim is a sampling unit, a row that repeats another too (money claimed twice, as
    ``pbr audit`` flags it ``DUPLICATE_IN_FILE``): a claim id on several rows is ranked by its
    sampling id ``<claim id>#<k>`` instead, `k` the row's rank among those rows by what they claim
    (`Sample.item_ids`), as a monetary-unit sample keys it.
    With `size`, each group's n is its proportional share ``size × group / all``, rounded down,
    and the claims still to place go one each to the groups with the largest remainders (ties:
    group name, alphabetical). With `fraction`, n = fraction × group claims, rounded half up.
    With `min_per_stratum` k, every group first gets k claims (all of them if it has fewer); with
    `size`, the rest of the sample is then shared the same way over what each group has left.
    No random number generator is involved, so the sample depends only on the claims and the
    seed, on any machine and any Python version; the input order does not matter.

    >>> from datetime import date
    >>> cs = [Claim(claim_id=f"C{i}", family_id="F", kind="attachment_fee", amount="1",
    ...       claimed_on=date(2013, 1, 1)) for i in range(5)]
    >>> [c.claim_id for c in sample(cs, size=2, seed=7).claims]
    ['C4', 'C3']

    >>> many = cs + [Claim(claim_id="P1", family_id="F", kind="progress_to_work", amount="1",
    ...     claimed_on=date(2013, 1, 1))]
    >>> sample(many, size=2, seed=7, min_per_stratum=1).sizes
    {'attachment_fee': 1, 'progress_to_work': 1}
    >>> sample([*cs, cs[0]], fraction=1, seed=7).item_ids  # C0 given twice: both rows drawn
    ('C0#1', 'C4', 'C3', 'C1', 'C0#2', 'C2')

    Raises:
        ValueError: neither or both of `size` and `fraction`, either out of range (a sample has
            at least one claim), an unknown stratum, no claims, a `size` too small for
            `min_per_stratum`, a `fraction` too small to draw any claim, or a `seed` with a
            control character.
        TypeError: `claims` is not claims (a claim file's name, a claim given as a dict), or
            `seed` is neither text nor a whole number (None, a float, a bool, bytes).

    """
    from pbr._arguments import check_claims

    return draw(check_claims(claims), size, fraction, seed, strata, min_per_stratum, API_NAMES)


def draw(
    claims: Iterable[Claim],
    size: int | None,
    fraction: Decimal | str | None,
    seed: str | int,
    strata: Sequence[str],
    min_per_stratum: int,
    names: Mapping[str, str],
) -> Sample:
    """`sample`, its errors naming the options as `names` does (`API_NAMES`, `CLI_NAMES`)."""
    n = names
    seed = seed_text(seed)
    check_options(size, fraction, strata, min_per_stratum, n)
    claims = list(claims)
    if not claims:
        raise ValueError("there are no claims to sample")
    ids = sampling_ids(claims)
    repeated = ids != tuple(c.claim_id for c in claims)
    groups: dict[str, list[tuple[str, Claim]]] = {}
    for item, claim in zip(ids, claims, strict=True):
        key = stratum(claim, strata)
        groups.setdefault(key, []).append((item, claim))
    floor = {k: min(min_per_stratum, len(v)) for k, v in groups.items()}
    at_least = (
        f"; at least {min_per_stratum} per group (all of a smaller group) first"
        if min_per_stratum
        else ""
    )
    if size is not None:
        if size > len(claims):
            raise ValueError(
                f"{n['size']} must be between 1 and {len(claims)} (the claims given), got {size}"
            )
        if size < sum(floor.values()):
            raise ValueError(
                f"{n['size']} {size} is too small for {n['min_per_stratum']} {min_per_stratum} "
                f"over {len(groups)} strata: it must be at least {sum(floor.values())}"
            )
        rest = _proportional(
            size - sum(floor.values()), {k: len(v) - floor[k] for k, v in groups.items()}
        )
        sizes = {k: floor[k] + rest.get(k, 0) for k in groups}
        how = f"{size} in all, shared in proportion to the groups, largest remainders first"
        if min_per_stratum:
            how += f"{at_least}, the rest shared in proportion to the claims each group has left"
    else:
        share = _fraction(fraction, n)
        sizes = {
            k: max(floor[k], int((share * len(v)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
            for k, v in groups.items()
        }
        how = f"{share} of each group, rounded half up{at_least}"
        if not any(sizes.values()):
            raise ValueError(
                f"{n['fraction']} {share} of {len(claims)} claims, rounded half up in each "
                f"group, draws no claim: give a larger {n['fraction']}, or {n['size']}"
            )
    chosen: list[tuple[str, Claim]] = []
    for key in sorted(groups):
        ranked = sorted(groups[key], key=lambda unit: rank(seed, unit[0]))
        chosen.extend(ranked[: sizes[key]])
    keyed = " (<claim_id>#<k> for a claim id on several rows)" if repeated else ""
    method = (
        f"claims grouped by {', '.join(strata) or 'nothing'}; within each group ranked by "
        f"sha256('{seed}|<claim_id>'){keyed} in hex, smallest first; {how}"
    )
    return Sample(
        tuple(c for _, c in chosen),
        seed,
        tuple(strata),
        dict(sorted(sizes.items())),
        method,
        tuple(i for i, _ in chosen),
    )


def stratum(claim: Claim, strata: Sequence[str]) -> str:
    """The name of the claim's group: its `strata` values joined by ``/`` (``all`` for none).

    Two groups never share a name: a missing value is ``(no <field>)``, and a value that
    holds ``/`` or ``"``, or starts with ``(``, is quoted (``"F/Q1"``), so neither a missing
    window and the text ``None`` nor ``F/Q1`` + ``Q2`` and ``F`` + ``Q1/Q2`` fall into one group.
    Other values are as written, so their groups, and the samples drawn from them, are as before.

    >>> from datetime import date
    >>> c = Claim(claim_id="C/1", family_id="F1", kind="attachment_fee", amount="1",
    ...           claimed_on=date(2013, 1, 1))
    >>> stratum(c, ("kind", "window")), stratum(c, ("claim_id",)), stratum(c, ())
    ('attachment_fee/(no window)', '"C/1"', 'all')
    """
    parts = []
    for field in strata:
        value = getattr(claim, field)
        text = str(value)
        if value is None:
            text = f"(no {field})"
        elif "/" in text or '"' in text or text.startswith("("):
            text = '"' + text.replace('"', '""') + '"'
        parts.append(text)
    return "/".join(parts) or "all"


def _proportional(size: int, counts: Mapping[str, int]) -> dict[str, int]:
    """Largest-remainder allocation in whole numbers (no floating point)."""
    total = sum(counts.values())
    if not 0 <= size <= total:
        raise ValueError(f"size must be between 0 and {total} (the claims given), got {size}")
    if total == 0:
        return {}
    sizes = {k: size * n // total for k, n in counts.items()}
    remainders = {k: size * n % total for k, n in counts.items()}
    left = size - sum(sizes.values())
    for key in sorted(counts, key=lambda k: (-remainders[k], k))[:left]:
        sizes[key] += 1
    return sizes


def check_options(
    size: int | None,
    fraction: Decimal | str | None,
    strata: Sequence[str],
    min_per_stratum: int,
    names: Mapping[str, str] = API_NAMES,
) -> None:
    """Refuse options no claims could satisfy (so a command can refuse them before any work).

    The errors name the options as `names` does: `sample`'s keywords, or ``pbr audit``'s flags
    (`CLI_NAMES`).

    >>> check_options(0, None, ("kind",), 0)
    Traceback (most recent call last):
    ...
    ValueError: size must be at least 1 (a sample of no claims checks nothing), got 0
    """
    n = names
    if (size is None) == (fraction is None):
        raise ValueError(f"give exactly one of {n['size']} and {n['fraction']}")
    if isinstance(min_per_stratum, bool) or min_per_stratum < 0:
        raise ValueError(f"{n['min_per_stratum']} must be 0 or more, got {min_per_stratum!r}")
    unknown = [s for s in strata if s not in _STRATA]
    if unknown:
        raise ValueError(f"unknown {n['strata']} {unknown}; choose from {sorted(_STRATA)}")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(
            f"{n['size']} must be at least 1 (a sample of no claims checks nothing), got {size!r}"
        )
    if fraction is not None:
        _fraction(fraction, n)


def _fraction(fraction: Decimal | str | None, names: Mapping[str, str] = API_NAMES) -> Decimal:
    """The share of each stratum to draw: above 0 (a sample of nothing checks nothing), at most 1."""
    try:
        share = Decimal(str(fraction))
    except InvalidOperation:
        share = Decimal("NaN")
    if not share.is_finite() or not 0 < share <= 1:
        raise ValueError(
            f"{names['fraction']} must be a number above 0 and at most 1, such as 0.1, "
            f"got {fraction!r}"
        )
    return share
