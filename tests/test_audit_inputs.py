"""Claim files the audit must refuse or report, never read as something else (user trial)."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pbr
import pbr.output
from pbr._csv_lines import split as _split
from pbr.audit import Claim, payments_from_report, read_claims, sample, verify
from pbr.cli import EXIT_STATUS, main
from pbr.io import UnreadableFile

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HEADER = "claim_id,family_id,kind,amount,claimed_on"
GOOD = "C-001,EX-010,crime_asb_education,1500.00,2015-03-31"
FAMILIES = ["--families", str(EXAMPLES / "families.jsonl"), "--as-of", "2015-03-31"]


def audit(capsys: pytest.CaptureFixture[str], claims: Path, *extra: str) -> tuple[int, str, str]:
    """Exit status, standard output and standard error of ``pbr audit CLAIMS``."""
    status = main(["audit", str(claims), *FAMILIES, *extra])
    out, err = capsys.readouterr()
    return status, out, err


def claim_line(**values: object) -> str:
    """One JSON Lines claim, from the good claim with `values` changed."""
    good = {
        "claim_id": "C-001",
        "family_id": "EX-010",
        "kind": "crime_asb_education",
        "amount": "1500.00",
        "claimed_on": "2015-03-31",
    }
    return json.dumps({**good, **values})


# --- 1. a column or a key given twice -----------------------------------------------------------


def test_a_column_named_twice_refuses_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        "claim_id,family_id,kind,amount,amount,claimed_on\n"
        "C-001,EX-010,crime_asb_education,1500.00,9.00,2015-03-31\n"
    )
    with pytest.raises(
        UnreadableFile, match=r"claims.csv: the header has the column 'amount' twice"
    ):
        read_claims(path)
    status, out, err = audit(capsys, path)
    assert (status, out) == (2, "")
    assert err == (
        f"pbr: {path}: the header has the column 'amount' twice (columns 4 and 5): which one "
        "holds the value cannot be known, so no row is read\n"
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_json_key_given_twice_is_that_rows_rejection(tmp_path: Path, suffix: str) -> None:
    amount_twice = claim_line()[:-1] + ', "amount": "9.00"}'
    id_twice = claim_line(claim_id="C-002")[:-1] + ', "claim_id": "C-003"}'
    path = tmp_path / f"claims{suffix}"
    lines = [amount_twice, id_twice, claim_line(claim_id="C-004")]
    path.write_text("\n".join(lines) if suffix == ".jsonl" else f"[{','.join(lines)}]")
    claims, rejected = read_claims(path)
    assert [c.claim_id for c in claims] == ["C-004"]
    amount, claim_id = rejected
    assert (amount.row, amount.claim_id, amount.field, amount.value) == (
        1,
        "C-001",
        "amount",
        "'1500.00', '9.00'",
    )
    assert amount.amount is None  # which amount was claimed cannot be said
    assert amount.kind == "crime_asb_education"
    assert "the key 'amount' is given 2 times" in amount.message
    assert "pbr uses neither" in amount.message
    assert (claim_id.row, claim_id.claim_id, claim_id.field) == (2, None, "claim_id")
    assert claim_id.amount == Decimal("1500.00")


# --- 2. what reaches a terminal -----------------------------------------------------------------


def test_record_text_on_standard_output_is_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        f"{HEADER}\nM-013\x1b[31mRED\x1b[0m,EX-010,crime_asb_education,1.00,2015-03-31\n"
    )
    status, out, err = audit(capsys, path)
    assert status == 1
    assert "\x1b" not in out + err
    # a claim id holds no control character (a payment's rule): a malformed row, shown escaped
    assert (
        r"claims.csv:2 claim 'M-013\x1b[31mRED\x1b[0m': claim_id = 'M-013\x1b[31mRED\x1b[0m': "
        "a control character, U+001B, at character 6"
    ) in out + err


@pytest.mark.parametrize(
    ("suffix", "shown"),
    [
        (".md", r"C\\x1b\[31mRED"),  # Markdown escapes the backslash and the bracket
        (".html", r"C\x1b[31mRED"),
        (".csv", r"C\x1b[31mRED"),
        (".xlsx", r"C\x1b[31mRED"),
    ],
)
def test_a_control_character_in_a_claim_id_is_escaped_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, shown: str
) -> None:
    """The XLSX report crashed (openpyxl refuses the character); the others copied it raw."""
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    path = tmp_path / "claims.csv"
    path.write_text(
        f"{HEADER}\n{GOOD}\nC\x1b[31mRED,EX-052,crime_asb_education,700.00,2015-03-31\n"
    )
    report = tmp_path / f"report{suffix}"
    status, _, err = audit(capsys, path, "--report", str(report))
    assert status == 1, err
    assert "unexpected error" not in err
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(report)
        ids = [row[1] for row in book["Malformed rows"].iter_rows(min_row=2, values_only=True)]
        claims = list(book["All claims"].iter_rows(values_only=True))
        column = claims[0].index("claim_id")
        ids += [row[column] for row in claims[1:] if row[column] != "C-001"]
        assert ids == [shown, shown]
        text = "\n".join(
            str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row
        )
    else:
        text = report.read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert text.count(shown) >= 2  # the claim id, escaped, beside the value (escaped as it was)


SPACED_IDS = [(3, " C-001"), (4, "K8\t"), (5, "\t=1+1")]
"""Malformed rows' claim ids with white space at an edge (row, id): shown quoted, as read."""


