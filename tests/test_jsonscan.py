"""The C scans of a record's JSON (`pbr._jsonscan`), and the Python checks they stand in for.

The key scan may answer True only when no object repeats a key (sound), and must answer True
for every record with no repeated and no escaped key (else the fast path is silently lost).
The date scan answers as the regular expression it replaces. Where pbr is built without a C
compiler, `pbr._compiled` checks both in Python: every line must be decided alike.
"""

from __future__ import annotations

import json
import shutil
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbr import _compiled
from tests.test_compiled_record import FAST, spoiled_lines

try:
    from pbr._jsonscan import dates_in_bounds, plain_canonical
    from pbr._jsonscan import keys_given_once as _scan
except ImportError:  # built without a C compiler: the scan's own tests are skipped
    BUILT = False
else:
    BUILT = True
needs_the_scan = pytest.mark.skipif(not BUILT, reason="pbr was built without its C scan")


def test_the_c_scan_is_built_where_there_is_a_c_compiler() -> None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): pbr reads records with the Python proof")
    assert BUILT, "pbr._jsonscan was not built: run pip install -e . again and read its output"
    assert _compiled._scanned_once is _scan, "pbr._compiled is not using the C key scan"
    assert _compiled._dates_in_bounds is dates_in_bounds, "nor the C date scan"
    assert _compiled._plain_canonical is plain_canonical, "nor the C plain-text scan"


def _repeats_a_key(text: bytes) -> bool:
    """The oracle: whether any object of the JSON `text` gives a key twice."""
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({key for key, _ in items}) != len(items)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return found


KEYS = st.sampled_from(["a", "b", "person_id", "date", "é", "a b", 'q"', "x\\y", ""])


Drawn = tuple[str, bool]
"""JSON text in varied layout, and whether a key of it is written with an escape."""


def _scalar(value: Any) -> Drawn:
    return json.dumps(value), False


def _array(items: list[Drawn]) -> Drawn:
    return "[" + ", ".join(text for text, _ in items) + "]", any(e for _, e in items)


@st.composite
def _object(draw: st.DrawFn, values: st.SearchStrategy[Drawn]) -> Drawn:
    space = draw(st.sampled_from(["", " ", "\n\t"]))
    written, escaped = [], False
    for text, inner in draw(st.lists(values, max_size=5)):
        key = json.dumps(draw(KEYS), ensure_ascii=draw(st.booleans()))
        if draw(st.integers(0, 9)) == 0:  # the same key, every character escaped
            key = '"' + "".join(f"\\u{ord(c):04x}" for c in json.loads(key)) + '"'
        escaped = escaped or inner or "\\" in key
        written.append(f"{key}{space}:{space}{text}")
    return "{" + space + f",{space}".join(written) + space + "}", escaped


JSON_TEXTS = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6)).map(_scalar),
    lambda values: st.lists(values, max_size=4).map(_array) | _object(values),
    max_leaves=20,
)


@needs_the_scan
@settings(max_examples=1000, deadline=None)
@given(JSON_TEXTS)
def test_the_scan_proves_exactly_the_texts_that_repeat_no_key(drawn: Drawn) -> None:
    text, escaped = drawn
    data = text.encode("utf-8", errors="surrogatepass")
    repeated = _repeats_a_key(data)
    if _scan(data):
        assert not repeated  # sound: never proves what is false
    else:
        assert repeated or escaped  # complete: a plain text with no repeated key is proved


@needs_the_scan
@pytest.mark.parametrize(
    ("text", "proved"),
    [
        (b'{"a":1,"b":{"a":2},"c":[{"a":1},{"a":1}]}', True),  # the same key in other objects
        (b'{"a":1,"a":1}', False),
        (b'{"a":1,"b":[{"x":{"a":1}}],"a":2}', False),  # repeated around a nested value
        (b'[{"x":1,"y":2,"x":3}]', False),
        (b'{"\\u0061":1,"a":2}', False),  # an escaped key could spell another: not proved
        (b'{"a":"}\\"{","b":"\\\\"}', True),  # brackets and quotes inside text are text
        (b'{"ab":1,"a":2,"abc":3}', True),  # keys that share a start
        (b' \t{ "a" : 1 , "b" : 2 }\r\n', True),
        (b'{"a":1', False),  # not closed
        (b'{"a":"x', False),
        (b'{"a":1}}', False),
        (b"[1,2}", False),
        (b'"\\', False),
        (b"", True),
        (b"[" * 16 + b"]" * 16, True),
        (b"[" * 17 + b"]" * 17, False),  # deeper than a record: not proved
        (b"{" + b",".join(b'"k%d":0' % i for i in range(64)) + b"}", True),
        (b"{" + b",".join(b'"k%d":0' % i for i in range(65)) + b"}", False),  # wider
    ],
)
def test_the_scan_at_its_edges(text: bytes, proved: bool) -> None:
    assert _scan(text) is proved


