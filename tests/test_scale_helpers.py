"""The columnar helpers that keep ADaM and TLF linear in the number of records: each against a
hand-worked example (and pandas where the helper promises pandas' result)."""

from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np
import pandas as pd
import pytest

from cdisc_als.adam.assemble import sequence_in_subject, subject_key_order
from cdisc_als.adam.bds import flag_analysis_records
from cdisc_als.columnar import map_distinct, stack_parts, stacked_columns
from cdisc_als.stats.km import km_table, logrank_k
from cdisc_als.stats.models import _subject_designs
from cdisc_als.tlf.render import rtf_escape
from tests.xpt_checks import assert_kept_as_read


def test_stacked_columns_fill_missing_columns_as_concat_does():
    first = pd.DataFrame({"USUBJID": ["B", "A"], "AVAL": [1.0, 2.0], "DTYPE": ["", "X"]})
    second = pd.DataFrame({"USUBJID": ["A"], "AVAL": [3.0], "ADT": pd.to_datetime(["2020-01-02"])})
    columns = stacked_columns([first, second])
    assert list(columns) == ["USUBJID", "AVAL", "DTYPE", "ADT"]
    assert columns["AVAL"].tolist() == [1.0, 2.0, 3.0]
    assert columns["DTYPE"][:2].tolist() == ["", "X"] and math.isnan(columns["DTYPE"][2])
    assert np.isnat(columns["ADT"][:2]).all() and columns["ADT"][2] == np.datetime64("2020-01-02")
    expected = pd.concat([first, second], ignore_index=True)
    assert pd.DataFrame(columns).equals(expected)
    # a column of text in one part and numbers in the other: left to pd.concat
    assert stacked_columns([first, second.assign(DTYPE=[1.0])]) is None


def test_stack_parts_equals_concat_and_empties_the_parts():
    from cdisc_als.columnar import frame_of

    def parts():
        return [frame_of({"USUBJID": np.array(["B", "A"], dtype=object), "AVAL": np.array([1.0, 2.0]),
                          "DTYPE": np.array(["", "X"], dtype=object)}),
                frame_of({"USUBJID": np.array(["A"], dtype=object), "AVAL": np.array([3.0]),
                          "ADT": np.array(["2020-01-02"], dtype="datetime64[ns]")})]

    expected = pd.concat(parts(), ignore_index=True)
    consumed = parts()
    stacked = stack_parts(consumed)
    pd.testing.assert_frame_equal(stacked, expected)
    assert stacked["DTYPE"].tolist()[:2] == ["", "X"] and math.isnan(stacked["DTYPE"][2])
    assert all(part.columns.empty for part in consumed)            # each column dropped once stacked
    # a column of text in one part and numbers in the other: pd.concat's type rules
    mixed = parts()
    mixed[1]["DTYPE"] = [1.0]
    pd.testing.assert_frame_equal(stack_parts(mixed), pd.concat(mixed, ignore_index=True))


def test_subject_key_order_sorts_subject_then_keys_missing_last_stably():
    subjects = pd.Series(["S2", "S1", "S2", "S1", "S1"])
    codes, uniques = pd.factorize(subjects)
    paramn = np.array([1.0, 2.0, 1.0, np.nan, 2.0])
    adt = pd.to_datetime(["2020-01-02", "2020-01-01", None, "2020-01-01", "2019-12-31"]).to_numpy()
    order = subject_key_order(codes, uniques, [paramn, adt])
    # S1: (2, 2019-12-31) row 4, (2, 2020-01-01) row 1, (NaN) row 3; S2: (1, 2020-01-02) row 0, (1, NaT) row 2
    assert order.tolist() == [4, 1, 3, 0, 2]
    frame = pd.DataFrame({"U": subjects, "P": paramn, "D": adt})
    assert order.tolist() == frame.sort_values(["U", "P", "D"], kind="stable").index.tolist()
    assert subject_key_order(codes, uniques, [np.array(list("abcde"), dtype=object)]) is None


