"""Monetary-unit sampling: published tables reproduced, selection and bound properties, coverage.

Sources of the tables below (also cited on docs/audit-sampling.md):

* AICPA, *Audit Guide: Audit Sampling* (2017), appendix C, table C-1 "Monetary unit sample size
  determination tables", as transcribed in the test suite of the R package jfa (K. Derks,
  ``tests/testthat/test-aicpa-appendix-c.R``, retrieved from the Wiley online edition,
  doi:10.1002/9781119448617.app3).
* "PPS confidence factors for sample evaluation" (source line: AICPA Audit Sampling guide), as
  reproduced in exhibit FA.2 of a US auditing textbook, and its 1% column in Whittington & Pany,
  *Principles of Auditing and Other Assurance Services* (McGraw-Hill, 2006), table 1.
"""

from __future__ import annotations

import bisect
import math
import random
from decimal import ROUND_CEILING, ROUND_DOWN, Context, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbr.audit import (
    MusPlan,
    MusSample,
    confidence_factor,
    mus_evaluate,
    mus_plan,
    mus_select,
)
from pbr.audit._poisson import gamma_cdf, upper_limit

# --- table C-1: sample sizes ------------------------------------------------------------------

TOLERABLE = ["50", "30", "10", "8", "6", "5", "4", "3", "2", "1", "0.5"]
"""Table C-1's columns: tolerable misstatement as a percentage of the population."""

TABLE_C1 = """
5  0.0  6 10  30  38  50  60  75 100 150  300  600 0
5  0.1  8 13  37  46  62  74  92 123 184  368  736 0.37
5  0.2 10 16  47  58  78  93 116 155 232  463  925 0.93
5  0.3 12 20  60  75 100 120 150 200 300  600 1199 1.80
5  0.4 17 27  81 102 135 162 203 270 405  809 1618 3.24
5  0.5 24 39 116 145 193 231 289 385 577 1154 2308 5.77
10 0.0  5  8  24  29  39  47  58  77 116  231  461 0
10 0.2  7 12  35  43  57  69  86 114 171  341  682 0.69
10 0.3  9 15  44  55  73  87 109 145 217  433  866 1.30
10 0.4 12 20  58  72  96 115 143 191 286  572 1144 2.29
10 0.5 16 27  80 100 134 160 200 267 400  799 1597 4.00
15 0.0  4  7  19  24  32  38  48  64  95  190  380 0
15 0.2  6 10  28  35  46  55  69  91 137  273  545 0.55
15 0.3  7 12  35  43  57  69  86 114 171  341  681 1.03
15 0.4  9 15  45  56  74  89 111 148 221  442  883 1.77
15 0.5 13 21  61  76 101 121 151 202 302  604 1208 3.02
20 0.0  4  6  17  21  27  33  41  54  81  161  322 0
20 0.2  5  8  23  29  38  46  57  76 113  226  451 0.46
20 0.3  6 10  28  35  47  56  70  93 139  277  554 0.84
20 0.4  8 12  36  45  59  71  89 118 177  354  707 1.42
20 0.5 10 16  48  60  80  95 119 159 238  475  949 2.38
25 0.0  3  5  14  18  24  28  35  47  70  139  278 0
25 0.2  4  7  19  24  32  38  48  64  95  190  380 0.38
25 0.3  5  8  23  29  39  46  58  77 115  230  460 0.69
25 0.4  6 10  29  37  49  58  73  97 145  289  578 1.16
25 0.5  8 13  38  48  64  76  95 127 190  380  760 1.90
30 0.0  3  5  13  16  21  25  31  41  61  121  241 0
30 0.2  4  6  17  21  27  33  41  54  81  162  323 0.33
30 0.4  5  8  24  30  40  48  60  80 120  239  477 0.96
30 0.6  9 15  43  54  71  85 107 142 213  425  850 2.55
35 0.0  3  4  11  14  18  21  27  35  53  105  210 0
35 0.2  3  5  14  18  23  28  35  46  69  138  276 0.28
35 0.4  4  7  20  25  34  40  50  67 100  199  397 0.80
35 0.6  7 12  34  43  57  68  85 113 169  338  676 2.03
50 0.0  2  3   7   9  12  14  18  24  35   70  139 0
50 0.2  2  3   9  11  15  18  22  29  44   87  173 0.18
50 0.4  3  4  12  15  19  23  29  38  57  114  228 0.46
50 0.6  4  6  17  22  29  34  43  57  85  170  340 1.02
"""
"""Risk of incorrect acceptance %, ratio of expected to tolerable, sample sizes, expected taints."""