@pytest.mark.parametrize("suffix", [".csv", ".md", ".html", ".xlsx"])
def test_a_claim_id_with_white_space_around_it_is_shown_as_read_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """`` C-001`` was shown as ``C-001`` (its space dropped), like the claim C-001 beside it."""
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    path = tmp_path / "claims.csv"
    path.write_text(
        f"{HEADER}\n{GOOD}\n"
        + "".join(f"{i},EX-012,crime_asb_education,700.00,2015-03-31\n" for _, i in SPACED_IDS)
    )
    report = tmp_path / f"report{suffix}"
    status, _, err = audit(capsys, path, "--report", str(report))
    assert status == 1, err
    shown = [repr(i) for _, i in SPACED_IDS]  # ' C-001', 'K8\t', '\t=1+1'
    text = "" if suffix == ".xlsx" else report.read_text(encoding="utf-8")
    assert "\t" not in text
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(report)
        ids = [row[1] for row in book["Malformed rows"].iter_rows(min_row=2, values_only=True)]
        assert ids == shown
    elif suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["claim_id"] for r in rows] == ["C-001", *map(pbr.output.neutralise, shown)]
        assert [pbr.output.restore(r["claim_id"]) for r in rows[1:]] == shown
    elif suffix == ".md":
        for (n, _), s in zip(SPACED_IDS, shown, strict=True):
            assert f"| {n} | {pbr.output.markdown_text(s)} | " in text
    else:
        for (n, _), s in zip(SPACED_IDS, shown, strict=True):
            assert f"<td class='num'>{n}</td><td class='key'>{html.escape(s)}</td>" in text
    assert [line.split(": claim_id = ")[0] for line in err.splitlines()[:3]] == [
        f"claims.csv:{n} claim {s}" for (n, _), s in zip(SPACED_IDS, shown, strict=True)
    ]


@pytest.mark.parametrize(
    ("suffix", "shown"), [(".md", r"x\\x1by"), (".html", r"x\x1by"), (".csv", r"x\x1by")]
)
def test_a_control_character_in_an_unknown_key_is_escaped_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, shown: str
) -> None:
    """A JSON row's unknown key is the malformed row's field, as written: it was copied raw."""
    path = tmp_path / "claims.jsonl"
    path.write_text(claim_line(**{"x\x1by": 1}) + "\n")
    report = tmp_path / f"report{suffix}"
    status, _, err = audit(capsys, path, "--report", str(report))
    assert status == 1, err
    text = report.read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert shown in text


def test_bad_bytes_are_shown_as_bytes_never_as_surrogates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = tmp_path / "header.csv"
    header.write_bytes(f"{HEADER}\xff\x01\n{GOOD}\n".encode("latin-1"))
    status, out, err = audit(capsys, header)
    assert (status, out) == (2, "")
    assert err == (
        f"pbr: {header}: the header is not UTF-8 (column 5 is 'claimed_on\\xff\\x01'): save the "
        "file as UTF-8\n"
    )
    surplus = tmp_path / "surplus.csv"
    surplus.write_bytes(f"{HEADER}\n{GOOD},\x1b\xff\xfeQ\n".encode("latin-1"))
    status, _, err = audit(capsys, surplus)
    assert status == 1
    assert (
        "surplus.csv:2 claim 'C-001': (row) = \\x1b\\xff\\xfeQ: bytes ff fe are not UTF-8 "
        "(Windows-1252, perhaps): save the file as UTF-8"
    ) in err
    assert "\\udc" not in err
    assert "\x1b" not in err


# --- 3. files with no claims, or none readable --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("empty.csv", "", "the file is empty"),
        ("bom.csv", "\ufeff\n\n", "the file is empty"),
        ("header.csv", f"{HEADER}\n\n", "it has a header row but no claim rows"),
        ("empty.json", "[]", "it has an empty list"),
        ("blank.jsonl", "\n \n", "the file is empty"),
    ],
)
def test_a_file_with_no_claims_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, why: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnreadableFile, match=f"no claims in .*{name}: {why}"):
        read_claims(path)
    status, out, err = audit(capsys, path)
    assert (status, out, err) == (2, "", f"pbr: no claims in {path}: {why}\n")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf16_file_is_named_as_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    path = tmp_path / "claims.csv"
    path.write_bytes(f"{HEADER}\n{GOOD}\n".encode(encoding))
    status, out, err = audit(capsys, path)
    assert (status, out) == (2, "")
    assert err.startswith(f"pbr: {path} is not UTF-8: it looks like UTF-16")
    assert "save it as UTF-8" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("compression", ["gzip", "xz", "bzip2"])
def test_a_compressed_file_is_named_as_compressed_not_utf16(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], compression: str
) -> None:
    """A gzip file's NUL bytes were reported as "it looks like UTF-16"."""
    import bz2
    import gzip
    import lzma

    path = tmp_path / "claims.csv.gz"
    text = f"{HEADER}\n{GOOD}\n".encode()
    if compression == "gzip":
        path.write_bytes(gzip.compress(text))
    else:
        path.write_bytes(lzma.compress(text) if compression == "xz" else bz2.compress(text))
    status, out, err = audit(capsys, path)
    assert (status, out, err) == (
        2,
        "",
        f"pbr: {path} is {compression}-compressed: decompress it first\n",
    )


@pytest.mark.parametrize(
    ("header", "found", "hint"),
    [
        (
            HEADER.replace(",", ";"),
            "'claim_id;family_id;kind;amount;claimed_on'",
            "(this file seems to use ';': the separator must be a comma)",
        ),
        (
            HEADER.upper(),
            "'CLAIM_ID', 'FAMILY_ID', 'KIND', 'AMOUNT', 'CLAIMED_ON'",
            "(the column names are lower case)",
        ),
    ],
)
def test_a_header_with_none_of_the_columns_is_one_file_level_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, found: str, hint: str
) -> None:
    path = tmp_path / "claims.csv"
    sep = ";" if ";" in header else ","
    path.write_text(f"{header}\n{GOOD.replace(',', sep)}\n{GOOD.replace(',', sep)}\n")
    status, out, err = audit(capsys, path)
    assert (status, out) == (2, "")
    assert err == (
        f"pbr: {path}: the header has none of the columns of a claim file: found {found}; "
        "expected claim_id, family_id, kind, amount, claimed_on and optionally window, "
        f"separated by commas {hint}\n"
    )


# --- 4. a sample of nothing ---------------------------------------------------------------------


def test_a_sample_of_no_claims_is_refused() -> None:
    claims = [
        Claim(
            claim_id=f"S{i}",
            family_id="F",
            kind="attachment_fee",
            amount="1",
            claimed_on=date(2014, 1, 1),
        )
        for i in range(10)
    ]
    with pytest.raises(ValueError, match="size must be at least 1"):
        sample(claims, size=0, seed=1)
    with pytest.raises(ValueError, match="fraction must be a number above 0 and at most 1"):
        sample(claims, fraction="0", seed=1)
    with pytest.raises(ValueError, match=r"fraction 0\.01 of 10 claims, .* draws no claim"):
        sample(claims, fraction="0.01", seed=1)
    with pytest.raises(ValueError, match="there are no claims to sample"):
        sample([], fraction="0.5", seed=1)