def test_sequence_in_subject_counts_within_runs():
    assert sequence_in_subject(np.array([0, 0, 1, 1, 1, 2])).tolist() == [1.0, 2.0, 1.0, 2.0, 3.0, 1.0]
    seq = sequence_in_subject(np.array([3, -1]))
    assert seq[0] == 1.0 and math.isnan(seq[1])


def test_flag_analysis_records_nearest_then_first_date():
    frame = pd.DataFrame({
        "USUBJID": ["A", "A", "A", "B", "B"], "PARAMCD": ["X"] * 5, "AVISIT": ["M1", "M1", "UNSCHEDULED", "M1", "M1"],
        "AVISITN": [1.0, 1.0, np.nan, 1.0, 1.0], "_DIST": [3.0, 1.0, np.inf, 2.0, 2.0],
        "ADT": pd.to_datetime(["2020-01-01", "2020-01-05", "2020-02-01", "2020-01-09", "2020-01-03"])})
    # A: the record 1 day from the target; B: equally near, the earlier date
    assert flag_analysis_records(frame)["ANL01FL"].tolist() == ["", "Y", "", "", "Y"]
    with_missing = frame.assign(ADT=frame["ADT"].where(frame.index != 0))     # pandas fallback, same rule
    assert flag_analysis_records(with_missing)["ANL01FL"].tolist() == ["", "Y", "", "", "Y"]


def test_map_distinct_calls_once_per_value_and_per_kind_of_missing():
    calls = []

    def func(value):
        calls.append(value)
        return repr(value)

    out = map_distinct(np.array(["a", None, np.nan, "a", None, np.nan], dtype=object), func)
    assert out.tolist() == ["'a'", "None", "nan", "'a'", "None", "nan"]
    assert len(calls) == 3


def test_km_death_counts_and_logrank_by_hand():
    # times 1, 2, 2, 3 (event, event, event, censored): deaths 1 at t=1, 2 at t=2
    times, at_risk, deaths, surv = km_table(np.array([1.0, 2.0, 2.0, 3.0]), np.array([True, True, True, False]))
    assert times.tolist() == [1.0, 2.0] and at_risk.tolist() == [4.0, 3.0] and deaths.tolist() == [1.0, 2.0]
    assert surv.tolist() == pytest.approx([0.75, 0.25])
    # two groups: A dies at 1 and 3, B at 2 and is censored at 4. Per event time (n, n_A, d, d_A):
    # t=1 (4, 2, 1, 1): O-E = 0.5, V = 0.25; t=2 (3, 1, 1, 0): -1/3, 2/9; t=3 (2, 1, 1, 1): 0.5, 0.25
    result = logrank_k([1, 3, 2, 4], [True, True, True, False], ["A", "A", "B", "B"])
    u, v = 0.5 - 1 / 3 + 0.5, 0.25 + 2 / 9 + 0.25
    assert result.chi2 == pytest.approx(u * u / v) and result.df == 1


def test_subject_designs_split_each_arm_and_subject_in_record_order():
    frame = pd.DataFrame({"ARM": ["b", "a", "a", "a"], "ID": ["S3", "S2", "S1", "S2"],
                          "T": [1.0, -2.0, 0.0, 3.0], "Y": [5.0, 6.0, 7.0, 8.0]})
    groups = _subject_designs(frame, "ARM", "ID", "T", "Y", knot=0.0)
    assert [level for level, _ in groups] == ["a", "b"]
    assert groups[0][1] == [([(1.0, 0.0, 0.0)], [7.0]),                       # S1
                            ([(1.0, -2.0, 0.0), (1.0, 0.0, 3.0)], [6.0, 8.0])]  # S2, records in order
    assert groups[1][1] == [([(1.0, 0.0, 1.0)], [5.0])]


def test_rtf_escape_plain_text_unchanged_and_specials_escaped():
    assert rtf_escape("Riluzole Alone (N = 30)") == "Riluzole Alone (N = 30)"
    assert rtf_escape("a{b}\\c\nd\x01é") == "a\\{b\\}\\\\c\\line d\\u233?"