ROWS_C1 = [line.split() for line in TABLE_C1.strip().splitlines()]
BOOK = "1000000"
"""A book value on which every tolerable and expected percentage of table C-1 is whole pence."""


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


@pytest.mark.parametrize("row", ROWS_C1, ids=lambda r: f"risk{r[0]}-ratio{r[1]}")
def test_table_c1_sample_sizes_are_reproduced_exactly(row: list[str]) -> None:
    risk, ratio, *sizes, taints = row
    confidence = _percent(100 - Decimal(risk))
    plans = [
        mus_plan(
            BOOK,
            confidence=confidence,
            tolerable=f"{t}%",
            expected=_percent(Decimal(t) * Decimal(ratio)),
        )
        for t in TOLERABLE
    ]
    assert [p.sample_size for p in plans] == [int(s) for s in sizes]
    # the last column: n × expected / book for the 0.5% column, rounded up to two places
    assert plans[-1].expected_taintings == Decimal(taints)
    for plan in plans:
        assert plan.interval == (Decimal(BOOK) / plan.sample_size).quantize(
            Decimal("0.01"), rounding="ROUND_FLOOR"
        )


@pytest.mark.parametrize("row", ROWS_C1[::5], ids=lambda r: f"risk{r[0]}-ratio{r[1]}")
def test_each_planned_size_is_the_smallest_that_concludes(row: list[str]) -> None:
    risk, ratio = Decimal(row[0]) / 100, Decimal(row[1])
    for column, t in enumerate(TOLERABLE):
        share = Fraction(Decimal(t) / 100)
        expected = share * Fraction(ratio)
        n = int(row[2 + column])
        confidence = 1 - Fraction(risk)
        assert gamma_cdf(1 + n * expected, n * share) > confidence
        assert not gamma_cdf(1 + (n - 1) * expected, (n - 1) * share) > confidence


def test_a_plan_that_finds_nothing_or_what_it_expected_concludes_within_tolerable() -> None:
    claims = {f"C{i}": "1000" for i in range(1000)}  # £1,000,000 in £1,000 claims
    for row in ROWS_C1:
        risk, ratio = row[0], Decimal(row[1])
        for t in ("5", "2"):
            plan = mus_plan(
                BOOK,
                confidence=_percent(100 - Decimal(risk)),
                tolerable=f"{t}%",
                expected=_percent(Decimal(t) * ratio),
            )
            drawn = mus_select(claims, plan, seed=row[0] + row[1])
            clean = mus_evaluate(drawn, dict.fromkeys(drawn.item_ids, "1000"))
            assert clean.upper_limit == clean.basic_precision
            assert clean.within_tolerable, (row, t, clean.upper_limit)
            if plan.expected_taintings >= 1:  # one claim found wholly wrong is within the plan
                wrong = drawn.item_ids[0]
                found = mus_evaluate(
                    drawn, {i: ("0" if i == wrong else "1000") for i in drawn.item_ids}
                )
                assert found.within_tolerable, (row, t, found.upper_limit)


# --- evaluation factors -----------------------------------------------------------------------