# --- 5. amounts and other values, exactly as written --------------------------------------------


def test_a_negative_zero_amount_is_refused_like_any_negative(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    rows = [GOOD.replace("1500.00", amount) for amount in ("-0.00", "-0", "-5")]
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    claims, rejected = read_claims(path)
    assert claims == []
    assert [(r.field, r.value, r.amount) for r in rejected] == [
        ("amount", "'-0.00'", None),
        ("amount", "'-0'", None),
        ("amount", "'-5'", None),
    ]
    assert all(r.message.startswith("money must not be negative") for r in rejected)
    with pytest.raises(ValueError, match="must not be negative"):
        Claim(
            claim_id="C1",
            family_id="F1",
            kind="attachment_fee",
            amount="-0.00",
            claimed_on=date(2013, 1, 1),
        )


def test_values_with_spaces_around_them_are_refused_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        f"{HEADER},window\n"
        "C-1,EX-010,crime_asb_education, 700.00 ,2015-03-31,\n"
        " C-2,EX-012,crime_asb_education,700.00,2015-03-31,\n"
        "C-3,EX-013,crime_asb_education,700.00,2015-03-31, \n"
    )
    claims, rejected = read_claims(path)
    assert claims == []
    assert [(r.claim_id, r.field, r.value) for r in rejected] == [
        ("C-1", "amount", "' 700.00 '"),
        (" C-2", "claim_id", "' C-2'"),  # as written: trimmed, it named the claim C-2
        ("C-3", "window", "' '"),
    ]
    assert rejected[0].message == (
        "white space around the value: write '700.00' with no spaces around it "
        "(nothing in a claim file is trimmed)"
    )
    assert rejected[2].kind == "crime_asb_education"
    assert rejected[2].amount == Decimal("700.00")  # the rest of the row is readable
    jsonl = tmp_path / "claims.jsonl"
    jsonl.write_text(claim_line(amount=" 700.00 ") + "\n")
    assert read_claims(jsonl)[1][0].field == "amount"
    spaced = tmp_path / "spaced.csv"
    spaced.write_text(HEADER.replace(",", ", ") + "\n" + GOOD + "\n")
    with pytest.raises(UnreadableFile, match="column 2 of the header, ' family_id', has spaces"):
        read_claims(spaced)


def test_a_row_with_bad_bytes_names_its_readable_claim(tmp_path: Path) -> None:
    path = tmp_path / "messy.csv"
    path.write_bytes(
        f"{HEADER},window\n".encode() + b"M-028,EX-013,crime_asb_education,"
        b"700.00,2015-03-31,\xff\xfeQ\n"
    )
    _, (bad,) = read_claims(path)
    assert bad.describe() == (
        "messy.csv:2 claim 'M-028': window = \\xff\\xfeQ: bytes ff fe are not UTF-8 "
        "(Windows-1252, perhaps): save the file as UTF-8"
    )
    assert (bad.kind, bad.amount) == ("crime_asb_education", Decimal("700.00"))


def test_a_row_column_is_unknown_and_json_lines_end_at_newlines(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text(
        claim_line(row=99) + "\n" + claim_line(claim_id="C\u2028-2") + "\n", encoding="utf-8"
    )
    claims, rejected = read_claims(path)
    # the U+2028 ends no line: row 2 is read whole, and its claim id refused as a record's is
    assert [(r.row, r.field) for r in rejected] == [(1, "row"), (2, "claim_id")]
    assert "unknown column" in rejected[0].message
    assert "a line separator, U+2028, at character 2" in rejected[1].message
    assert claims == []


def test_an_empty_families_file_is_refused_not_read_as_no_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "families.jsonl"
    empty.write_text("")
    claims = str(Path(__file__).resolve().parents[1] / "examples" / "claims.csv")
    for argv in (
        ["audit", claims, "--families", str(empty), "--as-of", "2015-03-31"],
        ["replay", claims, "--families", str(empty)],
    ):
        assert main(argv) == 2
        assert capsys.readouterr().err == f"pbr: no family records in {empty}\n"


# --- 6. quotes: a stray or unclosed quote spoils its own row, never swallows the next ----------


def test_an_unclosed_quote_does_not_swallow_the_rows_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        f"{HEADER},window\n"
        'C2,EX-012,crime_asb_education,700.00,2015-03-31,"Q4\n'
        'C3,EX-013,crime_asb_education,1500.00,2015-03-31,Q4"\n'
        "C4,EX-012,attachment_fee,3200.00,2015-03-31,Q4\n"
    )
    claims, rejected = read_claims(path)
    assert [(c.claim_id, c.row) for c in claims] == [("C4", 4)]  # its row number is right
    two, three = rejected
    assert (two.row, two.claim_id, two.field, two.value) == (2, "C2", "window", "'\"Q4'")
    assert two.message.startswith(
        'a quote (") opens the value and is not closed on its line: the value runs over '
        'lines 2–3, joined into one row by a stray or unclosed quote (")'
    )
    assert (three.row, three.claim_id, three.field, three.value) == (3, "C3", "window", "'Q4\"'")
    assert three.message.startswith('a stray quote (") inside the value')
    # every pound is still accounted for: each row's readable amount is unverified
    assert [(r.kind, r.amount) for r in rejected] == [
        ("crime_asb_education", Decimal("700.00")),
        ("crime_asb_education", Decimal("1500.00")),
    ]
    status, out, err = audit(capsys, path)
    assert status == 1
    assert "q.csv:2 claim 'C2': window = '\"Q4': a quote" in err
    assert "malformed rows: 2" in out