def test_xpt_writer_lays_out_large_datasets_a_chunk_at_a_time_with_the_same_bytes(tmp_path, monkeypatch):
    from cdisc_als.export import xpt
    from cdisc_als.xpt_reader import read_xpt

    frame = pd.DataFrame({"USUBJID": [f"S{k % 7}" for k in range(1001)], "AVAL": np.arange(1001) / 4,
                          "AVALC": ["" if k % 3 else "ABC" for k in range(1001)]})
    whole = xpt.xpt_bytes(frame, "ADX", "X")
    monkeypatch.setattr(xpt, "CHUNK_BYTES", 100)      # 13-byte records (2 + 8 + 3): 7 records per chunk
    pieces = [bytes(p) for p in xpt.xpt_parts(frame, "ADX", "X")]   # each chunk copied before the next
    assert len(pieces) == 1 + 143 + 1                            # headers, ceil(1001 / 7) chunks, padding
    assert b"".join(pieces) == whole
    assert len(whole) % 80 == 0
    xpt.write_xpt(frame, tmp_path / "adx.xpt", "ADX", "X")
    back = read_xpt(tmp_path / "adx.xpt").frame
    assert back["AVAL"].tolist() == frame["AVAL"].tolist() and back["AVALC"].tolist() == frame["AVALC"].tolist()


def test_reader_codes_are_pandas_factorize_and_every_consumer_gives_the_hashed_result(tmp_path):
    from cdisc_als.export.datasetjson import ColumnMeta, DatasetMeta, write_dataset_json_files
    from cdisc_als.export.xpt import write_xpt
    from cdisc_als.validate.datasets import LoadedDataset
    from cdisc_als.xpt_reader import read_xpt

    frame = pd.DataFrame({"USUBJID": ["B", "A", "B", "C", "A"], "QSTESTCD": ["Q2", "", "Q1", "Q2", "Q1"],
                          "QSSEQ": [1.0, 1.0, 2.0, 1.0, 2.0]})
    write_xpt(frame, tmp_path / "qs.xpt", "QS", "Questionnaires")
    file = read_xpt(tmp_path / "qs.xpt")
    codes, texts = file.distinct_text("USUBJID")
    assert codes.tolist() == [0, 1, 0, 2, 1] and texts.tolist() == ["B", "A", "C"]     # first appearance
    assert file.distinct_text("QSSEQ") is None                    # numbers are not coded
    # the validator takes the reader's codes (nothing hashed again: factorizing fails here), with the
    # factorized result
    loaded = LoadedDataset.from_file(file)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pd, "factorize", lambda *a, **k: pytest.fail("a text column was hashed again"))
        loaded.distinct("QSTESTCD"), loaded.distinct("USUBJID")
    assert loaded.distinct("QSTESTCD")[0].tolist() == [0, 1, 2, 0, 2]
    assert loaded.distinct("QSTESTCD")[1].tolist() == ["Q2", "", "Q1", ""]
    assert loaded.duplicated(["USUBJID", "QSTESTCD"]).tolist() == [False, False, False, False, False]
    # two codes decoding to one text (e.g. Windows-1252 replacement): not used, the column is hashed
    file.coded["USUBJID"] = (np.array([0, 1, 0, 2, 1], dtype=np.uint8), np.array(["B", "A", "B"], dtype=object))
    assert file.distinct_text("USUBJID") is None
    # Dataset-JSON: the same bytes with and without the reader's codes
    file = read_xpt(tmp_path / "qs.xpt")
    meta = DatasetMeta("QS", "Questionnaires", [ColumnMeta("USUBJID", "", "string"),
                                                 ColumnMeta("QSTESTCD", "", "string"),
                                                 ColumnMeta("QSSEQ", "", "integer")])
    coded = {name: file.distinct_text(name) for name in ("USUBJID", "QSTESTCD")}
    write_dataset_json_files(file.frame, meta, tmp_path / "a.json", tmp_path / "a.ndjson", coded=coded)
    write_dataset_json_files(file.frame, meta, tmp_path / "b.json", tmp_path / "b.ndjson")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    assert b'["B","Q2",1]' in (tmp_path / "a.json").read_bytes() and b'["A",null,1]' in (tmp_path / "a.json").read_bytes()