RISKS = ["5", "10", "15", "20", "25", "30", "35", "37", "50"]
FACTORS = """
 0  3.00  2.31  1.90  1.61  1.39  1.21  1.05  1.00  0.70
 1  4.75  3.89  3.38  3.00  2.70  2.44  2.22  2.14  1.68
 2  6.30  5.33  4.73  4.28  3.93  3.62  3.35  3.25  2.68
 3  7.76  6.69  6.02  5.52  5.11  4.77  4.46  4.35  3.68
 4  9.16  8.00  7.27  6.73  6.28  5.90  5.55  5.43  4.68
 5 10.52  9.28  8.50  7.91  7.43  7.01  6.64  6.50  5.68
 6 11.85 10.54  9.71  9.08  8.56  8.12  7.72  7.57  6.67
 7 13.15 11.78 10.90 10.24  9.69  9.21  8.79  8.63  7.67
 8 14.44 13.00 12.08 11.38 10.81 10.31  9.85  9.68  8.67
 9 15.71 14.21 13.25 12.52 11.92 11.39 10.92 10.74  9.67
10 16.97 15.41 14.42 13.66 13.02 12.47 11.98 11.79 10.67
11 18.21 16.60 15.57 14.78 14.13 13.55 13.04 12.84 11.67
12 19.45 17.79 16.72 15.90 15.22 14.63 14.09 13.89 12.67
13 20.67 18.96 17.86 17.02 16.32 15.70 15.14 14.93 13.67
14 21.89 20.13 19.00 18.13 17.40 16.77 16.20 15.98 14.67
15 23.10 21.30 20.13 19.24 18.49 17.84 17.25 17.02 15.67
16 24.31 22.46 21.26 20.34 19.58 18.90 18.29 18.06 16.67
17 25.50 23.61 22.39 21.44 20.66 19.97 19.34 19.10 17.67
18 26.70 24.76 23.51 22.54 21.74 21.03 20.38 20.14 18.67
19 27.88 25.91 24.63 23.64 22.81 22.09 21.43 21.18 19.67
20 29.07 27.05 25.74 24.73 23.89 23.15 22.47 22.22 20.67
"""
"""Confidence factors for sample evaluation by overstatements (rows) and risk % (columns).

The textbook reproduction prints 3.35 for two misstatements at 37% (the 35% column's figure
repeated); Whittington & Pany print 3.25, which is what the Poisson limit gives (3.2479).
"""

ONE_PERCENT = ["4.61", "6.64", "8.41", "10.05", "11.61"]
"""Whittington & Pany, table 1, the 1% column, 0 to 4 misstatements."""


def _two_places_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_CEILING)


@pytest.mark.parametrize("line", FACTORS.strip().splitlines(), ids=lambda x: f"k{x.split()[0]}")
def test_evaluation_factors_reproduce_the_published_table(line: str) -> None:
    k, *printed = line.split()
    computed = [
        _two_places_up(confidence_factor(int(k), _percent(100 - Decimal(r)))) for r in RISKS
    ]
    assert computed == [Decimal(p) for p in printed]


def test_the_one_percent_column() -> None:
    computed = [_two_places_up(confidence_factor(k, "99%")) for k in range(5)]
    assert computed == [Decimal(p) for p in ONE_PERCENT]


@settings(max_examples=30)
@given(st.integers(0, 30), st.integers(500, 999).map(lambda p: Fraction(p, 1000)))
def test_a_factor_is_the_poisson_upper_limit(k: int, confidence: Fraction) -> None:
    # independently: P(X ≤ k; λ) by the finite Poisson sum equals the risk at λ = the limit
    limit = upper_limit(Fraction(k), confidence)
    with localcontext(Context(prec=60)):
        tail = sum(limit**i / math.factorial(i) for i in range(k + 1)) * (-limit).exp()
        assert abs(tail - (1 - Decimal(confidence.numerator) / confidence.denominator)) < Decimal(
            "1e-45"
        )
    # the factor is the limit rounded up to six places
    factor = confidence_factor(k, str(Decimal(confidence.numerator) / confidence.denominator))
    assert Decimal(0) <= factor - limit < Decimal("0.000001")


def test_the_gamma_function_for_a_fractional_shape() -> None:
    # P(1/2, x) = erf(√x); erf(1) by its Taylor series 2/√π Σ (−1)ⁿ / (n! (2n + 1))
    with localcontext(Context(prec=60)):
        pi = Decimal("3.14159265358979323846264338327950288419716939937510")
        series = sum(Decimal((-1) ** n) / (math.factorial(n) * (2 * n + 1)) for n in range(60))
        erf_one = 2 / pi.sqrt() * series
        assert abs(gamma_cdf(Fraction(1, 2), Decimal(1)) - erf_one) < Decimal("1e-48")


@settings(max_examples=25)
@given(
    st.fractions(min_value=1, max_value=3000, max_denominator=100),
    st.fractions(min_value=1, max_value=8, max_denominator=100),
)
def test_the_series_and_the_continued_fraction_agree(shape: Fraction, spread: Fraction) -> None:
    from pbr.audit import _poisson

    with localcontext(_poisson._CONTEXT):
        a = Decimal(shape.numerator) / shape.denominator
        x = a + 1 + Decimal(spread.numerator) / spread.denominator * a.sqrt()
        series = _poisson._lower_gamma_series(a, x)
        fraction = 1 - _poisson._upper_gamma_fraction(a, x)
        assert abs(series - fraction) < Decimal("1e-50")