def test_a_quote_that_never_closes_is_reported_to_the_end_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(f'{HEADER}\nC1,EX-012,"attachment_fee,3200.00,2015-03-31\n{GOOD}\n')
    claims, (bad,) = read_claims(path)
    assert [c.row for c in claims] == [3]
    assert (bad.row, bad.field) == (2, "kind")
    assert "runs to the end of the file (lines 2–3)" in bad.message
    last = tmp_path / "last.csv"
    last.write_text(f'{HEADER}\nC1,EX-012,attachment_fee,3200.00,"2015-03-31')
    assert read_claims(last)[1][0].message == (
        'a quote (") opens the value and is never closed: a stray or unclosed quote (")'
    )


@pytest.mark.parametrize(
    ("window", "why"),
    [
        ('"Q4" extra', "text after the closing quote"),
        ('x"Q4"', "a stray quote"),
        ('Q4"', "a stray quote"),
        ('"Q4"x', "text after the closing quote"),
    ],
)
def test_a_quote_that_does_not_enclose_the_whole_value_is_malformed(
    tmp_path: Path, window: str, why: str
) -> None:
    path = tmp_path / "q.csv"
    path.write_text(f"{HEADER},window\n{GOOD},{window}\n{GOOD.replace('C-001', 'C-002')},Q4\n")
    claims, (bad,) = read_claims(path)
    assert [c.claim_id for c in claims] == ["C-002"]
    assert (bad.row, bad.field, bad.value) == (2, "window", repr(window))
    assert bad.message.startswith(why)


def test_quoted_values_are_read_whole_and_crlf_and_cr_end_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(
        f'{HEADER},window\r\n"C-001","EX-010",crime_asb_education,"1500.00",2015-03-31,'
        '"Q4, ""late"""\r\nC-002,EX-012,crime_asb_education,700.00,2015-03-31,\r'
        "C-003,EX-013,crime_asb_education,1500.00,2015-03-31,\n".encode()
    )
    claims, rejected = read_claims(path)
    assert rejected == []
    assert [(c.claim_id, c.row, c.window) for c in claims] == [
        ("C-001", 2, 'Q4, "late"'),
        ("C-002", 3, None),
        ("C-003", 4, None),
    ]


def test_a_value_too_large_for_the_csv_module_is_a_bad_value_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.csv"
    path.write_text(f'{HEADER}\n"{"x" * 200_000}",EX-012,attachment_fee,3200.00,2015-03-31\n')
    _, (bad,) = read_claims(path)
    assert (bad.row, bad.claim_id, bad.field) == (2, None, "claim_id")
    status, _, err = audit(capsys, path)
    assert status == 1
    assert "unexpected error" not in err


def test_a_header_with_a_stray_quote_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(f'claim_id,"family_id,kind,amount,claimed_on\n{GOOD}\n')
    with pytest.raises(UnreadableFile, match=r"column 2 of the header, .* has a stray or unclosed"):
        read_claims(path)


# --- 7. blank rows and rows of white space -------------------------------------------------------


def test_blank_rows_are_skipped_but_white_space_rows_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(f"{HEADER},window\n\n,,,,,\n  ,  ,, ,,\n   \n{GOOD},\n")
    claims, rejected = read_claims(path)
    assert [c.row for c in claims] == [6]
    assert [(r.row, r.field, r.value) for r in rejected] == [
        (4, "(row)", "'  ,  ,, ,,'"),
        (5, "(row)", "'   '"),
    ]
    assert rejected[0].message.startswith("the row holds only white space")


@given(
    st.lists(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n")),
        min_size=1,
        max_size=6,
    )
)
def test_a_line_any_csv_writer_writes_is_read_back_exactly(values: list[str]) -> None:
    """Quoted the way Python's (and a spreadsheet's) CSV writer quotes, every value reads back."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    assert _split(out.getvalue()) == (values, None)


# --- 8. a claim whose family record was rejected ------------------------------------------------


def _families_with_a_rejected_record(tmp_path: Path) -> Path:
    """The example families with EX-010's record replaced by one that is rejected."""
    lines = (EXAMPLES / "families.jsonl").read_text().splitlines()
    kept = [line for line in lines if '"EX-010"' not in line]
    path = tmp_path / "families.jsonl"
    path.write_text("\n".join([*kept, '{"family_id": "EX-010"}']) + "\n")
    return path


def test_a_claim_for_a_rejected_family_record_is_unverified_not_unknown(tmp_path: Path) -> None:
    families_path = _families_with_a_rejected_record(tmp_path)
    records = list(pbr.read_records(families_path))
    families = [r for r in records if isinstance(r, pbr.Family)]
    refused = [r for r in records if isinstance(r, pbr.Rejection)]
    claims = [Claim.model_validate(json.loads(claim_line()))]
    result = verify(claims, families, as_of=date(2015, 3, 31), rejected_families=refused)
    (check,) = result.checks
    assert check.codes == ("FAMILY_RECORD_REJECTED",)
    assert (check.verified, check.over_claimed, check.unverified) == (
        Decimal(0),
        Decimal(0),
        Decimal("1500.00"),
    )
    assert "the record of family 'EX-010' was rejected (families.jsonl:" in check.flags[0].message
    total = result.reconciliation()[-1]
    assert (total["over_claimed"], total["unverified"], total["flagged"]) == (
        Decimal(0),
        Decimal("1500.00"),
        1,
    )
    assert result.rejected_families == tuple(refused)
    # without the rejections (the API as before): no record at all
    assert verify(claims, families, as_of=date(2015, 3, 31)).checks[0].codes == ("UNKNOWN_FAMILY",)


@pytest.mark.parametrize("suffix", [".md", ".html", ".csv", ".xlsx"])
def test_every_report_lists_the_rejected_family_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    families_path = _families_with_a_rejected_record(tmp_path)
    claims = tmp_path / "claims.jsonl"
    claims.write_text(claim_line() + "\n")
    report = tmp_path / f"audit{suffix}"
    status = main(
        [
            "audit",
            str(claims),
            "--families",
            str(families_path),
            "--as-of",
            "2015-03-31",
            "--report",
            str(report),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 1
    assert "family 'EX-010': members: missing" in err  # still on standard error too
    assert "row 1 C-001 EX-010 crime_asb_education: FAMILY_RECORD_REJECTED" in out
    assert "family records rejected: 1" in out
    assert "UNKNOWN_FAMILY" not in out
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(report.read_text())))
        assert [(r["claim_id"], r["status"], r["unverified"]) for r in rows] == [
            ("C-001", "flagged", "1500.00"),
            ("", "family_rejected", "0.00"),
        ]
        assert rows[1]["family_id"] == "EX-010"
        assert rows[1]["why"].startswith("families.jsonl:")
        assert payments_from_report(report, paid_on=date(2015, 5, 1)) == []
        return
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(report)["Rejected family records"]
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert values[0] == ["record", "family_id", "claims", "why"]
        assert values[1][1:3] == ["EX-010", 1]
        return
    text = report.read_text()
    assert "Rejected family records" in text
    assert "Family records rejected" in text
    assert "EX-010" in text
    assert "FAMILY_RECORD_REJECTED" in text


