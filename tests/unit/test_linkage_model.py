"""The model's SQL over 64-bit filter words: portable, and equal to Dice computed directly."""

from __future__ import annotations

import sys

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from boldhub.errors import ModelMismatch, UserError
from boldhub.linkage import model
from boldhub.linkage.backends import open_backend
from boldhub.linkage.records import filter_words


def _filters(rng: np.random.Generator, n: int, nbytes: int) -> list[bytes | None]:
    out: list[bytes | None] = [
        rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes() for _ in range(n)
    ]
    out[3] = None
    return out


def test_filter_words_keep_every_bit_and_null() -> None:
    rng = np.random.default_rng(1)
    filters = _filters(rng, 20, 64)
    words, count = filter_words(pa.chunked_array([pa.array(filters[:7]), pa.array(filters[7:])]))
    assert count == 8
    for row, f in enumerate(filters):
        got = [w[row].as_py() for w in words]
        if f is None:
            assert got == [None] * 8
        else:
            back = np.array(got, dtype="<i8").tobytes()
            assert back == f


def test_dice_sql_equals_dice_from_hamming() -> None:
    rng = np.random.default_rng(2)
    a, b = _filters(rng, 10, 64), _filters(rng, 10, 64)
    wa, _ = filter_words(pa.chunked_array([pa.array(a)]))
    wb, _ = filter_words(pa.chunked_array([pa.array(b)]))
    cols = {f"x_w{i}_l": wa[i] for i in range(8)} | {f"x_w{i}_r": wb[i] for i in range(8)}
    cols |= {"x_pop_l": pa.array([200] * 10), "x_pop_r": pa.array([250] * 10)}
    table = pa.table(cols)
    con = duckdb.connect()
    con.register("t", table)
    got = [r[0] for r in con.execute(f"SELECT {model.dice_sql('x', 8)} FROM t").fetchall()]
    for i in range(10):
        if a[i] is None or b[i] is None:
            assert got[i] is None
            continue
        ham = int(
            np.unpackbits(np.frombuffer(a[i], np.uint8) ^ np.frombuffer(b[i], np.uint8)).sum()
        )  # type: ignore[arg-type]
        assert got[i] == pytest.approx(1 - ham / 450)


def test_spark_dialect_uses_spark_functions() -> None:
    sql = model.dice_sql("fn_bf", 2, "spark")
    assert "^" in sql and "xor(" not in sql and "bit_count" in sql
    comparison = model.forename_comparison(8, "spark").get_comparison("spark")
    text = str(comparison.as_dict())
    assert "arrays_overlap" in text and "list_has_any" not in text


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(UserError, match=r"boldhub\[spark\]"):
        open_backend("spark")


def test_a_vanishing_m_is_held_at_splinks_floor_not_refused() -> None:
    """EM drives the m of a level no true pair shows towards zero; Splink 5 would abandon
    the training session at the first value under 1e-300 (linkage/splink_compat.py)."""
    import math

    from splink.internals.comparison_level import ComparisonLevel

    from boldhub.linkage import splink_compat

    splink_compat.install()
    from splink.internals.dialects import SplinkDialect

    level = ComparisonLevel("a_l = a_r", SplinkDialect.from_string("duckdb"))
    level.m_probability = 5.8e-305
    assert level.m_probability == splink_compat.FLOOR
    level.u_probability = 0.25
    level.u_probability = math.nan  # a 0/0 EM step: keep what was there
    assert level.u_probability == 0.25
    level.m_probability = 0.5
    assert level.m_probability == 0.5


def test_a_saved_model_is_matched_by_label_and_refused_when_levels_differ() -> None:
    saved = model.settings_dict(8, "duckdb")
    for comparison in saved["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                level["m_probability"], level["u_probability"] = 0.3, 0.01
                level["sql_condition"] = "rewritten by Splink"
    saved["probability_two_random_records_match"] = 0.001
    out = model.with_parameters(model.settings_dict(8, "spark"), saved)
    assert out["probability_two_random_records_match"] == 0.001
    dob = next(c for c in out["comparisons"] if c["output_column_name"] == "dob")
    assert dob["comparison_levels"][1]["m_probability"] == 0.3
    assert "rewritten" not in str(out["comparisons"])  # SQL comes from the current model
    assert "bit_count((fn_bf_w0_l ^ fn_bf_w0_r))" in str(out["comparisons"]).replace('"', "")
    surname = next(c for c in saved["comparisons"] if c["output_column_name"] == "surname")
    surname["comparison_levels"].pop()
    with pytest.raises(ModelMismatch, match="surname"):
        model.with_parameters(model.settings_dict(8, "duckdb"), saved)