def test_a_plan_with_expected_close_to_tolerable_is_large_and_still_the_smallest() -> None:
    plan = mus_plan(BOOK, confidence="95%", tolerable="99%", expected="98.9%")
    n, t, e = plan.sample_size, Fraction(99, 100), Fraction(989, 1000)
    assert n > 1_000_000
    assert gamma_cdf(1 + n * e, n * t) > Fraction(95, 100)
    assert not gamma_cdf(1 + (n - 1) * e, (n - 1) * t) > Fraction(95, 100)


# --- a hand-worked example --------------------------------------------------------------------

CLAIMS = dict(
    zip(
        [f"C-{i:02}" for i in range(1, 13)],
        ["4000", "1600", "800", "700", "100", "1600", "800", "4000", "700", "1000", "800", "100"],
        strict=True,
    )
)


def test_the_worked_example_of_the_docs() -> None:
    plan = mus_plan("16200", confidence="95%", tolerable="5000")
    assert (plan.sample_size, plan.interval) == (10, Decimal("1620.00"))  # 2.9957 / (5000/16200)
    drawn = mus_select(CLAIMS, plan, seed=2)
    assert drawn.start == Decimal("401.45")
    assert drawn.item_ids == ("C-01", "C-02", "C-09", "C-08", "C-11", "C-06")
    audited = CLAIMS | {"C-02": "0", "C-05": "0", "C-06": "800", "C-08": "3200"}
    found = mus_evaluate(drawn, audited)
    assert found.factors == (Decimal("2.995733"), Decimal("4.743865"), Decimal("6.295794"))
    # basic precision 1,620 × 2.995733 = 4,853.087… → 4,853.09
    assert found.basic_precision == Decimal("4853.09")
    # projected: 1.0 × 1,620 + 0.5 × 1,620 + £800 found in the top stratum
    assert found.projected_over_claim == Decimal("3230.00")
    # allowance: (1.748132 − 1) × 1.0 × 1,620 = 1,211.97… → 1,211.98; (1.551929 − 1) × 0.5 ×
    # 1,620 = 447.06… → 447.07
    assert [m.allowance for m in found.misstatements] == [
        Decimal("1211.98"),
        Decimal("447.07"),
        Decimal("0.00"),
    ]
    assert found.upper_limit == Decimal("9742.14")
    assert found.over_claims_in_sample == Decimal("3200.00")
    assert found.actual_over_claim == Decimal("3300.00")  # C-05's £100 was not sampled
    assert not found.within_tolerable
    assert found.statement == (
        "With 95% confidence, over-claims in this file do not exceed £9,742.14."
    )
    assert "Checking every claim found over-claims of £3,300.00, within the bound" in (
        found.conclusion
    )


def test_below_about_63_percent_a_factor_step_under_one_adds_nothing_not_less() -> None:
    """At 50% F(1) − F(0) is 0.985199: the allowance was (0.985199 − 1) × ⅕ × 5,400 = −£15.98."""
    plan = mus_plan("16200", confidence="50%", tolerable="5000")
    drawn = mus_select(CLAIMS, plan, seed=2)
    assert (plan.interval, drawn.item_ids) == (Decimal("5400.00"), ("C-01", "C-07", "C-08"))
    found = mus_evaluate(drawn, CLAIMS | {"C-08": "3200"})
    assert found.factors == (Decimal("0.693148"), Decimal("1.678347"))
    (m,) = found.misstatements
    assert (m.rank, m.factor_increment, m.projected) == (1, Decimal("0.985199"), Decimal("1080.00"))
    assert m.allowance == Decimal("0.00")  # floored at zero: the step is shown as it is
    assert found.incremental_allowance == Decimal("0.00")
    # never less than basic precision + projected: 3,743.00 + 1,080.00
    assert found.upper_limit == Decimal("4823.00")


def test_at_95_percent_every_factor_step_is_above_one_and_its_allowance_kept() -> None:
    plan = mus_plan("16200", confidence="95%", tolerable="5000")
    drawn = mus_select(CLAIMS, plan, seed=2)
    audited = CLAIMS | {"C-02": "0", "C-06": "800", "C-08": "3200", "C-09": "0", "C-11": "400"}
    found = mus_evaluate(drawn, audited)
    ranked = [(m.item_id, m.factor_increment, m.allowance) for m in found.misstatements if m.rank]
    assert ranked == [
        ("C-02", Decimal("1.748132"), Decimal("1211.98")),  # (1.748132 − 1) × 1 × 1,620
        ("C-09", Decimal("1.551929"), Decimal("894.13")),
        ("C-11", Decimal("1.457863"), Decimal("370.87")),
        ("C-06", Decimal("1.399863"), Decimal("323.89")),
    ]
    assert found.incremental_allowance == Decimal("2800.87")
    assert found.upper_limit == Decimal("4853.09") + Decimal("5660.00") + Decimal("2800.87")