def test_a_rejected_family_record_makes_the_audit_exit_1_though_every_claim_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The help says 1 for a rejected family record; it was 0 when no claim was its family's."""
    families_path = _families_with_a_rejected_record(tmp_path)  # EX-010's record rejected
    claims = tmp_path / "claims.jsonl"
    claims.write_text(claim_line(family_id="EX-012", amount="700.00") + "\n")
    status = main(["audit", str(claims), "--families", str(families_path)])
    out, err = capsys.readouterr()
    assert "exceptions: 0; malformed rows: 0; family records rejected: 1" in out
    assert "family 'EX-010': members: missing" in err
    assert status == 1
    helped = EXIT_STATUS["audit"]
    assert "1 a claim is flagged, a row is malformed, a family record is rejected" in helped


@pytest.mark.parametrize("suffix", [".md", ".html", ".csv", ".xlsx"])
def test_a_rejected_family_id_is_shown_escaped_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """The tester's nl.jsonl: a newline, an ESC and a CR in a rejected family_id went raw into
    the CSV and Markdown (and the XLSX kept the newline), not escaped as a claim id is."""
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    families = tmp_path / "nl.jsonl"
    families.write_text(
        '{"family_id": "X\\nY|Z\\u001b[31mRED"}\n{"family_id": "P\\rQ"}\n', encoding="utf-8"
    )
    claims = tmp_path / "claims.jsonl"
    claims.write_text(claim_line() + "\n")
    report = tmp_path / f"audit{suffix}"
    status = main(["audit", str(claims), "--families", str(families), "--report", str(report)])
    capsys.readouterr()
    assert status == 1
    shown = ["X\\nY|Z\\x1b[31mRED", "P\\rQ"]
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8"), newline="")))
        assert [r["family_id"] for r in rows if r["status"] == "family_rejected"] == shown
        return
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(report)["Rejected family records"]
        assert [row[1].value for row in sheet.iter_rows(min_row=2)] == shown
        return
    text = report.read_text(encoding="utf-8")
    assert not {"\x1b", "\r"} & set(text)
    if suffix == ".md":
        assert "| nl.jsonl:1 | X\\\\nY\\|Z\\\\x1b\\[31mRED | 0 |" in text
        assert "| nl.jsonl:2 | P\\\\rQ | 0 |" in text
    else:
        assert "<td class='key'>X\\nY|Z\\x1b[31mRED</td>" in text
        assert "<td class='key'>P\\rQ</td>" in text


# --- 9. a CSV file named otherwise, and a JSON -0 --------------------------------------------------


@pytest.mark.parametrize("name", ["claims.txt", "claims.jsonl", "claims"])
def test_a_csv_file_not_named_csv_is_refused_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = tmp_path / name
    path.write_text(f"{HEADER}\n{GOOD}\n")
    with pytest.raises(UnreadableFile, match=r"looks like a CSV header .*: if it is CSV, name it"):
        read_claims(path)
    status, out, err = audit(capsys, path)
    assert (status, out) == (2, "")
    assert err.startswith(f"pbr: {path} is read as JSON Lines (")
    assert err.endswith(": if it is CSV, name it .csv\n")
    assert err.count("\n") == 1
    # a JSON Lines file that merely mentions claim_id is read as JSON Lines
    json_lines = tmp_path / "ok.txt"
    json_lines.write_text(claim_line() + "\n")
    assert [c.claim_id for c in read_claims(json_lines)[0]] == ["C-001"]


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_json_amount_of_minus_zero_is_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"claims{suffix}"
    line = claim_line().replace('"1500.00"', "-0")
    zero = claim_line(claim_id="C-002").replace('"1500.00"', "0")
    path.write_text(f"{line}\n{zero}\n" if suffix == ".jsonl" else f"[{line}, {zero}]")
    claims, (bad,) = read_claims(path)
    assert [(c.claim_id, c.amount) for c in claims] == [("C-002", Decimal("0.00"))]
    assert (bad.row, bad.field, bad.value, bad.amount) == (1, "amount", "-0", None)
    assert bad.message.startswith("money must not be negative")


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_json_number_with_a_fraction_is_shown_as_written(tmp_path: Path, suffix: str) -> None:
    """It was shown as Python read it: ``700.0`` (which looks valid), ``1000.0`` for ``1e3``."""
    path = tmp_path / f"claims{suffix}"
    written = ["700.000000000000001", "1e3", "-0.0", "1500.00"]
    lines = [
        claim_line(claim_id=f"C-{i}").replace('"1500.00"', number)
        for i, number in enumerate(written)
    ]
    lines.append(claim_line(claim_id="C-9", claimed_on=None).replace("null", "2015.0331"))
    path.write_text("\n".join(lines) + "\n" if suffix == ".jsonl" else f"[{', '.join(lines)}]")
    claims, rejected = read_claims(path)
    assert claims == []
    assert [(r.field, r.value, r.amount) for r in rejected] == [
        *(("amount", number, None) for number in written),
        ("claimed_on", "2015.0331", Decimal("1500.00")),
    ]
    assert rejected[0].describe() == (
        f"{path.name}:1 claim 'C-0': amount = 700.000000000000001: money must be a decimal "
        "string such as '3200.00' or whole pounds, got the number 700.000000000000001"
    )


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_claim_dated_before_the_first_programme_is_a_malformed_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """It aborted the whole audit with "unexpected error (ValueError: as_of must be ...)"."""
    path = tmp_path / f"claims{suffix}"
    rows = [("C-002", "EX-012", "crime_asb_education", "700.00", "2015-03-31")]
    rows.append(("T4", "EX-012", "attachment_fee", "3200.00", "2012-03-31"))
    if suffix == ".csv":
        path.write_text("\n".join([HEADER, *(",".join(r) for r in rows)]) + "\n")
    else:
        keys = HEADER.split(",")
        path.write_text("".join(json.dumps(dict(zip(keys, r, strict=True))) + "\n" for r in rows))
    report = tmp_path / "audit.csv"
    status, out, err = audit(capsys, path, "--report", str(report))
    assert status == 1
    row = 3 if suffix == ".csv" else 2
    assert (
        f"{path.name}:{row} claim 'T4': claimed_on = '2012-03-31': a claim is dated from "
        "2012-04-01, when the first programme began (the earliest date pbr evaluates), got "
        "2012-03-31\n"
    ) in err
    assert "unexpected error" not in err
    assert "exceptions: 0; malformed rows: 1" in out
    assert [r["status"] for r in csv.DictReader(io.StringIO(report.read_text()))] == [
        "verified",
        "malformed",
    ]