def test_what_the_writer_keeps_is_what_a_reader_decodes_from_the_file(tmp_path):
    from cdisc_als.export.xpt import write_xpt
    from cdisc_als.read_cache import shared_reads
    from cdisc_als.xpt_reader import read_xpt

    frame = pd.DataFrame({
        "USUBJID": pd.Categorical(["S2", "S1", "S2", None]),
        "QSORRES": ["A ", "A", None, " B"],            # equal once trailing blanks go; a leading blank stays
        "QSSTRESN": [-0.0, np.nan, 1e-30, 12345.678],
        "QSDTC": ["2020-01-01", "", "", "x"],
    })
    with shared_reads() as cache:
        write_xpt(frame, tmp_path / "qs.xpt", "QS", "Questionnaires")
        kept = cache.get(tmp_path / "qs.xpt")
        assert kept is not None
        assert_kept_as_read(kept, tmp_path / "qs.xpt")
        assert kept.copy().frame["QSORRES"].tolist() == ["A", "A", "", " B"]
        assert read_xpt(tmp_path / "qs.xpt").coded["QSORRES"][1].tolist() == ["A", "", " B"]
        assert cache.hits == 2 and cache.misses == 0      # nothing decoded from the file
        # rewritten: the new version is kept in place of the old one, never the old one served
        write_xpt(frame.iloc[::-1], tmp_path / "qs.xpt", "QS", "Questionnaires")
        assert_kept_as_read(cache.get(tmp_path / "qs.xpt"), tmp_path / "qs.xpt")
        # whenever the reader could decode something else, nothing is kept
        for name, odd in {"blank_last": pd.DataFrame({"A": ["x", ""]}), "empty": frame.iloc[0:0],
                          "nul": pd.DataFrame({"A": ["x\x00", "y"], "N": [1.0, 2.0]})}.items():
            write_xpt(odd, tmp_path / f"{name}.xpt", "X")
            assert cache.get(tmp_path / f"{name}.xpt") is None, name


def test_the_writer_keeps_nothing_it_cannot_match_and_names_its_columns_as_given(tmp_path):
    from cdisc_als.export.xpt import XptError, XptVariable, write_xpt
    from cdisc_als.read_cache import shared_reads

    frame = pd.DataFrame({"aval": [1.5, 2.0], "AVAL": [9.0, 9.0], "param": ["a ", "b"]})
    with shared_reads() as cache:
        # lower-case variable names: the file says AVAL/PARAM, the values are those of the named columns
        write_xpt(frame, tmp_path / "ad.xpt", "AD", "", [XptVariable("aval", "Num"), XptVariable("param")])
        assert_kept_as_read(cache.get(tmp_path / "ad.xpt"), tmp_path / "ad.xpt")
        assert cache.get(tmp_path / "ad.xpt").copy().frame["AVAL"].tolist() == [1.5, 2.0]
        # a number stored in fewer than 8 bytes loses precision: nothing kept, the file is decoded
        write_xpt(frame, tmp_path / "short.xpt", "AD", "", [XptVariable("aval", "Num", 4)])
        assert cache.get(tmp_path / "short.xpt") is None
    with pytest.raises(XptError, match="at least one variable"):
        write_xpt(frame, tmp_path / "none.xpt", "AD", "", [])
    # 16**63 overflows the IBM exponent (it would read back as a tiny negative number): refused; just below is exact
    with pytest.raises(XptError, match="outside the IBM floating-point range"):
        write_xpt(pd.DataFrame({"X": [2.0 ** 252]}), tmp_path / "big.xpt", "AD")
    below = 2.0 ** 252 * (1 - 2.0 ** -53)
    with shared_reads() as cache:
        write_xpt(pd.DataFrame({"X": [below, -below]}), tmp_path / "big.xpt", "AD")
        assert_kept_as_read(cache.get(tmp_path / "big.xpt"), tmp_path / "big.xpt")
    from cdisc_als.xpt_reader import read_xpt
    assert read_xpt(tmp_path / "big.xpt").frame["X"].tolist() == [below, -below]


