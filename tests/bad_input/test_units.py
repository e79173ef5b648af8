"""Unit checks behind the catalogue: derivations and readers on the inputs that used to crash them."""

from __future__ import annotations

import pandas as pd

from cdisc_als.plausible import date_bounds, outside
from cdisc_als.raw.csvtext import parse_csv_text, sniff_delimiter
from cdisc_als.sdtm.derive import derive_epoch
from cdisc_als.study import load_study


def test_epoch_with_a_repeated_last_visit():
    """Subject A has VISIT 10 twice (2012-09-01, 2012-09-02): a record after the later one is in the last
    epoch; no InvalidIndexError."""
    visits = pd.DataFrame({"USUBJID": ["A", "A", "A", "B"], "VISITNUM": [1.0, 10.0, 10.0, 1.0],
                           "DATE": pd.to_datetime(["2012-01-01", "2012-09-01", "2012-09-02", "2012-01-05"])})
    records = pd.DataFrame({"USUBJID": ["A", "A", "A", "B"],
                            "AESTDTC": ["2012-01-10", "2012-09-02", "2012-09-03", "2012-02-01"]})
    epochs = derive_epoch(records, "AESTDTC", visits, load_study())["EPOCH"].tolist()
    assert epochs == ["SCREENING", "FOLLOW-UP", "LONG-TERM FOLLOW-UP", "SCREENING"]


def test_epoch_of_no_records():
    visits = pd.DataFrame({"USUBJID": ["A"], "VISITNUM": [1.0], "DATE": pd.to_datetime(["2012-01-01"])})
    empty = pd.DataFrame({"USUBJID": pd.Series(dtype=object), "AESTDTC": pd.Series(dtype=object)})
    assert derive_epoch(empty, "AESTDTC", visits, load_study())["EPOCH"].tolist() == []


def test_partial_dates_span_their_days():
    low, high = date_bounds(pd.Series(["2012-03", "2012", "2012-UN-UN", "2012-02-29", "", "junk"]))
    assert [d.date().isoformat() if pd.notna(d) else None for d in low] == [
        "2012-03-01", "2012-01-01", "2012-01-01", "2012-02-29", None, None]
    assert [d.date().isoformat() if pd.notna(d) else None for d in high] == [
        "2012-03-31", "2012-12-31", "2012-12-31", "2012-02-29", None, None]
    dates = pd.Series(["1999-12", "1999", "2000", "1999-12-31", "2018-03"])
    assert outside(dates, pd.Timestamp("2000-01-01").date(), pd.Timestamp("2018-02-28").date()).tolist() == [
        True, True, False, True, True]


def test_delimiters_and_physical_lines():
    assert sniff_delimiter('A;B;"x,y"\n') == ";" and sniff_delimiter("A\tB\n") == "\t"
    assert sniff_delimiter("A,B;C\n") == "," and sniff_delimiter("ONLY\n") == ","
    parsed = parse_csv_text('A,B\n\n1,"two\nlines"\n\n3,4\n', "t.csv")
    assert [(r.start, r.end, r.fields) for r in parsed.records] == [(3, 4, ["1", "two\nlines"]), (6, 6, ["3", "4"])]
    assert (parsed.lines, parsed.blank_lines, parsed.continuation_lines) == (5, 2, 1)


def test_a_stray_quote_does_not_swallow_the_next_lines():
    parsed = parse_csv_text('A,B\n1,"x\n2,y\n3,z\n', "t.csv")
    assert [(r.start, r.fields) for r in parsed.records] == [(2, ["1", '"x']), (3, ["2", "y"]), (4, ["3", "z"])]
    assert [(f.rule, f.row, f.column) for f in parsed.findings] == [("RAW-QUOTE", 2, "B")]
    assert parsed.continuation_lines == 0


REGULAR_TEXTS = [  # read by the fast path (csvfast.parse_simple): no quote, every line one record or blank
    "A,B\n1,2\n3,4\n",
    "A,B\r\n 1 ,2\r\n\r\n3,4",                       # CRLF, spaces trimmed, a blank line, no final line end
    "\n\nA;B;C\n1;;3\n;;\n  \n4;5;6\n\n",            # header on line 3, ';', blank lines of each kind
    "A\tB\nx\ty\n",
    "A,,C\n1,2,3\n",                                # a column without a name
]
IRREGULAR_TEXTS = [  # the careful path: quotes, a lone CR, missing or extra fields, one column
    'A,B\n1,"2"\n', "A,B\r1,2\r", "A,B,C\n1,2\n", "A,B\n1,2,3\n", "A,B\n1,2,\n", "ONLY\n1\n\n2\n",
]


def _careful(path):
    from cdisc_als.raw import readers

    fast, readers.parse_simple = readers.parse_simple, lambda *_: None
    try:
        return readers._read_csv(path)
    finally:
        readers.parse_simple = fast


def test_fast_and_careful_csv_reading_agree(tmp_path):
    """The fast path is taken only on regular text and then gives the careful path's frame, physical
    lines, accounting and findings."""
    from cdisc_als.raw.csvfast import parse_simple
    from cdisc_als.raw.readers import _read_csv

    for k, text in enumerate(REGULAR_TEXTS + IRREGULAR_TEXTS):
        assert (parse_simple(text, "t.csv") is not None) == (text in REGULAR_TEXTS), text
        path = tmp_path / f"t{k}.csv"
        path.write_bytes(text.encode("utf-8"))
        fast, careful = _read_csv(path), _careful(path)
        assert fast.frame.equals(careful.frame) and list(fast.frame.columns) == list(careful.frame.columns), text
        assert fast.findings == careful.findings, text
        assert ((fast.lines, fast.blank_lines, fast.continuation_lines)
                == (careful.lines, careful.blank_lines, careful.continuation_lines)), text


def test_fast_path_physical_lines():
    """Hand-counted: header on line 3; records on lines 4 and 7; lines 5 (';;'), 6 (spaces) and 8 (empty)
    blank; 5 lines after the header."""
    from cdisc_als.raw.csvfast import parse_simple

    parsed = parse_simple(REGULAR_TEXTS[2], "t.csv")
    assert parsed.header == ["A", "B", "C"] and parsed.rows.tolist() == [4, 7]
    assert [c.tolist() for c in parsed.columns] == [["1", "4"], ["", "5"], ["3", "6"]]
    assert (parsed.lines, parsed.blank_lines) == (5, 3)
    assert [(f.rule, f.row) for f in parsed.findings] == [("RAW-HEADER-LINE", 3), ("RAW-DELIMITER", 3)]