def test_verify_flags_an_unvalidated_claim_dated_outside_the_days_pbr_evaluates() -> None:
    """`Claim` refuses such a date; one built without validation is flagged, never raised."""
    with pytest.raises(ValueError, match="a claim is dated from 2012-04-01"):
        Claim.model_validate(json.loads(claim_line(claimed_on="2011-12-31")))
    family = next(
        r
        for r in pbr.read_records(EXAMPLES / "families.jsonl")
        if isinstance(r, pbr.Family) and r.family_id == "EX-012"
    )
    good = Claim.model_validate(json.loads(claim_line(family_id="EX-012", amount="700.00")))
    early = good.model_construct(
        **(dict(good) | {"claim_id": "T4", "claimed_on": date(2011, 12, 31)})
    )
    late = good.model_construct(**(dict(good) | {"claim_id": "T5", "claimed_on": date(2100, 1, 1)}))
    result = verify([good, early, late], [family])
    assert [(c.codes, c.verified, c.over_claimed) for c in result.checks] == [
        ((), Decimal("700.00"), Decimal(0)),
        (("MALFORMED_ROW",), Decimal(0), Decimal("700.00")),
        (("MALFORMED_ROW",), Decimal(0), Decimal("700.00")),
    ]
    assert [c.flags[0].message for c in result.checks[1:]] == [
        "claimed_on = 2011-12-31: a claim is dated from 2012-04-01, when the first programme "
        "began (the earliest date pbr evaluates), so the claim cannot be judged",
        "claimed_on = 2100-01-01: a claim is dated up to 2099-12-31, the last date pbr "
        "evaluates, so the claim cannot be judged",
    ]


# --- 10. reports: a value shown once, money as numbers ---------------------------------------------


def _example_audit() -> pbr.audit.Verification:
    families = [
        r
        for path in ("families.jsonl", "mixed-programmes.jsonl")
        for r in pbr.read_records(EXAMPLES / path)
        if isinstance(r, pbr.Family)
    ]
    return verify(EXAMPLES / "claims.csv", families, as_of=date(2015, 3, 31))


def test_a_malformed_value_is_shown_once_in_markdown_and_xlsx(tmp_path: Path) -> None:
    result = _example_audit()
    md = pbr.audit.write_report(result, tmp_path / "audit.md").read_text()
    bonus = next(line for line in md.splitlines() if "C-021" in line and "bonus" in line)
    assert "| kind | 'bonus' |" in bonus
    assert "''bonus'" not in md
    pytest.importorskip("openpyxl")
    from openpyxl import load_workbook

    book = load_workbook(pbr.audit.write_report(result, tmp_path / "audit.xlsx"))
    values = [c.value for row in book["Malformed rows"].iter_rows() for c in row]
    assert "'bonus'" in values
    assert "''bonus'" not in values
    hostile = pbr.output.formula_safe("=HYPERLINK(1)")
    assert hostile == "'=HYPERLINK(1)"  # a formula is still neutralised, once


def test_the_xlsx_all_claims_sheet_holds_money_as_numbers(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    from openpyxl import load_workbook

    result = _example_audit()
    book = load_workbook(pbr.audit.write_report(result, tmp_path / "audit.xlsx"))
    rows = list(book["All claims"].iter_rows())
    head = [c.value for c in rows[0]]
    amount = head.index("amount")
    cells = [row[amount] for row in rows[1:]]
    numbers = [c.value for c in cells if c.value not in ("", None)]
    assert all(isinstance(v, int | float) for v in numbers), numbers
    assert all(c.number_format == '"£"#,##0.00' for c in cells if c.value not in ("", None))
    assert Decimal(str(sum(numbers))) == result.reconciliation()[-1]["claimed"]


def test_sample_errors_name_the_api_keywords_from_python() -> None:
    claims = [
        Claim(
            claim_id=f"S{i}",
            family_id="F",
            kind="attachment_fee",
            amount="1",
            claimed_on=date(2014, 1, 1),
        )
        for i in range(3)
    ]
    with pytest.raises(ValueError, match=r"^give exactly one of size and fraction$"):
        sample(claims, size=1, fraction="0.5", seed=1)
    with pytest.raises(ValueError, match=r"^min_per_stratum must be 0 or more, got -1$"):
        sample(claims, size=1, seed=1, min_per_stratum=-1)
    with pytest.raises(ValueError, match=r"^size must be between 1 and 3 \(the claims given\)"):
        sample(claims, size=4, seed=1)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--sample", "25"], "pbr: --sample must be between 1 and 19 (the claims given), got 25\n"),
        (
            ["--fraction", "0.01"],
            "pbr: --fraction 0.01 of 19 claims, rounded half up in each group, draws no claim: "
            "give a larger --fraction, or --sample\n",
        ),
    ],
)
def test_a_sample_the_claims_cannot_give_names_the_flags(
    capsys: pytest.CaptureFixture[str], options: list[str], said: str
) -> None:
    families = ["--families", str(EXAMPLES / "mixed-programmes.jsonl")]
    status, out, err = audit(capsys, EXAMPLES / "claims.csv", *families, *options)
    assert (status, out) == (2, "")
    assert err.endswith(said)