def test_the_same_example_with_the_printed_two_place_factors_is_a_little_higher() -> None:
    # by hand from the printed table: 1,620 × (3.00 + 1.75 × 1.0 + 1.55 × 0.5) + 800
    by_table = Decimal(1620) * (Decimal("3.00") + Decimal("1.75") + Decimal("1.55") / 2) + 800
    assert by_table == Decimal("9750.50")
    plan = mus_plan("16200", confidence="95%", tolerable="5000")
    found = mus_evaluate(
        mus_select(CLAIMS, plan, seed=2),
        CLAIMS | {"C-02": "0", "C-06": "800", "C-08": "3200"},
    )
    assert found.upper_limit < by_table
    assert found.upper_limit > by_table - 10


def test_under_claims_are_reported_but_not_netted() -> None:
    plan = mus_plan("16200", confidence="95%", tolerable="5000")
    drawn = mus_select(CLAIMS, plan, seed=2)
    found = mus_evaluate(drawn, CLAIMS | {"C-09": "800", "C-01": "4100"})
    assert found.projected_over_claim == 0
    assert found.upper_limit == found.basic_precision
    assert found.under_claims_in_sample == Decimal("200.00")
    # C-09: 100 / 700 of 1,620 = 231.43 (up); C-01 is in the top stratum: £100 as found
    assert found.projected_under_claim == Decimal("331.43")
    assert found.actual_over_claim == 0


def test_an_over_claim_above_the_bound_is_said_plainly() -> None:
    claims = {f"C-{i:03}": Decimal(100) for i in range(200)}
    plan = mus_plan("20000", confidence="95%", tolerable="30%")
    drawn = mus_select(claims, plan, seed=2)
    # a file wrong everywhere the sample did not look: the 5% that the bound allows for
    unsampled = [i for i in claims if i not in drawn.item_ids]
    found = mus_evaluate(drawn, claims | dict.fromkeys(unsampled, Decimal(0)))
    assert found.actual_over_claim == 100 * len(unsampled)
    assert found.actual_over_claim > found.upper_limit == found.basic_precision
    assert "above the bound" in found.conclusion
    assert "at most 5% of draws" in found.conclusion
    # with only the sample's amounts, the actual over-claim is not knowable
    partial = mus_evaluate(drawn, {i: claims[i] for i in drawn.item_ids})
    assert partial.actual_over_claim is None
    assert "Checking every claim" not in partial.conclusion


def test_a_bound_above_the_whole_file_is_capped_and_said_plainly() -> None:
    plan = mus_plan("16200", confidence="95%", tolerable="50%")
    drawn = mus_select(CLAIMS, plan, seed=2)
    found = mus_evaluate(drawn, dict.fromkeys(CLAIMS, "0"))
    assert found.upper_limit > plan.book_value == found.bound == found.actual_over_claim
    assert found.statement == (
        "Over-claims in this file cannot exceed the £16,200.00 claimed; the sample's upper limit "
        f"at 95% confidence, £{found.upper_limit:,}, is above that, so the sample bounds nothing."
    )
    assert "within the bound" in found.conclusion


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "message"),
    [
        ("95", "at least 50% and below 100%"),
        ("0.4", "at least 50% and below 100%"),
        ("100%", "at least 50% and below 100%"),
        ("ninety", "a share such as '0.95'"),
        ("95 percent", "a share such as '0.95'"),
        ("x%", "a percentage such as '2%'"),
        (0.95, "a share such as '0.95'"),
        (95, "a share such as '0.95'"),
        (Decimal("NaN"), "a share such as '0.95'"),
        # more places than a figure of the plan shows exactly: was "... has no short decimal form"
        ("95." + "0" * 60 + "1%", "at most 10 decimal places as a percentage"),
        ("0.95" + "0" * 10 + "1", "at most 10 decimal places as a percentage"),
    ],
)
def test_a_bad_confidence_is_named(confidence: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mus_plan("1000", confidence=confidence, tolerable="100")  # type: ignore[arg-type]


def test_a_confidence_of_ten_places_is_planned_exactly() -> None:
    plan = mus_plan("1000000", confidence="95.0000000001%", tolerable="2%")
    assert plan.confidence == Decimal("0.950000000001")
    assert "monetary-unit sampling at 95.0000000001% confidence" in plan.method


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tolerable": "2%", "expected": "2%"}, "must be below tolerable"),
        ({"tolerable": "0"}, "tolerable must be above zero"),
        ({"tolerable": "-5"}, "tolerable must not be negative"),
        (
            {"tolerable": 100.5},
            "tolerable: money must be a decimal string or whole pounds, not a float",
        ),
        ({"tolerable": "10", "expected": "abc%"}, "expected must be a percentage"),
        ({"tolerable": "2%", "expected": "1.9999%"}, "more than"),
        # as `pbr audit` and `mus_audit` refuse it: a plan of 2 selections was returned
        (
            {"tolerable": "150%"},
            "the tolerable misstatement £1,500,000.00 is not below the £1,000,000.00 claimed: "
            "any over-claim would be tolerable, so no sample is needed",
        ),
        ({"tolerable": "1000000"}, "the tolerable misstatement £1,000,000.00 is not below"),
    ],
)
def test_bad_plans_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mus_plan("1000000", confidence="95%", **kwargs)  # type: ignore[arg-type]


