from datetime import date

def learn(
    family: type,
    member: type,
    offence: type,
    asb: type,
    term_row: type,
    benefit: type,
    employment: type,
    referral: type,
    observation: type,
    /,
) -> None: ...
def proved(family: object, earliest_term_end: dict[str, date | None], /) -> bool: ...
def tally(rows: object, /) -> tuple[int, int, int, bool, bool, bool] | None: ...
