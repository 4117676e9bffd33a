"""The rules in force for a request: the server's interpretations and plans, and the request's.

A request may switch interpretations (``interpretation=ID=VALUE``, any rule set that defines the
id) and pick any plan the server loaded (``plan=LABEL``); the rest come from the server's
settings. The server's term calendar, if any, applies to every rule set of every request. The
rules hash named on every response covers all of it: each programme's
`pbr.engine.rules_hash` (the one its decisions carry in ``provenance``), hashed together.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pbr._arguments import check_interpretations, interpretations_once
from pbr.engine import rule_set_for, rules_hash
from pbr.errors import UnknownInterpretation
from pbr.periods import TermCalendar
from pbr.plans import OutcomePlan
from pbr.records import Family
from pbr.rules import RULE_SETS, RuleSet
from pbr.serve._models import ProgrammeInForce
from pbr.serve._problems import ProblemError
from pbr.serve._settings import parse_choice

__all__ = ["InForce", "RulesInForce"]

_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class InForce:
    """Everything a request evaluates with; `rules_hash` is the one named on the response."""

    interpretations: Mapping[str, str]
    plans: Mapping[str, OutcomePlan]
    programmes: tuple[ProgrammeInForce, ...]
    rules_hash: str
    rule_sets: Mapping[str, RuleSet]
    """Each programme's rule set with the interpretations (and the server's calendar) applied."""
    term_calendar: TermCalendar | None = None
    """The server's term calendar, which every rule set reads; None: the default dates."""

    def rules_for(self, family: Family) -> RuleSet:
        """The rule set `family` is evaluated with (for `pbr.audit.verify`).

        Raises:
            OutsideProgramme: no programme covers the family.

        """
        return self.rule_sets[rule_set_for(family).programme]


class RulesInForce:
    """The server's defaults, and what each request's choices resolve to (cached).

    `term_calendar` is applied to every rule set: a request cannot change it.
    """

    def __init__(
        self,
        interpretations: Mapping[str, str],
        plans: Iterable[OutcomePlan],
        term_calendar: TermCalendar | None = None,
    ) -> None:
        self._plans: dict[str, OutcomePlan] = {}
        self._defaults: dict[str, OutcomePlan] = {}
        for plan in plans:
            if plan.label in self._plans:
                raise ValueError(f"two plans are labelled {plan.label}")
            self._plans[plan.label] = plan
            self._defaults.setdefault(plan.programme, plan)
        self._interpretations = dict(interpretations)
        self._calendar = term_calendar
        self._cache: OrderedDict[tuple[tuple[str, ...], tuple[str, ...]], InForce] = OrderedDict()
        try:
            self.default = self._resolve(self._interpretations, [])
        except ProblemError as exc:
            raise ValueError(exc.detail) from None

    @property
    def plans(self) -> Mapping[str, OutcomePlan]:
        """Every plan the server loaded, by label."""
        return dict(self._plans)

    @property
    def term_calendar(self) -> TermCalendar | None:
        """The server's term calendar, or None: the default term dates."""
        return self._calendar

    def resolve(
        self,
        interpretation: Sequence[str] = (),
        plan: Sequence[str] = (),
        uploaded: Sequence[OutcomePlan] = (),
    ) -> InForce:
        """The rules in force for a request's ``interpretation`` and ``plan`` parameters.

        `uploaded` are plans sent with the request (an audit's), which come before the
        server's for their programmes.

        Raises:
            ProblemError: 400, naming the bad choice and the valid ones.

        """
        if not interpretation and not plan and not uploaded:
            return self.default
        key = (tuple(interpretation), tuple(plan))
        found = self._cache.get(key) if not uploaded else None
        if found is not None:
            self._cache.move_to_end(key)
            return found
        pairs: list[tuple[str, str]] = []
        for text in interpretation:
            try:
                pairs.append(parse_choice(text))
            except ValueError as exc:
                raise ProblemError(400, f"interpretation: {exc}") from None
        try:
            given = interpretations_once(pairs)  # as pbr evaluate refuses one given twice
        except UnknownInterpretation as exc:
            raise ProblemError(400, str(exc)) from None
        found = self._resolve({**self._interpretations, **given}, plan, uploaded)
        if not uploaded:
            self._cache[key] = found
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def _resolve(
        self,
        chosen: Mapping[str, str],
        labels: Sequence[str],
        uploaded: Sequence[OutcomePlan] = (),
    ) -> InForce:
        try:  # an unknown id, spaces, a bad value: refused in pbr evaluate's words
            check_interpretations(chosen)
        except UnknownInterpretation as exc:
            raise ProblemError(400, str(exc)) from None
        given: dict[str, OutcomePlan] = {}
        for label in labels:
            plan = self._plans.get(label)
            if plan is None:
                valid = ", ".join(self._plans) or "none (start the server with --plan FILE)"
                raise ProblemError(400, f"plan: no plan labelled {label!r}; loaded: {valid}")
            _once(given, plan)
        for plan in uploaded:
            _once(given, plan)
        plans = {**self._defaults, **given}
        variants = {rules.programme: self._variant(rules, chosen) for rules in RULE_SETS}
        programmes = tuple(
            ProgrammeInForce(
                programme=programme,
                rules_version=variant.rules_version,
                interpretations=dict(variant.chosen),
                outcome_plan=plans[programme].label if programme in plans else None,
                term_calendar=variant.term_calendar.named,
                rules_hash=rules_hash(variant, plans.get(programme)),
            )
            for programme, variant in variants.items()
        )
        combined = hashlib.sha256(
            "\n".join(f"{p.programme} {p.rules_hash}" for p in programmes).encode()
        ).hexdigest()
        return InForce(dict(chosen), plans, programmes, combined, variants, self._calendar)

    def _variant(self, rules: RuleSet, chosen: Mapping[str, str]) -> RuleSet:
        """`rules` with the interpretations it defines applied, and the server's calendar."""
        mine = {k: v for k, v in chosen.items() if k in rules.interpretations}
        try:
            variant = rules.with_interpretations(**mine)
        except UnknownInterpretation as exc:
            raise ProblemError(400, str(exc)) from None
        return variant if self._calendar is None else variant.with_term_calendar(self._calendar)


def _once(given: dict[str, OutcomePlan], plan: OutcomePlan) -> None:
    """Add `plan` to the request's plans; a second for its programme is refused, even the same.

    The last of two would win silently: which was meant? (``pbr evaluate`` refuses two
    ``--plan`` files for one programme so too.)

    Raises:
        ProblemError: 400, naming the programme and both plans.

    """
    before = given.get(plan.programme)
    if before is not None:
        raise ProblemError(
            400,
            f"plan: two plans for {plan.programme} ({before.label!r}, then {plan.label!r}): "
            "give one",
        )
    given[plan.programme] = plan