def test_a_sample_beyond_the_pennies_claimed_names_its_cause() -> None:
    tiny = "the sample would need more than the 2,460,000 pennies claimed"
    with pytest.raises(ValueError, match=tiny) as refused:
        mus_plan("24600", confidence="95%", tolerable="0.01")
    assert "a tolerable misstatement of £0.01 needs about 7,369,504 selections" in str(
        refused.value
    )
    assert "expected misstatement" not in str(refused.value)  # none was expected
    close = "the expected misstatement £491.76 is too close to the tolerable £492.00"
    with pytest.raises(ValueError, match=close):
        mus_plan("24600", confidence="95%", tolerable="2%", expected="1.999%")
    with pytest.raises(ValueError, match="more than 10,000,000 selections, the most pbr draws"):
        mus_plan("1000000", confidence="95%", tolerable="0.01")  # £1m: more pennies than that


def test_a_book_value_must_be_money_above_zero() -> None:
    with pytest.raises(ValueError, match="book_value must be above zero"):
        mus_plan("0", confidence="95%", tolerable="1")
    with pytest.raises(ValueError, match="book_value: money must be a decimal string such as"):
        mus_plan("10.001", confidence="95%", tolerable="1")


def test_bad_claims_are_refused_by_name() -> None:
    plan = mus_plan("300", confidence="95%", tolerable="100")
    with pytest.raises(ValueError, match="claim_id given more than once: \\['A'\\]"):
        mus_select([("A", "100"), ("B", "100"), ("A", "100")], plan, seed=1)
    with pytest.raises(ValueError, match=r"claim 'B' has a negative amount -£100\.00"):
        mus_select({"A": "500", "B": "-100", "C": "-100"}, plan, seed=1)
    with pytest.raises(
        ValueError,
        match="amount of claim 'B': money must be a decimal string or whole pounds, not a float",
    ):
        mus_select({"A": "200", "B": 100.5}, plan, seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"the claims total £200\.00 but the plan is for £300\.00"):
        mus_select({"A": "200"}, plan, seed=1)
    with pytest.raises(ValueError, match="claim ids must be non-empty text"):
        mus_select({"": "300"}, plan, seed=1)


def test_bad_audited_amounts_are_refused_by_name() -> None:
    plan = mus_plan("16200", confidence="95%", tolerable="5000")
    drawn = mus_select(CLAIMS, plan, seed=2)
    with pytest.raises(ValueError, match="no audited amount for sampled claims: \\['C-06'\\]"):
        mus_evaluate(drawn, {i: "1" for i in drawn.item_ids if i != "C-06"})
    with pytest.raises(ValueError, match="not in the file: \\['C-99'\\]"):
        mus_evaluate(drawn, CLAIMS | {"C-99": "1"})
    with pytest.raises(ValueError, match="claim 'C-01' has a negative audited amount"):
        mus_evaluate(drawn, CLAIMS | {"C-01": "-1"})
    with pytest.raises(
        ValueError,
        match="audited amount of claim 'C-01': money must be a decimal string or whole pounds, not a float",
    ):
        mus_evaluate(drawn, CLAIMS | {"C-01": 0.5})  # type: ignore[dict-item]