def test_dataset_json_and_define_groups_are_the_same_from_the_reader_codes_over_many_chunks(tmp_path, monkeypatch):
    from cdisc_als.export import datasetjson
    from cdisc_als.export.define import _Builder
    from cdisc_als.export.xpt import write_xpt
    from cdisc_als.xpt_reader import read_xpt

    frame = pd.DataFrame({"PARAMCD": ["B", "A", "", "B", "C", "A", "B"], "AVAL": [1.0, 2.0, 3.0, np.nan, 5.0, 6.0, 0.5]})
    write_xpt(frame, tmp_path / "adx.xpt", "ADX")
    file = read_xpt(tmp_path / "adx.xpt")
    meta = datasetjson.DatasetMeta("ADX", "", [datasetjson.ColumnMeta("PARAMCD", "", "string"),
                                               datasetjson.ColumnMeta("AVAL", "", "float")])
    monkeypatch.setattr(datasetjson, "CHUNK_ROWS", 3)          # three chunks: 3 + 3 + 1 rows
    coded = {"PARAMCD": file.distinct_text("PARAMCD")}
    datasetjson.write_dataset_json_files(file.frame, meta, tmp_path / "a.json", tmp_path / "a.ndjson", coded=coded)
    datasetjson.write_dataset_json_files(file.frame, meta, tmp_path / "b.json", tmp_path / "b.ndjson")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    rows = (tmp_path / "a.ndjson").read_text().splitlines()[1:]
    assert rows == ['["B",1.0]', '["A",2.0]', '[null,3.0]', '["B",null]', '["C",5.0]', '["A",6.0]', '["B",0.5]']
    # define.xml's value-level groups: rows of each non-blank code, codes sorted, from the codes or hashed
    builder = object.__new__(_Builder)
    expected = {"A": [1, 5], "B": [0, 3, 6], "C": [4]}
    for source in (file, None):
        builder._rows_by_code, builder._file = {}, source
        groups = builder._codes(file.frame, "PARAMCD")
        assert list(groups) == ["A", "B", "C"] and {k: v.tolist() for k, v in groups.items()} == expected


def test_xpt_writer_given_parts_writes_the_file_of_the_whole_dataset(tmp_path, monkeypatch):
    """A dataset given as parts (ADQS, written as derived): the same bytes as the stacked frame, a text
    variable as long as its longest value in any part (here only the last part has 'LONGER'), and a problem
    named by its row in the whole dataset, at most 5 per reason over all the parts."""
    from cdisc_als.export import xpt
    from cdisc_als.xpt_reader import read_xpt

    frame = pd.DataFrame({"USUBJID": [f"S{k // 4}" for k in range(23)], "AVAL": np.arange(23) / 8,
                          "AVALC": ["LONGER" if k == 22 else ("" if k % 3 else "AB") for k in range(23)]})
    parts = [frame.iloc[:9].reset_index(drop=True), frame.iloc[9:10].reset_index(drop=True),
             frame.iloc[10:].reset_index(drop=True)]
    whole = xpt.xpt_bytes(frame, "ADX", "X")
    assert xpt.xpt_bytes(parts, "ADX", "X") == whole
    monkeypatch.setattr(xpt, "CHUNK_BYTES", 40)          # chunks smaller than a part: the same bytes again
    assert xpt.xpt_bytes(parts, "ADX", "X") == whole
    for written, length in ((parts, 6), (parts[:2], 2)):                # 'LONGER' is only in the last part
        xpt.write_xpt(written, tmp_path / "adx.xpt", "ADX", "X")
        assert {c.name: c.length for c in read_xpt(tmp_path / "adx.xpt").columns}["AVALC"] == length
    bad = [p.assign(AVALC=p["AVALC"].where(p.index % 2 == 1, "caf\u00e9")) for p in parts]
    with pytest.raises(xpt.XptError) as info:
        xpt.write_xpt(bad, tmp_path / "bad.xpt", "ADX", "X")
    rows = [line.split(" row ")[1].split(":")[0] for line in info.value.problems]
    assert rows == ["1", "3", "5", "7", "9"]             # rows of the whole dataset, 5 at most, over the parts
    late = [p.assign(AVAL=p["AVAL"].where(p.index != 0, 1e80)) for p in parts]
    with pytest.raises(xpt.XptError) as info:
        xpt.write_xpt(late, tmp_path / "bad.xpt", "ADX", "X")
    assert [line.split(" row ")[1].split(":")[0] for line in info.value.problems] == ["1", "10", "11"]
    assert not (tmp_path / "bad.xpt").exists()