@needs_the_scan
@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=64) | st.text(alphabet='{}[]",:\\ab1 ', max_size=64).map(str.encode))
def test_the_scan_answers_any_bytes_without_harm(data: bytes) -> None:
    answer = _scan(data)
    assert answer in (True, False)
    try:
        repeated = _repeats_a_key(data)
    except ValueError:  # not JSON: the scan's answer does not matter (msgspec refused first)
        return
    assert not (answer and repeated)


LONG_TEXTS = st.text(alphabet='ab"\\{}[],:é', max_size=40)


@needs_the_scan
@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(LONG_TEXTS, LONG_TEXTS), max_size=6), st.integers(0, 20))
def test_the_scan_reads_long_texts_a_block_at_a_time_as_byte_by_byte(
    pairs: list[tuple[str, str]], padding: int
) -> None:
    """Texts longer than the 16 bytes the scan looks at together, with quotes and backslashes
    anywhere in them (so at every place in a block, and across two): sound and complete."""
    keys = [json.dumps(k, ensure_ascii=False) for k, _ in pairs]
    values = [json.dumps(v, ensure_ascii=False) for _, v in pairs]
    text = (
        " " * padding + "{" + ",".join(f"{k}:{v}" for k, v in zip(keys, values, strict=True)) + "}"
    )
    data = text.encode()
    repeated = _repeats_a_key(data)
    if _scan(data):
        assert not repeated
    else:
        assert repeated or any("\\" in k for k in keys)


@needs_the_scan
def test_the_scan_refuses_what_is_not_bytes() -> None:
    with pytest.raises(TypeError):
        _scan("{}")  # type: ignore[arg-type]


DATE_BYTES = st.lists(
    st.sampled_from(
        [b':"', b'"', b":", b"-", b"19", b"20", b"21", b"18", b"00", b"0", b"1", b"9", b"x", b" "]
    ),
    max_size=40,
).map(b"".join)
DATES = st.builds(
    lambda year, rest, before, after: b"%s:%s%04d-%s%s" % (before, b'"', year, rest, after),
    st.integers(0, 9999),
    st.sampled_from([b'01-01"', b'12-31"', b'1-01"', b"01-01", b'01-01"x', b'ab-01"']),
    st.sampled_from([b"", b'{"date"', b'"a":"', b"::"]),
    st.sampled_from([b"", b"}", b':"2012-10-15"', b':"1899-12-31"']),
)


@needs_the_scan
@settings(max_examples=1500, deadline=None)
@given(DATE_BYTES | DATES | st.binary(max_size=40))
def test_the_date_scan_answers_as_the_regular_expression(canonical: bytes) -> None:
    assert dates_in_bounds(canonical) is _compiled._dates_searched(canonical)


@needs_the_scan
@settings(max_examples=500, deadline=None)
@given(st.lists(DATE_BYTES | DATES, max_size=12).map(b"".join), st.integers(0, 31))
def test_the_date_scan_answers_alike_over_long_texts(canonical: bytes, padding: int) -> None:
    """Longer than the 16 bytes the scan looks at together, a date at any place in a block and
    across two (the padding moves it): the regular expression's answer still."""
    text = b"x" * padding + canonical
    assert dates_in_bounds(text) is _compiled._dates_searched(text)