def test_a_sample_of_a_file_with_no_good_claim_shows_why_there_is_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "there are no claims to sample" was all it said: the malformed rows were never shown."""
    path = tmp_path / "claims.csv"
    path.write_text(f"{HEADER}\nM\x1b1,EX-010,crime_asb_education,1.00,2015-03-31\n")
    status, _, err = audit(capsys, path, "--sample", "1")
    assert status == 2
    assert err.splitlines() == [
        "claims.csv:2 claim 'M\\x1b1': claim_id = 'M\\x1b1': a control character, U+001B, at "
        "character 2: names, references and notes must be printable text",
        "pbr: there are no claims to sample",
    ]


# --- amounts that cannot be read: in no total, so counted and listed ----------------------------


UNREADABLE_AMOUNTS = ["2,300.00", "£1500.00", "+700.00", "0700.00", "1.5E3", ".50", "100."]


def test_rows_whose_amounts_cannot_be_read_are_counted_and_listed_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The auditor's m1.csv claims £22,600.001 but the audit reported £14,400 and "every pound is
    # accounted for": rows whose amounts could not be read carried no amount anywhere.
    rows = [HEADER + ",window", GOOD + ",Q4"]
    for n, amount in enumerate(UNREADABLE_AMOUNTS, start=2):
        rows.append(f'D-{n},EX-0{n + 10},crime_asb_education,"{amount}",2015-03-31,Q{n}')
    rows.append("D-9,EX-030,Progress_to_work,100.00,2015-03-30,Q9")  # the amount is read
    path = tmp_path / "m1.csv"
    path.write_text("\n".join(rows) + "\n")
    status, out, _ = audit(capsys, path)
    assert status == 1
    listed = [f"  row {n + 1} D-{n}: amount {a!r}" for n, a in enumerate(UNREADABLE_AMOUNTS, 2)]
    assert (
        "claimed £1,600.00 in 2 rows whose amounts were read; 7 rows with amounts that could not "
        "be read, in no total:\n" + "\n".join(listed) + "\n"
    ) in out
    claims, malformed = read_claims(path)
    result = verify(claims, {}, rejections=malformed)
    assert [r.amount_text for r in result.amounts_not_read] == [repr(a) for a in UNREADABLE_AMOUNTS]
    assert result.amounts_read + len(result.amounts_not_read) == len(rows) - 1  # every row
    report = tmp_path / "m1.md"
    assert main(["audit", str(path), *FAMILIES, "--report", str(report)]) == 1
    text = report.read_text()
    assert "**Claimed**: £1,600.00 in 2 rows whose amounts were read" in text
    assert "**Rows with amounts not read**: 7, in no total" in text
    assert "not read: '2,300.00'" in text


def test_one_row_whose_amount_was_read_is_one_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "claimed £1,500.00 in 1 rows whose amounts were read": the count's noun was plural."""
    path = tmp_path / "one.csv"
    path.write_text(f'{HEADER}\n{GOOD}\nC-002,EX-012,crime_asb_education,"2,300.00",2015-03-31\n')
    status, out, _ = audit(capsys, path)
    assert status == 1
    assert "claimed £1,500.00 in 1 row whose amount was read; 1 row with an amount" in out
    report = tmp_path / "one.md"
    assert main(["audit", str(path), *FAMILIES, "--report", str(report)]) == 1
    assert "**Claimed**: £1,500.00 in 1 row whose amount was read\n" in report.read_text()