def test_the_note_on_a_file_written_from_parts_counts_every_part(tmp_path):
    """Too big for the read cache: the writer's note on a file written from parts holds each text's records
    over all the parts (in order of first appearance), as the note on the stacked frame does."""
    from cdisc_als.export.xpt import write_xpt
    from cdisc_als.read_cache import shared_reads, written_note

    frame = pd.DataFrame({"PARAMCD": ["B", "A", "B", "C", "A", "A"], "AVAL": np.arange(6.0)})
    with shared_reads(limit=1):
        write_xpt(frame, tmp_path / "whole.xpt", "ADX")
        write_xpt([frame.iloc[:2], frame.iloc[2:].reset_index(drop=True)], tmp_path / "parts.xpt", "ADX")
        whole, parts = written_note(tmp_path / "whole.xpt"), written_note(tmp_path / "parts.xpt")
    assert list(parts.counts["PARAMCD"].items()) == [("B", 2), ("A", 3), ("C", 1)]
    assert parts == whole
    assert (tmp_path / "whole.xpt").read_bytes() == (tmp_path / "parts.xpt").read_bytes()


def test_stacked_columns_unite_categoricals_in_order_of_appearance():
    """Text held as categoricals (a compact ADQS part) is stacked as one categorical, categories in order of
    first appearance over the parts, the values those of pd.concat; a part without the column, or a text
    object beside the categoricals, leaves the column to pd.concat."""
    from cdisc_als.columnar import categorical_of

    first = pd.DataFrame({"T": categorical_of(np.array(["b", "a"], dtype=object)), "N": [1.0, 2.0]})
    second = pd.DataFrame({"T": categorical_of(np.array(["c", "a", None], dtype=object)), "N": [3.0, 4.0, 5.0]})
    stacked = stack_parts([first.copy(), second.copy()])
    assert list(stacked["T"].cat.categories) == ["b", "a", "c"]
    concat = pd.concat([first, second], ignore_index=True)
    assert stacked["T"].astype(object).tolist()[:4] == concat["T"].tolist()[:4] == ["b", "a", "c", "a"]
    assert pd.isna(stacked["T"].iloc[4]) and pd.isna(concat["T"].iloc[4])
    assert stacked["N"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert stacked_columns([first, second[["N"]]]) is None
    assert stacked_columns([first, second.assign(T=["c", "a", None])]) is None


def test_reader_text_as_categoricals_is_the_text_read_as_objects(tmp_path):
    """read_dataset(categorical=True): each text column a categorical of the reader's codes, equal to the text
    columns read as objects; numbers unchanged; inside and outside the read cache."""
    from cdisc_als.datasets_io import read_dataset
    from cdisc_als.export.xpt import write_xpt
    from cdisc_als.read_cache import shared_reads

    frame = pd.DataFrame({"USUBJID": ["S2", "S1", "S2", ""], "PARAMCD": ["X", "Y", "X", "Y"], "AVAL": [1.0, np.nan, 3, 4]})
    write_xpt(frame, tmp_path / "adx.xpt", "ADX")
    for cached in (False, True):
        with shared_reads() if cached else nullcontext():
            as_text = read_dataset(tmp_path / "adx.xpt").frame
            coded = read_dataset(tmp_path / "adx.xpt", categorical=True).frame
        assert isinstance(coded["USUBJID"].dtype, pd.CategoricalDtype) and coded["AVAL"].dtype == np.float64
        pd.testing.assert_frame_equal(coded.astype({"USUBJID": object, "PARAMCD": object}), as_text)
        assert as_text["USUBJID"].tolist() == ["S2", "S1", "S2", ""]


def test_memory_budget_decides_whether_two_heavy_stages_run_side_by_side(tmp_path, monkeypatch):
    """The ADaM validation and the TLFs run side by side when (1.2 + 0.6) bytes per byte of ADaM files fit
    the budget (CDISC_ALS_MEMORY_GB)."""
    from cdisc_als import memory

    (tmp_path / "adqs.xpt").write_bytes(b"x" * (1 << 20))           # 1 MB of ADaM files: 1.8 MB needed
    assert memory.VALIDATION_PER_BYTE + memory.TLF_PER_BYTE == pytest.approx(1.8)
    for megabytes, fits in ((1.7, False), (1.79, False), (1.81, True), (100, True)):
        monkeypatch.setenv(memory.MEMORY_VARIABLE, str(megabytes / 1024))
        assert memory.both_fit_in_memory(tmp_path) == fits, megabytes
    monkeypatch.setenv(memory.MEMORY_VARIABLE, "inf")                   # no limit
    assert memory.both_fit_in_memory(tmp_path)
    monkeypatch.setenv(memory.MEMORY_VARIABLE, "not a number")        # the default: a share of the machine
    assert memory.memory_budget() > 0 and memory.both_fit_in_memory(tmp_path)
    limit = tmp_path / "memory.max"                                     # a container limit below the machine's
    limit.write_text("3145728\n")
    monkeypatch.setattr(memory, "CGROUP_LIMITS", (tmp_path / "absent", limit))
    assert memory.usable_memory() == 3 << 20 and memory.memory_budget() == 2 << 20
    assert memory.both_fit_in_memory(tmp_path)                          # 1.8 MB of 2 MB
    limit.write_text("max\n")                                         # cgroup v2: no limit
    assert memory.usable_memory() > 3 << 20


def test_tlf_study_data_with_coded_text_gives_the_records_of_text_columns():
    """The TLF stage keeps the text of record-level datasets as categoricals: what an output selects, a
    dataset's columns asked for, and the filter texts are what the same frame with text objects gives."""
    from cdisc_als.columnar import as_categoricals
    from cdisc_als.tlf.context import StudyData
    from cdisc_als.tlf.filters import to_condition

    adsl = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "TRT01P": ["A", "B", "A"], "AGE": [50.0, 60.0, 70.0]})
    adqs = pd.DataFrame({"USUBJID": ["S1", "S1", "S2", "S3", "S3"], "PARAMCD": ["X", "Y", "X", "X", "Y"],
                         "AVISIT": ["BASELINE", "MONTH 1", "BASELINE", "MONTH 1", ""], "AVAL": [1.0, 2, 3, 4, 5]})
    as_text = StudyData({"ADSL": adsl, "ADQS": adqs})
    coded = StudyData({"ADSL": adsl, "ADQS": as_categoricals(adqs)})
    assert isinstance(coded.adam["ADQS"]["PARAMCD"].dtype, pd.CategoricalDtype)
    cond = to_condition({"PARAMCD": "X"}, "test")
    subjects = adsl[adsl["TRT01P"] == "A"]
    for got, expected in ((coded.select("ADQS", cond, subjects, ["TRT01P"]), as_text.select("ADQS", cond, subjects, ["TRT01P"])),
                          (coded.frame("ADQS", ["AGE"]), as_text.frame("ADQS", ["AGE"]))):
        assert got["PARAMCD"].dtype == object and got["AVISIT"].dtype == object
        pd.testing.assert_frame_equal(got, expected)
    only = coded.frame("ADQS", ["TRT01P"], columns=["USUBJID", "AVISIT", "NOTHERE"])
    assert list(only.columns) == ["USUBJID", "AVISIT", "TRT01P"] and only["AVISIT"].dtype == object
    for column in ("PARAMCD", "AVISIT", "TRT01P"):
        codes, texts = coded.texts("ADQS", column)
        expected_codes, expected_texts = as_text.texts("ADQS", column)
        assert texts[codes].tolist() == expected_texts[expected_codes].tolist()
    assert coded.own_columns("adqs") == ["USUBJID", "PARAMCD", "AVISIT", "AVAL"]
