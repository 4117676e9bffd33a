"""Reason codes: the stable, machine-readable vocabulary of every decision.

Council systems key on `Reason.code`, never on the message text (which may be reworded).
`REASON_CODES` maps each code to its meaning; the docs' reason-code table is generated from it.

>>> from pbr.reasons import REASON_CODES
>>> print(REASON_CODES["CAP_REACHED"])  # doctest: +ELLIPSIS
The amount is cut so that the attachment fee plus all results payments stay within the per-family...
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["REASON_CODES", "RENAMED_REASON_CODES", "ReasonCode", "current_code"]

ReasonCode = Literal[
    # identification at attachment (phase1-spec §3)
    "CRIME_ASB_AT_ENTRY",
    "NO_CRIME_ASB_AT_ENTRY",
    "EDUCATION_PROBLEM_AT_ENTRY",
    "NO_EDUCATION_PROBLEM_AT_ENTRY",
    "OUT_OF_WORK_BENEFIT_AT_ENTRY",
    "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY",
    "LOCAL_DISCRETION_RECORDED",
    "IDENTIFIED_FOR_STATED",
    "EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR",
    "LATER_PROGRAMME_LISTS_IGNORED",
    "ELIGIBLE",
    "NOT_ELIGIBLE",
    # relevance and timing (phase1-spec §4)
    "LIMB_NOT_RELEVANT",
    "PROBLEM_NOT_IDENTIFIED",
    "RESULT_TOO_EARLY",
    # education limb
    "CHILD_IN_SCHOOL",
    "NO_CHILD_TO_ASSESS",
    "ABSENCE_AT_OR_ABOVE_THRESHOLD",
    "FIXED_TERM_EXCLUSIONS_AT_OR_ABOVE_THRESHOLD",
    "PERMANENTLY_EXCLUDED",
    "MISSING_SCHOOL_TERM",
    "NO_POSSIBLE_SESSIONS",
    # ASB limb
    "ASB_REDUCED_ENOUGH",
    "ASB_NOT_REDUCED_ENOUGH",
    "ASB_NONE_BEFORE_OR_SINCE",
    "ASB_SINCE_ZERO_BASELINE",
    # offending limb
    "OFFENDING_REDUCED_ENOUGH",
    "OFFENDING_NOT_REDUCED_ENOUGH",
    "OFFENDING_NONE_BEFORE_OR_SINCE",
    "OFFENDING_SINCE_ZERO_BASELINE",
    # progress to work
    "WORK_PROGRAMME_REFERRAL",
    "NO_WORK_PROGRAMME_REFERRAL",
    # continuous employment
    "CONTINUOUS_EMPLOYMENT_REACHED",
    "EMPLOYMENT_TOO_SHORT",
    "NO_CURRENT_EMPLOYMENT",
    "EMPLOYMENT_STARTED_BEFORE_ATTACHMENT",
    "NO_ADULT_ON_BENEFIT_AT_ATTACHMENT",
    # payment (phase1-spec §2, §5 and clarifications 6-8, 16-17)
    "RATE_APPLIED",
    "ALREADY_PAID",
    "CAP_REACHED",
    "EMPLOYMENT_TOP_UP",
    "EXCLUSIVE_ROUTE_TAKEN",
    "RESULT_PAID_MORE_THAN_ONCE",
    "ATTACHMENT_FEE_PAID_MORE_THAN_ONCE",
    "PAID_OVER_CAP",
    "RESULTS_PAID_BEFORE_ATTACHMENT",
    "EVALUATED_BEFORE_ATTACHMENT",
    "RESULTS_CLAIMS_CLOSED",
    "EARLIEST_DATE_AFTER_CLAIMS_CLOSED",
    # phase two and Supporting Families (tf-rules §2, §3)
    "PROBLEMS_AT_ENTRY",
    "TOO_FEW_PROBLEMS_AT_ENTRY",
    "DEPENDENT_CHILD_OR_EXPECTANT_PARENT",
    "NO_DEPENDENT_CHILD_OR_EXPECTANT_PARENT",
    "OUTCOME_MET",
    "OUTCOME_NOT_MET",
    "MEASURE_MET",
    "MEASURE_NOT_MET",
    "MEASURE_NO_EVIDENCE",
    "MEASURE_LATEST_READINGS_DISAGREE",
    "MEASURE_COUNT_NOT_EVENTS",
    "SUSTAIN_PERIOD_INCOMPLETE",
    "PROBLEM_NOT_IN_PLAN",
    "EXAMPLE_PLAN_USED",
    "OBSERVATIONS_NOT_READ",
    "ONE_CLAIM_PER_FAMILY",
    "EMPLOYMENT_ROUTE_CLOSED",
    "IDENTIFIED_FOR_IGNORED",
    "PROBLEMS_NOT_IN_PROGRAMME",
    "SECOND_RESULTS_CLAIM_PAID",
]

REASON_CODES: dict[str, str] = {
    "CRIME_ASB_AT_ENTRY": "A child had a proven offence, or the family had an ASB incident, in the "
    "12 months before attachment.",
    "NO_CRIME_ASB_AT_ENTRY": "No child offence and no ASB incident in the 12 months before "
    "attachment.",
    "EDUCATION_PROBLEM_AT_ENTRY": "A child was permanently excluded, had 3+ fixed-term exclusions, "
    "was in alternative provision, was off roll, or had unauthorised absence of 15% or more over "
    "the last 3 complete terms before attachment.",
    "NO_EDUCATION_PROBLEM_AT_ENTRY": "No child met an education criterion over the last 3 complete "
    "terms before attachment.",
    "OUT_OF_WORK_BENEFIT_AT_ENTRY": "An adult was on an out-of-work benefit on the attachment day.",
    "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY": "No adult was on an out-of-work benefit on the attachment "
    "day (a benefit the programme does not count, such as Universal Credit in phase one, is "
    "named under not_counted).",
    "LOCAL_DISCRETION_RECORDED": "The council recorded a local-discretion reason.",
    "IDENTIFIED_FOR_STATED": "The record states the problems the family was identified for; they "
    "are used for eligibility and relevance.",
    "EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR": "Warning: the evidence does not support the stated "
    "problem list (a problem stated without evidence, or evidence of an unstated problem).",
    "LATER_PROGRAMME_LISTS_IGNORED": "Warning: the record gives phase two's and Supporting "
    "Families' problems_at_entry or observations, which phase one does not use; eligibility comes "
    "from identified_for or the evidence.",
    "ELIGIBLE": "The family meets the programme's criteria at attachment: in phase one all "
    "three national criteria, or two of them plus local discretion; in phase two 2 of the 6 "
    "problems; in Supporting Families 3 needs and a dependent child or an expectant parent.",
    "NOT_ELIGIBLE": "The family does not meet the programme's criteria at attachment (phase "
    "one: neither all three national criteria nor two plus local discretion; phase two and "
    "Supporting Families: the reasons beside it say which, e.g. TOO_FEW_PROBLEMS_AT_ENTRY): "
    "nothing is payable.",
    "LIMB_NOT_RELEVANT": "The limb or result does not apply: the family was not identified for its "
    "problem (phase one's limbs, phase two's work) or need (Supporting Families' "
    "financial_stability) (interpretation relevance).",
    "PROBLEM_NOT_IDENTIFIED": "The result needs a problem the family was not identified for (phase "
    "one: progress to work and continuous employment need work, whatever the relevance "
    "interpretation; phase1-spec clarification 18).",
    "RESULT_TOO_EARLY": "Fewer than 6 months have passed since attachment (compared.earliest: "
    "the day they have). With compared.wait_ends instead, the evidence recorded so far already "
    "fails a limb on that day (ASB or offences since attachment over the share allowed: "
    "compared.asb_recorded, offending_recorded; a permanent exclusion or too many fixed-term "
    "exclusions in a term assessed then, or the same terms failing: education_terms, "
    "education_children), so there is no earliest date.",
    "CHILD_IN_SCHOOL": "The child had fewer than 3 fixed-term exclusions, unauthorised absence "
    "below 15% and no permanent exclusion over the last 3 complete terms.",
    "NO_CHILD_TO_ASSESS": "No child of school age has terms to assess, so the education limb holds.",
    "ABSENCE_AT_OR_ABOVE_THRESHOLD": "The child's unauthorised absence over the assessed terms was at or "
    "above the rule set's threshold share of possible sessions (phase one: 15% over 3 terms).",
    "FIXED_TERM_EXCLUSIONS_AT_OR_ABOVE_THRESHOLD": "The child's fixed-term exclusions over the assessed "
    "terms reached the rule set's threshold (phase one: 3).",
    "PERMANENTLY_EXCLUDED": "The child was permanently excluded in one of the last 3 complete terms.",
    "MISSING_SCHOOL_TERM": "A child of compulsory school age has no record for one of the last 3 "
    "complete terms: missing evidence.",
    "NO_POSSIBLE_SESSIONS": "The child's possible sessions over the last 3 complete terms sum to 0: "
    "there is no attendance to show.",
    "ASB_REDUCED_ENOUGH": "ASB in the recent window is at most the share of the baseline the rule "
    "set allows (phase one: 40%, a 60% reduction, over the last 6 months).",
    "ASB_NOT_REDUCED_ENOUGH": "ASB in the recent window is more than the share of the baseline the "
    "rule set allows.",
    "ASB_NONE_BEFORE_OR_SINCE": "No ASB in the baseline and none in the last 6 months.",
    "ASB_SINCE_ZERO_BASELINE": "No ASB in the baseline but some in the last 6 months.",
    "OFFENDING_REDUCED_ENOUGH": "Offences by children fell by at least the reduction the rule set "
    "requires (phase one: 33%).",
    "OFFENDING_NOT_REDUCED_ENOUGH": "Offences by children fell by less than the reduction the rule set "
    "requires.",
    "OFFENDING_NONE_BEFORE_OR_SINCE": "No offence by a child in the baseline and none in the last "
    "6 months.",
    "OFFENDING_SINCE_ZERO_BASELINE": "No offence by a child in the baseline but some in the last "
    "6 months.",
    "WORK_PROGRAMME_REFERRAL": "An adult was referred to the Work Programme or ESF provision in the "
    "last 6 months, on or after attachment.",
    "NO_WORK_PROGRAMME_REFERRAL": "No adult referral to the Work Programme or ESF provision in the "
    "last 6 months on or after attachment.",
    "CONTINUOUS_EMPLOYMENT_REACHED": "An adult on an out-of-work benefit at attachment has worked "
    "continuously since a start on or after attachment for the weeks required.",
    "EMPLOYMENT_TOO_SHORT": "Current continuous employment has not yet lasted the weeks required "
    "(run_end: the run is recorded to end before it would, so there is no earliest date).",
    "NO_CURRENT_EMPLOYMENT": "No qualifying adult is in employment on the evaluation date.",
    "EMPLOYMENT_STARTED_BEFORE_ATTACHMENT": "The current run of employment started before "
    "attachment.",
    "NO_ADULT_ON_BENEFIT_AT_ATTACHMENT": "No adult was on an out-of-work benefit on the attachment "
    "day, so continuous employment cannot be met (benefits the programme does not count are "
    "named under not_counted).",
    "RATE_APPLIED": "The result is payable at this rate (financial year and interpretations shown).",
    "ALREADY_PAID": "A payment for this result was made on or before the evaluation date; nothing is "
    "paid twice.",
    "CAP_REACHED": "The amount is cut so that the attachment fee plus all results payments stay "
    "within the per-family cap of the family's programme (the reason's compared.cap and the "
    "decision's cap give the amount).",
    "EMPLOYMENT_TOP_UP": "Continuous employment after crime/ASB/education (paid before or payable "
    "now) is paid only the balance up to the results share (interpretation "
    "employment_after_crime = top_up); after progress to work alone, a cut is CAP_REACHED.",
    "EXCLUSIVE_ROUTE_TAKEN": "The other route (crime/ASB/education or continuous employment) is "
    "paid, so this one is not (interpretation employment_after_crime = exclusive).",
    "RESULT_PAID_MORE_THAN_ONCE": "Warning: the record lists a result as paid more than once "
    "(under two claims); nothing is paid twice, so the later paid (compared.again_claim, "
    "again_paid_on) is to be recovered: by date, an undated payment after a dated one, and "
    "payments the dates do not tell apart in the order listed, as the message says.",
    "ATTACHMENT_FEE_PAID_MORE_THAN_ONCE": "Warning: the record lists the attachment fee as paid "
    "more than once: fee payments that together reach twice the year's fee or more, the first "
    "(compared.first_claim, first_paid_on, first_amount) and the later one that reached it "
    "(again_claim, again_paid_on, again_amount; fees_listed against attachment_fee). A fee may "
    "be paid in parts, and the fees listed still count against the cap (the larger of the "
    "year's fee and the fees listed), so results are cut to the room left; nothing is paid "
    "twice, so what is over the fee (compared.over_fee) is to be recovered. Which is the later "
    "is told as for RESULT_PAID_MORE_THAN_ONCE.",
    "PAID_OVER_CAP": "Warning: the attachment fee counted (the year's fee, whether or not the "
    "record lists it, or more if more is listed) plus the results payments listed total more "
    "than the per-family cap; the difference (compared.over_cap) is to be recovered.",
    "RESULTS_PAID_BEFORE_ATTACHMENT": "Warning: the record lists a results payment (not an "
    "attachment fee, which may be paid up front) as paid before the family's attachment "
    "(compared.paid_on before attached_on). No result is paid before attachment, so the "
    "payment's date is wrong or it is another family's; it still counts as paid, so the result "
    "is not paid again.",
    "EVALUATED_BEFORE_ATTACHMENT": "Warning: the evaluation date is before the family's "
    "attachment, so nothing is due yet, not even the attachment fee (the message names the fee "
    "only where one is due at attachment); eligibility is as the evidence stands at attachment.",
    "RESULTS_CLAIMS_CLOSED": "Warning: results are payable by the rules, but the evaluation date "
    "is after the programme's last day for results claims (phase one: May 2015, S12; Supporting "
    "Families: 31 March 2025, S39; phase two has none), so a claim made then would not have been "
    "paid; the amounts are still shown.",
    "EARLIEST_DATE_AFTER_CLAIMS_CLOSED": "Warning: a result not yet met could first be met "
    "(its earliest_date, compared.earliest_date) only after the last day a claim for it could be "
    "made (compared.claims_until: the programme's last day for results claims, as for "
    "RESULTS_CLAIMS_CLOSED, or, for Supporting Families' employment route by default, 31 March "
    "2022), so it could never be claimed; nothing is withheld. Phase two has no such day.",
    "PROBLEMS_AT_ENTRY": "The problems (phase two) or needs (Supporting Families) recorded at entry "
    "reach the number the programme requires.",
    "TOO_FEW_PROBLEMS_AT_ENTRY": "Fewer problems or needs at entry than the programme requires (2 "
    "of 6 in phase two, 3 in Supporting Families): nothing is payable.",
    "DEPENDENT_CHILD_OR_EXPECTANT_PARENT": "Supporting Families: the family has a dependent child "
    "or an expectant parent at attachment.",
    "NO_DEPENDENT_CHILD_OR_EXPECTANT_PARENT": "Supporting Families: no dependent child and no "
    "expectant parent at attachment, so the family is not eligible.",
    "OUTCOME_MET": "The outcome plan's measures for this problem hold (all, or any where the plan "
    "says so).",
    "OUTCOME_NOT_MET": "The outcome plan's measures for this problem do not hold.",
    "MEASURE_MET": "One measure of the outcome plan holds over its sustain period. The comparison "
    "is exact: compared.value is the value compared, in full (decimal text, no exponent, no "
    "trailing zeros); a mean or rate that no decimal writes exactly is shown to 16 places, with "
    "the exact value as a fraction in compared.value_exact (4/3).",
    "MEASURE_NOT_MET": "One measure of the outcome plan does not hold over its sustain period "
    "(compared.value and value_exact as for MEASURE_MET).",
    "MEASURE_NO_EVIDENCE": "No observation of the measure's indicator in its sustain period, or "
    "(a school-term indicator) a term of the period with no row for a child of compulsory school "
    "age in it, named in compared.missing_terms: missing evidence, so the measure does not hold.",
    "MEASURE_LATEST_READINGS_DISAGREE": "A measure of the latest value found one person's (or "
    "the household's) readings on the last day of its sustain period that disagree (in work 1 "
    "and 0 the same day): pbr does not choose between contradictory evidence, so the measure "
    "does not hold. compared.person_id, compared.day and compared.values name them (each with "
    "its source, if given).",
    "MEASURE_COUNT_NOT_EVENTS": "A count found readings of its indicator with a value other than "
    "1: a count counts events, and an event's value is 1, so a reading of 0 or 7 is not one "
    "event and pbr does not count it; the measure does not hold. compared.not_events names "
    "each (date: value).",
    "SUSTAIN_PERIOD_INCOMPLETE": "The measure's sustain period does not yet lie wholly after "
    "attachment; the earliest date it can hold is shown (put back, when evidence recorded "
    "since attachment rules it out, until that evidence leaves the period: "
    "compared.held_back_by).",
    "PROBLEM_NOT_IN_PLAN": "The family had a problem at entry that the outcome plan has no outcome "
    "for, so progress against it cannot be shown.",
    "EXAMPLE_PLAN_USED": "Warning: judged against pbr's example outcome plan, not the council's own "
    "(pass the council's plan).",
    "OBSERVATIONS_NOT_READ": "Warning: the record has observations of indicators no measure of "
    "the outcome plan reads (a plan's indicator spelt otherwise reads nothing, and a count of "
    "it holds at 0): check the plan's and the record's spelling.",
    "ONE_CLAIM_PER_FAMILY": "The family's one results claim is made by the other route (paid, "
    "payable now, or met now with nothing left under the cap to pay), so this route pays "
    "nothing.",
    "EMPLOYMENT_ROUTE_CLOSED": "Supporting Families: continuous employment is not a claim route "
    "of its own on this date (interpretation employment_route). Employment then counts only "
    "through the plan, which reads observations, not employment_spells: when the family has "
    "employment spells and the plan's financial_stability outcome is not met for want of "
    "evidence, the reason names them (compared.employment_spells_not_read, "
    "compared.measures_without_evidence).",
    "IDENTIFIED_FOR_IGNORED": "Warning: the record gives phase one's identified_for, which phase two "
    "and Supporting Families do not use; eligibility comes from problems_at_entry.",
    "PROBLEMS_NOT_IN_PROGRAMME": "Warning: problems_at_entry lists problems that are not the "
    "programme's own (another programme's, which a record stating no programme may list); they "
    "are not counted towards eligibility and not judged against the outcome plan. The reason "
    "names them (compared.ignored) and the programme's list (compared.programme_problems).",
    "SECOND_RESULTS_CLAIM_PAID": "Warning: phase two and Supporting Families pay one results "
    "claim per family, but the record lists results paid by both routes (sustained_progress and "
    "continuous_employment); nothing more is paid, and the later paid claim "
    "(compared.again_route, again_claim, again_paid_on; told as for RESULT_PAID_MORE_THAN_ONCE) "
    "is to be recovered.",
}

assert set(REASON_CODES) == set(get_args(ReasonCode)), "every reason code needs a meaning"

RENAMED_REASON_CODES: dict[str, ReasonCode] = {
    "ABSENCE_15_PERCENT_OR_MORE": "ABSENCE_AT_OR_ABOVE_THRESHOLD",
    "FIXED_TERM_EXCLUSIONS_3_OR_MORE": "FIXED_TERM_EXCLUSIONS_AT_OR_ABOVE_THRESHOLD",
    "ASB_REDUCED_60_PERCENT": "ASB_REDUCED_ENOUGH",
    "ASB_REDUCTION_BELOW_60_PERCENT": "ASB_NOT_REDUCED_ENOUGH",
    "OFFENDING_REDUCED_33_PERCENT": "OFFENDING_REDUCED_ENOUGH",
    "OFFENDING_REDUCTION_BELOW_33_PERCENT": "OFFENDING_NOT_REDUCED_ENOUGH",
}
"""Codes renamed so that a code names its test, not the threshold the rule set happens to hold:
old code to new. Decisions read back (`pbr replay`, `Decision.model_validate_json`) still accept
the old codes for one release and read them as the new ones."""


def current_code(code: object) -> object:
    """The code as decisions write it now: a renamed code becomes its new name.

    >>> current_code("ASB_REDUCED_60_PERCENT"), current_code("CAP_REACHED")
    ('ASB_REDUCED_ENOUGH', 'CAP_REACHED')
    """
    return RENAMED_REASON_CODES.get(code, code) if isinstance(code, str) else code