@needs_the_scan
@pytest.mark.parametrize(
    ("canonical", "in_bounds"),
    [
        (b'{"date":"1900-01-01"}', True),
        (b'{"date":"2099-12-31"}', True),
        (b'{"date":"1899-12-31"}', False),
        (b'{"date":"2100-01-01"}', False),
        (b'{"a":"2012-10-15","b":"0001-01-01"}', False),  # the second date
        (b':"0001-01-01"', False),  # at the very end
        (b':"0001-01-01', True),  # not a whole date
        (b'{"id":"1899-12-31x"}', True),
        (b'{"note":"a:\\"1899-12-31\\""}', True),  # an escaped quote is not one
        (b"", True),
    ],
)
def test_the_date_scan_at_its_edges(canonical: bytes, in_bounds: bool) -> None:
    assert dates_in_bounds(canonical) is in_bounds
    assert _compiled._dates_searched(canonical) is in_bounds


def _plainly(canonical: bytes) -> bool:
    """The plain scan's oracle: dates in bounds, and no byte a control character is written with."""
    return _compiled._dates_searched(canonical) and not any(
        odd in canonical for odd in (b"\\", b"\x7f", b"\xc2")
    )


ODD_BYTES = st.sampled_from([b"\\", b"\x7f", b"\xc2", b"\xc2\xa3", b"\\u0007", b"\xc3\xa9", b"x"])


@needs_the_scan
@settings(max_examples=1500, deadline=None)
@given(
    st.lists(DATE_BYTES | DATES | ODD_BYTES | st.binary(max_size=8), max_size=12).map(b"".join),
    st.integers(0, 31),
)
def test_the_plain_scan_answers_as_its_two_checks_together(canonical: bytes, padding: int) -> None:
    """True exactly when the dates are in bounds and no backslash, DEL or 0xC2 byte is there:
    at any place in a 16-byte block and across two (the padding moves them)."""
    text = b"y" * padding + canonical
    assert plain_canonical(text) is _plainly(text)


@needs_the_scan
@pytest.mark.parametrize(
    ("canonical", "plain"),
    [
        (b'{"date":"2012-10-15","n":"Leeds"}', True),
        (b'{"date":"1899-12-31"}', False),
        (b'{"n":"a\\nb"}', False),  # an escaped newline
        (b'{"n":"caf\xc3\xa9"}', True),  # U+00E9: no lead byte 0xC2
        (b'{"n":"\xc2\x85"}', False),  # U+0085, a C1 control character
        (b'{"n":"\x7f"}', False),
        (b"x" * 31 + b"\\", False),  # in the bytes after the last whole block
        (b"", True),
    ],
)
def test_the_plain_scan_at_its_edges(canonical: bytes, plain: bool) -> None:
    assert plain_canonical(canonical) is plain


@contextmanager
def python_proof_only() -> Iterator[None]:
    """`pbr._compiled` as installed without a C compiler."""
    scanned, dated = _compiled._scanned_once, _compiled._dates_in_bounds
    plain = _compiled._plain_canonical
    _compiled._scanned_once = _compiled._not_scanned
    _compiled._dates_in_bounds = _compiled._dates_searched
    _compiled._plain_canonical = _compiled._not_scanned
    try:
        yield
    finally:
        _compiled._scanned_once, _compiled._dates_in_bounds = scanned, dated
        _compiled._plain_canonical = plain


@settings(FAST, max_examples=250)
@given(spoiled_lines())
def test_the_python_checks_decide_every_line_as_the_scans_do(data: bytes) -> None:
    with_scan = _compiled.decode_family(data, 10**6)
    with python_proof_only():
        without = _compiled.decode_family(data, 10**6)
        canonical = None if without is None else _compiled.canonical_json(without)
    assert (with_scan is None) is (without is None)
    if with_scan is not None:
        assert _compiled.canonical_json(with_scan) == canonical


def test_without_the_scan_a_repeated_key_is_still_refused() -> None:
    line = (
        b'{"family_id":"F1","attached_on":"2013-01-07","members":'
        b'[{"person_id":"A1","date_of_birth":"1980-01-01","person_id":"A1"}]}'
    )
    with python_proof_only():
        assert _compiled.decode_family(line, 10**6) is None
        assert _compiled.decode_family(line.replace(b',"person_id":"A1"}', b"}"), 10**6)