def test_claims_of_nothing_are_listed_not_dropped() -> None:
    plan = mus_plan("300", confidence="95%", tolerable="100")
    claims: dict[str, str | int] = {"A": "300", "Z": "0.00", "Y": 0}
    drawn = mus_select(claims, plan, seed=1)
    assert drawn.not_selectable == tuple(i for i, _ in drawn.population if i in {"Y", "Z"})
    assert set(drawn.not_selectable) == {"Y", "Z"}
    assert {i for i, _ in drawn.population} == {"A", "Y", "Z"}


def test_the_callers_decimal_context_plays_no_part() -> None:
    plan = mus_plan("16200", confidence="95%", tolerable="5000")
    found = mus_evaluate(mus_select(CLAIMS, plan, seed=2), CLAIMS | {"C-06": "800.01"})
    with localcontext(Context(prec=4)):
        plan_again = mus_plan("16200", confidence="95%", tolerable="5000")
        found_again = mus_evaluate(
            mus_select(CLAIMS, plan_again, seed=2), CLAIMS | {"C-06": "800.01"}
        )
    assert plan_again == plan
    assert found_again == found


def test_the_order_is_the_simple_samples_rank() -> None:
    from pbr.audit import rank

    plan = mus_plan("16200", confidence="95%", tolerable="5000")
    for seed in (2, "2015-Q4", ""):
        drawn = mus_select(CLAIMS, plan, seed=seed)
        assert [i for i, _ in drawn.population] == sorted(CLAIMS, key=lambda i: rank(seed, i))


def test_every_sampling_name_has_a_docstring_example() -> None:
    import inspect

    import pbr.audit
    from pbr.audit import _mus

    for name in _mus.__all__:
        value = getattr(pbr.audit, name)
        assert ">>>" in (inspect.getdoc(value) or ""), name
        for attr, member in vars(value).items() if inspect.isclass(value) else ():
            if isinstance(member, property) and not attr.startswith("_"):
                assert ">>>" in (inspect.getdoc(member) or ""), f"{name}.{attr}"


# --- properties -------------------------------------------------------------------------------

amounts = st.lists(
    st.one_of(
        st.sampled_from([100, 700, 800, 1000, 1600, 4000]).map(lambda p: p * 100),
        st.integers(0, 2_000_000),
    ),
    min_size=1,
    max_size=60,
)
seeds = st.one_of(
    st.integers(), st.text(st.characters(exclude_categories=["Cc", "Cf", "Zl", "Zp"]), max_size=10)
)
"""Seeds as `seed_text` takes them: whole numbers, and text without a control, separator or format character."""


