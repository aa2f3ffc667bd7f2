"""The run's memo of analysis results (``research.analysis.memo``).

- every memoised façade gives exactly the same result with and without the memo, computed and read
  back, and leaves numpy's and Python's global random states as they were;
- a study filtered or edited (in place, too) before the call gets its own result, never another's;
- a hit is a fresh copy; an unreadable entry is computed again; a failed write leaves nothing;
- without the environment variable, or when it names no folder, nothing is kept;
- ``research run`` hands its kernels a memo folder of its own and removes it, whatever happened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import pickle
import random
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pandas as pd
import pytest

from research.analysis import interviews, memo, survey
from tests.conftest import DEMO

#: Every memoised façade with the arguments the notebooks pass (besides the study).
CALLS = {
    "reliability_table": (survey.reliability_table, {}),
    "item_table": (survey.item_table, {"seed": 2026}),
    "scale_table": (survey.scale_table, {}),
    "dyad_table": (survey.dyad_table, {}),
    "dif_table": (survey.dif_table, {"alpha": 0.05}),
    "invariance_table": (survey.invariance_table, {}),
    "headline_table": (survey.headline_table, {"alpha": 0.05}),
    "company_summary": (survey.company_summary, {}),
    "coded_segments": (interviews.coded_segments, {}),
    "theme_table": (interviews.theme_table, "coded"),
    "agreement_tables": (interviews.agreement_tables, {}),
}


@pytest.fixture
def memo_dir(tmp_path, monkeypatch):
    folder = tmp_path / "memo"
    folder.mkdir()
    monkeypatch.setenv(memo.ENV, str(folder))
    return folder


@pytest.fixture(scope="module")
def study(demo_study):
    # a copy of its own: tests here edit it
    return dataclasses.replace(
        demo_study, **{n: getattr(demo_study, n).copy() for n in memo.STUDY_FRAMES}
    )


def call(name, study):
    func, kwargs = CALLS[name]
    if kwargs == "coded":
        with memo_off():
            coded = interviews.coded_segments(study)
        return func(study, coded)
    return func(study, **kwargs)


@contextlib.contextmanager
def memo_off():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(memo.ENV, raising=False)
        yield


def assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert a.attrs == b.attrs


def test_every_memoised_facade_is_tested_here():
    found = {
        name
        for module in (survey, interviews)
        for name, value in vars(module).items()
        if getattr(value, "memoised", False)
    }
    assert found == set(CALLS)


@pytest.mark.parametrize("name", list(CALLS))
def test_same_result_with_and_without_the_memo(name, study, memo_dir):
    with memo_off():
        plain = call(name, study)
    computed = call(name, study)
    assert len(list(memo_dir.glob(f"{CALLS[name][0].__name__}-*.pickle"))) == 1
    read_back = call(name, study)
    assert_same(plain, computed)
    assert_same(plain, read_back)


@pytest.mark.parametrize("name", list(CALLS))
def test_no_memoised_facade_draws_from_the_global_random_states(name, study):
    # a hit skips the call: one that drew from these states would change every later draw
    np.random.seed(7)
    random.seed(7)
    numpy_state, python_state = np.random.get_state(), random.getstate()
    with memo_off():
        call(name, study)
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and after[2:] == numpy_state[2:]
    assert np.array_equal(after[1], numpy_state[1])
    assert random.getstate() == python_state


def test_a_filtered_study_gets_its_own_result(study, memo_dir):
    full = survey.reliability_table(study)
    sales = study.responses[study.responses["role"] == "sales"]
    filtered = dataclasses.replace(study, responses=sales)
    result = survey.reliability_table(filtered)
    with memo_off():
        expected = survey.reliability_table(filtered)
    assert_same(result, expected)
    assert not full.equals(result)
    assert len(list(memo_dir.iterdir())) == 2


def test_a_study_edited_in_place_gets_its_own_result(study, memo_dir):
    edited = dataclasses.replace(study, responses=study.responses.copy())
    before = survey.item_table(edited)
    rows = edited.responses["role"] == "sales"
    edited.responses.loc[rows, "keyed"] = edited.responses.loc[rows, "keyed"].max()
    after = survey.item_table(edited)
    with memo_off():
        expected = survey.item_table(edited)
    assert_same(after, expected)
    assert not before.equals(after)


def test_other_arguments_are_keyed(study, memo_dir):
    a = survey.dif_table(study, 0.05)
    b = survey.dif_table(study, alpha=0.05)  # the same call: one entry
    c = survey.dif_table(study, 0.5)
    assert len(list(memo_dir.iterdir())) == 2
    assert_same(a, b)
    assert not a["dif"].equals(c["dif"])


def test_a_hit_is_a_fresh_copy(study, memo_dir):
    survey.scale_table(study)
    first = survey.scale_table(study)
    first.loc[:, "effect_size"] = 99.0
    second = survey.scale_table(study)
    assert first is not second
    assert not (second["effect_size"] == 99.0).any()


def test_an_unreadable_entry_is_computed_again(study, memo_dir):
    expected = survey.dyad_table(study)
    (entry,) = memo_dir.iterdir()
    entry.write_bytes(entry.read_bytes()[:20])  # a truncated pickle
    assert_same(survey.dyad_table(study), expected)
    assert pickle.loads(entry.read_bytes()).equals(expected)  # and kept again, whole


def test_a_failed_write_leaves_no_entry_and_no_temporary_file(study, memo_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise pickle.PicklingError("no")

    monkeypatch.setattr(memo.pickle, "dump", refuse)
    expected = survey.scale_table(study)
    assert list(memo_dir.iterdir()) == []
    with memo_off():
        assert_same(survey.scale_table(study), expected)


def test_a_folder_that_cannot_be_written_to_is_no_error(study, memo_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(memo.tempfile, "mkstemp", refuse)
    with memo_off():
        expected = survey.headline_table(study, 0.05)
    assert_same(survey.headline_table(study, 0.05), expected)
    assert list(memo_dir.iterdir()) == []


def test_kernels_computing_one_key_at_once_agree(study, memo_dir):
    results = [None] * 4

    def work(i):
        results[i] = interviews.coded_segments(study)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with memo_off():
        expected = interviews.coded_segments(study)
    for result in results:
        assert_same(result, expected)
    assert [p.name.startswith("coded_segments-") for p in memo_dir.iterdir()] == [True]


def test_off_without_the_variable_or_a_folder(study, tmp_path, monkeypatch):
    calls = []

    @memo.memoised
    def table(study, n=1):
        calls.append(n)
        return pd.DataFrame({"n": [n]})

    monkeypatch.delenv(memo.ENV, raising=False)
    table(study), table(study)
    monkeypatch.setenv(memo.ENV, str(tmp_path / "absent"))
    table(study), table(study)
    assert calls == [1, 1, 1, 1]
    assert not (tmp_path / "absent").exists()


def test_an_argument_it_cannot_key_runs_unmemoised(study, memo_dir):
    calls = []

    @memo.memoised
    def table(study, thing=None):
        calls.append(thing)
        return pd.DataFrame({"n": [1]})

    thing = object()
    table(study, thing), table(study, thing)
    assert calls == [thing, thing]
    assert list(memo_dir.iterdir()) == []
    with pytest.raises(memo.Unkeyable):
        memo.canonical(object())


def test_the_study_digest_sees_definitions_and_index(study):
    digest = memo.study_digest(study)
    assert memo.study_digest(dataclasses.replace(study)) == digest
    renamed = dataclasses.replace(study, config={**study.config, "outcomes": []})
    assert memo.study_digest(renamed) != digest
    inst = study.instruments[0]
    relabelled = dataclasses.replace(inst, title=inst.title + " (edited)")
    edited = dataclasses.replace(study, instruments=[relabelled, *study.instruments[1:]])
    assert memo.study_digest(edited) != digest
    shifted = dataclasses.replace(study, scores=study.scores.set_axis(study.scores.index + 1))
    assert memo.study_digest(shifted) != digest


def test_the_study_digest_is_the_same_in_another_process(demo_study):
    # the kernels of a run are separate processes, each with its own string-hash seed
    code = (
        "from research.analysis.memo import study_digest\n"
        "from research.inputs.study import read_study\n"
        f"print(study_digest(read_study({str(DEMO)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == memo.study_digest(demo_study)


def test_a_saved_study_read_back_has_the_same_digest_in_another_process(demo_study, tmp_path):
    # what the kernels of a run do: each reads the processed folder the run wrote
    from research.inputs.study import Study

    demo_study.save(tmp_path / "processed")
    here = memo.study_digest(Study.load(tmp_path / "processed"))
    code = (
        "from research.analysis.memo import study_digest\n"
        "from research.inputs.study import Study\n"
        f"print(study_digest(Study.load({str(tmp_path / 'processed')!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == here


def test_dates_are_keyed():
    assert memo.canonical(datetime.date(2026, 1, 2)) != memo.canonical(datetime.date(2026, 2, 1))


def test_object_cells_of_another_kind_change_the_digest():
    text = pd.DataFrame({"x": pd.Series(["1", "2"], dtype=object)})
    numbers = pd.DataFrame({"x": pd.Series([1, 2], dtype=object)})
    assert memo.frame_digest(text) != memo.frame_digest(numbers)


def test_the_order_of_categories_changes_the_digest():
    low_first = pd.DataFrame({"x": pd.Categorical(["a", "b"], categories=["a", "b"], ordered=True)})
    high_first = low_first.assign(x=low_first["x"].cat.reorder_categories(["b", "a"]))
    assert memo.frame_digest(low_first) != memo.frame_digest(high_first)


def test_a_run_gives_its_kernels_a_memo_folder_and_removes_it(demo_copy, tmp_path, monkeypatch):
    from research.run import pipeline

    seen = {}

    class Pool:
        def __init__(self, size, cwd, env=None, **kwargs):
            seen["env"] = env

        def __enter__(self):
            folder = seen["folder"] = pipeline.Path(seen["env"][memo.ENV])
            seen["existed"] = folder.is_dir() and not any(folder.iterdir())
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, *args, **kwargs):
            (seen["folder"] / "entry.pickle").write_bytes(b"")
            raise RuntimeError("a notebook failed")

    monkeypatch.setattr(pipeline, "KernelPool", Pool)
    with pytest.raises(RuntimeError, match="a notebook failed"):
        pipeline.run(demo_copy, out=tmp_path / "r", processed=tmp_path / "p", progress=None)
    assert seen["existed"]
    assert str(seen["folder"]).startswith(tempfile.gettempdir())
    assert not seen["folder"].exists()


def text(values, dtype="str"):
    return pd.DataFrame({"x": pd.array(values, dtype=dtype)})


def test_equal_frames_share_a_digest_however_they_were_made():
    whole = pd.DataFrame({"x": pd.array(["a", "bc", None, "d"], dtype="str"), "n": [1, 2, 3, 4]})
    halves = pd.concat([whole.iloc[:2], whole.iloc[2:]], ignore_index=True)  # two Arrow chunks
    assert halves["x"].array.__arrow_array__().num_chunks == 2
    sliced = whole.iloc[1:].reset_index(drop=True)  # an Arrow slice of the whole
    assert sliced["x"].array.__arrow_array__().chunk(0).offset == 1
    fresh = pd.DataFrame({"x": pd.array(["bc", None, "d"], dtype="str"), "n": [2, 3, 4]})
    assert memo.frame_digest(halves) == memo.frame_digest(whole)
    assert memo.frame_digest(sliced) == memo.frame_digest(fresh)
    assert memo.frame_digest(whole.copy()) == memo.frame_digest(whole)


def test_text_is_hashed_cell_by_cell():
    digest = memo.frame_digest
    assert digest(text(["ab", "c"])) != digest(text(["a", "bc"]))
    assert digest(text(["a", None])) != digest(text(["a", ""]))
    assert digest(text(["a", None])) != digest(text([None, "a"]))
    assert digest(text(["a", "b"])) != digest(text(["a", "b"], dtype="string"))
    long = "x" * 300  # lengths past one byte
    assert digest(text([long, "y"])) != digest(text([long + "y", ""]))
    assert digest(text([long, "y"])) == digest(text([long, "y"]))


def test_empty_text_columns_are_keyed_however_stored():
    import pyarrow as pa

    no_chunk = pa.chunked_array([], type=pa.large_string())
    stored = pd.DataFrame({"x": pd.arrays.ArrowStringArray(no_chunk)})
    assert memo.frame_digest(stored) == memo.frame_digest(text([], dtype="string"))
    assert memo.frame_digest(text([])) != memo.frame_digest(text([""]))


def test_what_lies_under_a_missing_text_cell_is_not_hashed():
    import pyarrow as pa

    # "ab" then "c", the first marked missing: the same as [None, "c"] however it is stored
    offsets = pa.py_buffer(np.array([0, 2, 3], dtype=np.int64).tobytes())
    validity = pa.py_buffer(bytes([0b10]))
    stored = pa.Array.from_buffers(
        pa.large_string(), 2, [validity, offsets, pa.py_buffer(b"abc")], null_count=1
    )
    frame = pd.DataFrame({"x": pd.arrays.ArrowStringArray(pa.chunked_array([stored]))})
    assert frame["x"].isna().tolist() == [True, False]
    assert memo.frame_digest(frame) == memo.frame_digest(text([None, "c"], dtype="string"))


def test_numbers_dates_and_other_columns_are_keyed():
    digest = memo.frame_digest
    base = pd.DataFrame(
        {
            "n": [1.0, 2.0],
            "b": [True, False],
            "d": pd.to_datetime(["2026-01-01", "2026-01-02"]),
            "i": pd.array([1, None], dtype="Int64"),
            "o": pd.Series(["a", 1], dtype=object),
        }
    )
    assert digest(base) == digest(base.copy())
    for column, other in [
        ("n", [1.0, 2.5]),
        ("b", [True, True]),
        ("d", pd.to_datetime(["2026-01-01", "2026-01-03"])),
        ("i", pd.array([1, 2], dtype="Int64")),
        ("o", pd.Series(["a", 2], dtype=object)),
    ]:
        assert digest(base.assign(**{column: other})) != digest(base), column
    assert digest(base["n"]) != digest(base["n"].rename("m"))


def test_an_index_of_labels_is_keyed():
    frame = pd.DataFrame({"x": [1, 2]}, index=["a", "b"])
    assert memo.frame_digest(frame) == memo.frame_digest(frame.copy())
    assert memo.frame_digest(frame) != memo.frame_digest(frame.set_axis(["a", "c"]))
    assert memo.frame_digest(frame) != memo.frame_digest(frame.reset_index(drop=True))


def test_unhashable_cells_are_unkeyable():
    with pytest.raises(memo.Unkeyable):
        memo.frame_digest(pd.DataFrame({"x": pd.Series([[1], [2]], dtype=object)}))


def test_column_names_and_index_labels_of_another_type_are_another_frame():
    import pandas as pd

    from research.analysis.memo import frame_digest

    assert frame_digest(pd.DataFrame({1: [1.0]})) != frame_digest(pd.DataFrame({"1": [1.0]}))
    as_numbers = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([1, "b"], dtype=object))
    as_text = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["1", "b"], dtype=object))
    assert frame_digest(as_numbers) != frame_digest(as_text)