def test_an_amount_not_read_names_a_spaced_claim_id_as_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``row 3 C-001: amount ...`` named the malformed row `` C-001`` as the claim C-001."""
    path = tmp_path / "claims.csv"
    path.write_text(f'{HEADER}\n{GOOD}\n C-001,EX-012,crime_asb_education,"2,300.00",2015-03-31\n')
    status, out, _ = audit(capsys, path)
    assert status == 1
    assert "\n  row 3 ' C-001': amount '2,300.00'\n" in out


def test_a_json_amount_not_read_is_listed_as_the_file_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    lines = [claim_line(amount="700.00"), claim_line(claim_id="J2").replace('"1500.00"', "2300.00")]
    lines += [claim_line(claim_id="J3", amount=None), "{not json"]
    path.write_text("\n".join(lines) + "\n")
    claims, malformed = read_claims(path)
    result = verify(claims, {}, rejections=malformed)
    assert [(r.row, r.amount_text) for r in result.amounts_not_read] == [
        (2, "2300.00"),  # a JSON float, as written (not "2300.0")
        (3, "(empty)"),
        (4, "(row not readable)"),
    ]


def test_a_malformed_row_in_the_csv_report_keeps_what_could_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # m1.csv's D-7 ("2,300.00") was written with its family, date and window blank.
    path = tmp_path / "claims.csv"
    path.write_text(
        f"{HEADER},window\n"
        'D-7,EX-006,crime_asb_education,"2,300.00",2015-03-31,Q4\n'
        "D-16,EX-019,crime_asb_education,700.00,2015-3-31,Q4\n"
        "D-20,=1+1,Progress_to_work,x,2015-03-31,\n"
    )
    report = tmp_path / "report.csv"
    assert main(["audit", str(path), *FAMILIES, "--report", str(report)]) == 1
    capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(report.read_text())))
    kept = [
        {k: r[k] for k in ("claim_id", "family_id", "kind", "claimed_on", "window", "amount")}
        for r in rows
    ]
    assert kept == [
        {"claim_id": "D-7", "family_id": "EX-006", "kind": "crime_asb_education",
         "claimed_on": "2015-03-31", "window": "Q4", "amount": ""},
        {"claim_id": "D-16", "family_id": "EX-019", "kind": "crime_asb_education",
         "claimed_on": "", "window": "Q4", "amount": "700.00"},
        {"claim_id": "D-20", "family_id": "", "kind": "", "claimed_on": "2015-03-31",
         "window": "", "amount": ""},
    ]  # fmt: skip
    assert rows[2]["why"].endswith("; amount = 'x': not read either")
    assert payments_from_report(report, paid_on=date(2015, 5, 15)) == []  # still a report


# --- values that cannot be lined up with the columns: no amount read ----------------------------


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (HEADER + ",window", "D-8,EX-003,crime_asb_education,2,300.00,2015-03-31,Q4"),
        (HEADER, "D-8,EX-003,crime_asb_education,1,500.00,2015-03-31"),
        (HEADER + ",window", "D-8,EX-003,crime_asb_education,1,500.00,2015-03-31"),
        (HEADER + ",window", "D-8,EX-003,crime_asb_education,2300.00"),
    ],
)
def test_a_row_whose_values_cannot_be_lined_up_has_no_amount_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, row: str
) -> None:
    """``2,300.00`` unquoted was read as £2.00 (the rest surplus), and went into the totals."""
    path = tmp_path / "c2.csv"
    path.write_text(f"{header}\n{GOOD},\n{row}\n" if "window" in header else f"{header}\n{row}\n")
    claims, malformed = read_claims(path)
    (bad,) = malformed
    assert (bad.claim_id, bad.amount, bad.kind, bad.family_id, bad.window) == (
        "D-8",
        None,
        None,
        None,
        None,
    )
    assert bad.amount_text == f"(values not lined up with the columns) {row!r}"
    result = verify(claims, {}, rejections=malformed)
    assert result.amounts_not_read == (bad,)
    status, out, _ = audit(capsys, path)
    assert status == 1
    (total,) = [line for line in out.splitlines() if line.startswith("total ")]
    claimed = "£1,500.00" if claims else "£0.00"
    assert total.split()[4] == claimed  # the £2.00 / £1.00 / £2,300.00 is in no total
    assert f"  row {bad.row} D-8: amount (values not lined up with the columns) {row!r}" in out
    report = tmp_path / "r.csv"
    assert main(["audit", str(path), *FAMILIES, "--report", str(report)]) == 1
    capsys.readouterr()
    (kept,) = [r for r in csv.DictReader(io.StringIO(report.read_text())) if r["claim_id"] == "D-8"]
    assert (kept["amount"], kept["unverified"], kept["kind"], kept["window"]) == ("", "", "", "")
    assert kept["why"].endswith("; amount not read: the values cannot be lined up with the columns")
    markdown = tmp_path / "r.md"
    assert main(["audit", str(path), *FAMILIES, "--report", str(markdown)]) == 1
    capsys.readouterr()
    text = markdown.read_text()
    assert "**Rows with amounts not read**: 1, in no total" in text
    assert "not read: (values not lined up with the columns)" in text


@pytest.mark.parametrize("window", ["201", "201.5", "500"])
def test_a_numbered_window_after_an_amount_no_split_could_make_is_read(
    tmp_path: Path, window: str
) -> None:
    """``700`` then the window ``201``: £700,201 is no claim pbr could allow, so no split."""
    path = tmp_path / "c.csv"
    path.write_text(
        f"claim_id,family_id,kind,claimed_on,amount,window\nC1,EX-010,crime_asb_education,"
        f"2015-03-31,700,{window}\n"
    )
    (claim_read,), malformed = read_claims(path)
    assert malformed == []
    assert (claim_read.amount, claim_read.window) == (Decimal("700"), window)


@pytest.mark.parametrize(
    "row",
    [
        "D-8,EX-003,crime_asb_education,2015-03-31,1,500.00",
        "D-8,EX-003,attachment_fee,2015-03-31,3,200",
    ],
)
def test_an_amount_split_into_an_empty_window_has_no_amount_read(tmp_path: Path, row: str) -> None:
    """With the window after the amount and left empty, ``1,500.00`` unquoted filled the row's
    columns exactly: it was read as a claim of £1.00 in the window ``500.00``."""
    path = tmp_path / "c.csv"
    path.write_text(f"claim_id,family_id,kind,claimed_on,amount,window\n{row}\n")
    claims, (bad,) = read_claims(path)
    assert claims == []
    assert (bad.claim_id, bad.amount, bad.window) == ("D-8", None, None)
    assert bad.amount_text == f"(values not lined up with the columns) {row!r}"


@pytest.mark.parametrize(
    ("header", "row", "amount"),
    [
        (  # a three-digit family id after the amount: its own column holds it, no split
            "claim_id,kind,amount,family_id,claimed_on,window",
            "C-1,crime_asb_education,700,123,2015-02-30,2015-Q4",
            Decimal("700"),
        ),
        (  # an empty value past the last column is no value: nothing is out of line
            HEADER + ",window",
            "C-5,EX-015,crime_asb_education,700.00,2015-02-30,2015-Q4,",
            Decimal("700.00"),
        ),
    ],
)
def test_a_rejected_row_whose_values_line_up_keeps_its_amount(
    tmp_path: Path, header: str, row: str, amount: Decimal
) -> None:
    """The split-amount rule took these for split: their amounts left every total."""
    path = tmp_path / "c.csv"
    path.write_text(f"{header}\n{row}\n")
    _, (bad,) = read_claims(path)
    assert bad.amount == amount
    assert not bad.amount_text.startswith("(values not lined up")


def test_a_row_short_only_of_its_window_is_still_a_claim(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"{HEADER},window\n{GOOD}\n")
    claims, malformed = read_claims(path)
    assert ([c.amount for c in claims], malformed) == ([Decimal("1500.00")], [])


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_json_amount_of_minus_zero_is_shown_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """It was shown as ``Decimal('-0')``, in the message and in the list of amounts not read."""
    path = tmp_path / f"claims{suffix}"
    line = claim_line(claim_id="K1").replace('"1500.00"', "-0")
    path.write_text(f"{line}\n" if suffix == ".jsonl" else f"[{line}]")
    _, (bad,) = read_claims(path)
    assert bad.message == "money must not be negative (nor minus zero), got -0"
    assert bad.amount_text == "-0"
    status, out, err = audit(capsys, path)
    assert status == 1
    assert "Decimal(" not in out + err
    assert "  row 1 K1: amount -0\n" in out


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_a_claim_file_nested_too_deep_is_named_as_the_family_reader_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """It was Python's words: "maximum recursion depth exceeded while decoding a JSON array"."""
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    _, _, err = audit(capsys, path)
    assert "arrays or objects nested 5000 deep: more than pbr reads" in err
    assert "recursion" not in err
    assert "Traceback" not in err