@st.composite
def files(draw: st.DrawFn) -> tuple[dict[str, Decimal], MusPlan]:
    pence = draw(amounts.filter(lambda xs: sum(xs) >= 100_00))
    claims = {f"C-{i:03}": Decimal(p).scaleb(-2) for i, p in enumerate(pence)}
    book = sum(pence)
    percent = draw(st.integers(1, 60))  # tolerable 1% … 60% of the file
    confidence = draw(st.sampled_from(["50%", "80%", "90%", "95%", "99%"]))
    tolerable = Decimal(book * percent // 100).scaleb(-2)
    plan = mus_plan(Decimal(book).scaleb(-2), confidence=confidence, tolerable=tolerable)
    return claims, plan


def _hits_by_brute_force(drawn: MusSample) -> dict[str, int]:
    """Where each selected penny lands, found by a binary search over the running totals."""
    ends: list[int] = []
    running = 0
    for _, amount in drawn.population:
        running += int(amount * 100)
        ends.append(running)
    interval = int(drawn.plan.interval * 100)
    hits: dict[str, int] = {}
    for penny in range(int(drawn.start * 100), running + 1, interval):
        item = drawn.population[bisect.bisect_left(ends, penny)][0]
        hits[item] = hits.get(item, 0) + 1
    return hits


@given(files(), seeds)
def test_every_claim_of_at_least_the_interval_is_selected(
    file: tuple[dict[str, Decimal], MusPlan], seed: int | str
) -> None:
    claims, plan = file
    drawn = mus_select(claims, plan, seed=seed)
    big = {i for i, a in claims.items() if a >= plan.interval}
    assert big <= set(drawn.item_ids)
    assert {i.item_id for i in drawn.items if i.top_stratum} == big
    assert {i.item_id: i.hits for i in drawn.items} == _hits_by_brute_force(drawn)
    assert drawn.draws == sum(i.hits for i in drawn.items) >= plan.sample_size
    assert Decimal("0.01") <= drawn.start <= plan.interval


@given(files(), seeds, st.randoms(use_true_random=False))
def test_the_selection_is_a_pure_function_of_claims_amounts_and_seed(
    file: tuple[dict[str, Decimal], MusPlan], seed: int | str, rnd: random.Random
) -> None:
    claims, plan = file
    first = mus_select(claims, plan, seed=seed)
    pairs = list(claims.items())
    rnd.shuffle(pairs)
    again = mus_select([(i, str(a)) for i, a in pairs], plan, seed=seed)
    assert again == first
    assert again.population == first.population


@given(files(), seeds, st.data())
def test_the_upper_limit_is_never_below_the_projected_misstatement(
    file: tuple[dict[str, Decimal], MusPlan], seed: int | str, data: st.DataObject
) -> None:
    claims, plan = file
    drawn = mus_select(claims, plan, seed=seed)
    audited = {
        i: data.draw(st.integers(0, int(a * 200)).map(lambda p: Decimal(p).scaleb(-2)))
        for i, a in claims.items()
    }
    found = mus_evaluate(drawn, audited)
    assert found.upper_limit >= found.projected_over_claim >= found.over_claims_in_sample
    assert found.upper_limit >= found.basic_precision > 0
    assert found.bound == min(found.upper_limit, plan.book_value)
    assert found.upper_limit == (
        found.basic_precision + found.projected_over_claim + found.incremental_allowance
    )
    assert found.projected_over_claim == sum(
        m.projected for m in found.misstatements if m.over_claim
    )
    assert [m.rank for m in found.misstatements if m.rank] == list(range(1, len(found.factors)))
    taints = [m.tainting for m in found.misstatements if m.rank]
    assert taints == sorted(taints, reverse=True)
    # one more over-claim never lowers the bound
    clean = [i for i in drawn.item_ids if audited[i] >= claims[i]]
    if clean:
        halved = (claims[clean[0]] / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        worse = mus_evaluate(drawn, audited | {clean[0]: halved})
        assert worse.upper_limit >= found.upper_limit


# --- coverage: the bound holds in at least the stated share of draws ---------------------------


def _simulated_file(
    rnd: random.Random, size: int, wrong_share: float, *, partial: bool, small_only: bool
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Claims of programme-like amounts, some over-claimed (wholly, or in part)."""
    rates = [100, 700, 800, 800, 1000, 1600, 1600, 4000]
    claims: dict[str, Decimal] = {}
    audited: dict[str, Decimal] = {}
    for i in range(size):
        amount = Decimal(rnd.choice(rates))
        claims[f"C-{i:04}"] = amount
        eligible = amount <= 800 if small_only else True
        if eligible and rnd.random() < wrong_share:
            kept = Decimal(rnd.randint(0, 80)) / 100 if partial else Decimal(0)
            audited[f"C-{i:04}"] = (amount * kept).quantize(Decimal("0.01"))
        else:
            audited[f"C-{i:04}"] = amount
    return claims, audited


@pytest.mark.parametrize("confidence", ["80%", "95%"])
@pytest.mark.parametrize(
    ("wrong_share", "partial", "small_only"),
    [(0.02, False, False), (0.2, True, False), (0.3, False, True)],
    ids=["2%-wholly-wrong", "20%-partly-wrong", "30%-of-small-claims-wholly-wrong"],
)
@pytest.mark.slow
def test_the_bound_holds_in_at_least_the_stated_share_of_seeds(
    confidence: str, wrong_share: float, partial: bool, small_only: bool
) -> None:
    """A bounded simulation (benchmarks/bench_mus_coverage.py runs the long version)."""
    claims, audited = _simulated_file(
        random.Random(17), 400, wrong_share, partial=partial, small_only=small_only
    )
    book = sum(claims.values())
    plan = mus_plan(book, confidence=confidence, tolerable="3%", expected="0.5%")
    seeds = 200
    held = 0
    for seed in range(seeds):
        found = mus_evaluate(mus_select(claims, plan, seed=seed), audited)
        assert found.actual_over_claim is not None
        held += found.actual_over_claim <= found.upper_limit
    share = Fraction(Decimal(confidence[:-1])) / 100
    assert held >= share * seeds, f"the bound held in {held} of {seeds} draws"
