"""A saved model scored with NumPy, for runs small enough not to need an SQL engine.

Splink runs a prediction as a pipeline of SQL statements, each built, parsed and checked
with sqlglot and then planned and executed by the engine, after parsing every comparison
level when the linker is made. That fixed cost is paid by every run whatever its size, and
on a small run it is most of the time (docs/linkage.md has the measurements). Where the
agreement's saved model is reused (a quarter's run after the first) nothing is trained,
and the same model is evaluated here on arrays instead:

* the candidate pairs of every prediction blocking rule of the settings (equi-joins on
  their ``l.x = r.y`` terms, exploding the list columns a rule names, the rest of the rule
  as a filter; ``l.record_key < r.record_key`` as in Splink's dedupe), and the
  filter-blocking pairs the agreement allows, each pair once;
* each comparison's level from the settings' own level SQL (parsed once with sqlglot, as
  Splink does, and evaluated over the pairs with SQL's three-valued logic), first match
  in Splink's order;
* each level's match weight as Splink computes it (``log2(m / u)``, m and u floored at
  its clamp, its default values for a level no training reached), the term-frequency
  adjustment of Splink 5 (``w * (log2 u_exact - log2 max(tf_l, tf_r, tf_min))``, term
  frequencies counted over the run's records), summed in Splink's order after the prior's
  weight, and the probability from the sum as Splink's SQL gives it.

The settings are those Splink would be given (model.with_parameters): one model, one set
of level SQL. tests/integration/test_compiled.py checks that the pairs and weights equal Splink's.
SQL this evaluator does not know raises NotCompilable, and the run goes through Splink.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, cast

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from splink.internals.comparison_level import (
    M_U_CLAMP_MIN,
    _default_m_values,
    _default_u_values,
)
from splink.internals.constants import LEVEL_NOT_OBSERVED_TEXT
from splink.internals.misc import prob_to_match_weight
from sqlglot import exp

from boldhub.arrowbuf import indices
from boldhub.errors import NotCompilable

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


# Candidate pairs beyond which a run goes through Splink after all: each level's arrays
# hold every pair at once (about 100 bytes a pair at the peak), where Splink's DuckDB
# pipeline would spill to disk.
MAX_PAIRS = 20_000_000


# -- the model's weights -----------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    sql: str | None  # None: Splink's ELSE level
    weight: float  # log2 Bayes factor, 0 for the null level
    tf_column: str | None = None
    tf_weight: float = 0.0
    tf_min_u: float = 0.0
    log2_u_exact: float = 0.0


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[Level, ...]


def _probability(value: Any, default: float) -> float:
    """A level's m or u as Splink resolves it when scoring."""
    if value == LEVEL_NOT_OBSERVED_TEXT:
        return 1e-6
    if value is None:
        return default
    return float(value)


def comparisons(settings: dict[str, Any]) -> list[Comparison]:
    """The comparisons of Splink settings, each level with its weight as Splink gives it
    (its defaults are indexed by Splink's comparison vector value: n-1 ... 0)."""
    out = []
    for comparison in settings["comparisons"]:
        raw = comparison["comparison_levels"]
        n = sum(1 for lvl in raw if not lvl.get("is_null_level"))
        default_m, default_u = _default_m_values(n), _default_u_values(n)
        counter = n - 1
        levels = []
        for lvl in raw:
            sql = lvl["sql_condition"]
            if lvl.get("is_null_level"):
                levels.append(Level(sql, 0.0))
                continue
            gamma, counter = counter, counter - 1
            m = max(_probability(lvl.get("m_probability"), default_m[gamma]), M_U_CLAMP_MIN)
            u = max(_probability(lvl.get("u_probability"), default_u[gamma]), M_U_CLAMP_MIN)
            level = Level(None if sql.strip().upper() == "ELSE" else sql, math.log2(m / u))
            tf = lvl.get("tf_adjustment_column")
            tf_weight = float(lvl.get("tf_adjustment_weight", 1.0))
            if tf and tf_weight != 0 and level.sql is not None:
                # Splink takes u_exact from the level that is an exact match on the
                # column; ours adjust only that level itself.
                if _exact_column(level.sql) != tf:
                    raise NotCompilable(f"the {tf!r} adjustment is not on its exact level")
                u_exact = _probability(lvl.get("u_probability"), default_u[gamma])
                level = replace(
                    level,
                    tf_column=tf,
                    tf_weight=tf_weight,
                    tf_min_u=float(lvl.get("tf_minimum_u_value", 0.0)),
                    log2_u_exact=math.log2(u_exact),
                )
            levels.append(level)
        out.append(Comparison(comparison["output_column_name"], tuple(levels)))
    return out


def _exact_column(sql: str) -> str | None:
    tree = _parse(sql)
    if not isinstance(tree, exp.EQ):
        return None
    a, b = tree.this, tree.expression
    if (
        isinstance(a, exp.Column)
        and isinstance(b, exp.Column)
        and a.name.endswith("_l")
        and b.name == a.name[:-2] + "_r"
    ):
        return a.name[:-2]
    return None


@lru_cache(maxsize=1024)
def _parse(sql: str) -> exp.Expression:
    # Level and rule SQL is fixed by the model's code: parsed once per process.
    try:
        tree = cast(exp.Expression, sqlglot.parse_one(sql, read="duckdb"))
    except sqlglot.errors.ParseError as exc:
        raise NotCompilable(f"cannot parse {sql[:80]!r}") from exc
    return tree


# -- the records as arrays ---------------------------------------------------------------


@dataclass
class Column:
    """One column of the records: ``ids`` (tokens and text, one dictionary for the run so
    that columns compare with each other), ``num`` (numbers) or ``lists`` of ids."""

    kind: str  # "ids", "num" or "list"
    values: npt.NDArray[Any]  # ids (int64, -1 null) / numbers / list values (ids)
    null: Bools
    offsets: Ints | None = None  # lists: values[offsets[i]:offsets[i + 1]]


def _list_values(arr: pa.ListArray) -> pa.Array:
    """A list array's items as its offsets index them (null lists included)."""
    offsets = arr.offsets
    first, last = offsets[0].as_py(), offsets[len(arr)].as_py()
    return arr.values.slice(first, last - first)


class Records:
    """The run's records (an Arrow table with ``record_key``) as NumPy columns."""

    def __init__(self, table: pa.Table, needed: set[str]) -> None:
        self.n = table.num_rows
        self.keys = table.column("record_key").combine_chunks()
        # Splink's dedupe compares record keys as text (l.record_key < r.record_key).
        order = pc.sort_indices(self.keys).to_numpy()
        self.rank = np.empty(self.n, dtype=np.int64)
        self.rank[order] = np.arange(self.n, dtype=np.int64)
        self.columns: dict[str, Column] = {}
        texts: list[tuple[str, pa.Array]] = []
        for name in table.column_names:
            if name not in needed:
                continue
            arr = table.column(name).combine_chunks()
            if pa.types.is_string(arr.type) or pa.types.is_list(arr.type):
                texts.append((name, arr))
            elif pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
                null = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
                values = arr.fill_null(0).to_numpy(zero_copy_only=False)
                self.columns[name] = Column("num", values, null)
        # One dictionary over every text value of every column (scalars and list items).
        flat = [_list_values(a) if pa.types.is_list(a.type) else a for _, a in texts]
        everything = pa.chunked_array([f.cast(pa.string()) for f in flat], pa.string())
        encoded = pc.dictionary_encode(everything.combine_chunks() if flat else pa.array([]))
        self.dictionary = encoded.dictionary
        ids = indices(encoded)
        start = 0
        for (name, arr), f in zip(texts, flat, strict=True):
            part = ids[start : start + len(f)]
            start += len(f)
            null = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
            if pa.types.is_list(arr.type):
                offsets = np.asarray(arr.offsets.to_numpy(), dtype=np.int64)
                offsets = offsets - offsets[0]
                self.columns[name] = Column("list", part, null, offsets)
            else:
                self.columns[name] = Column("ids", part, null)

    def text_id(self, value: str) -> int:
        found = pc.index(self.dictionary, pa.scalar(value, pa.string())).as_py()
        return int(found) if found is not None and found >= 0 else -2

    def column(self, name: str) -> Column:
        found = self.columns.get(name)
        if found is None:
            raise NotCompilable(f"no column {name!r} in the records")
        return found


# -- SQL over pairs, with three-valued logic ---------------------------------------------


@dataclass
class Val:
    """A value per pair: ``kind`` "bool", "num", "ids" or "list" (``rows`` and the list
    column: the record each pair's list is read from); ``null`` where SQL has NULL."""

    kind: str
    data: Any
    null: Bools
    rows: Ints | None = None
    col: Column | None = None


class Pairs:
    def __init__(self, records: Records, left: Ints, right: Ints) -> None:
        self.records, self.left, self.right = records, left, right

    def side(self, name: str, table: str | None) -> tuple[Column, Ints]:
        if table in ("l", "r"):
            return self.records.column(name), (self.left if table == "l" else self.right)
        for suffix, rows in (("_l", self.left), ("_r", self.right)):
            if name.endswith(suffix):
                return self.records.column(name[: -len(suffix)]), rows
        raise NotCompilable(f"column {name!r} is not of the left or the right record")

    def eval(self, node: exp.Expression) -> Val:
        n = len(self.left)
        none = np.zeros(n, dtype=np.bool_)
        if isinstance(node, exp.Paren):
            return self.eval(node.this)
        if isinstance(node, exp.Column):
            col, rows = self.side(node.name, node.table or None)
            if col.kind == "list":
                return Val("list", None, col.null[rows], rows, col)
            return Val(col.kind, col.values[rows], col.null[rows])
        if isinstance(node, exp.Literal):
            if node.is_string:
                return Val("ids", np.full(n, self.records.text_id(node.this)), none)
            return Val("num", np.full(n, float(node.this)), none)
        if isinstance(node, exp.Boolean):
            return Val("bool", np.full(n, bool(node.this)), none)
        if isinstance(node, exp.Null):
            return Val("num", np.zeros(n), ~none)
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            return Val("bool", self.eval(node.this).null.copy(), none)
        if isinstance(node, exp.Not):
            v = self.eval(node.this)
            return Val("bool", ~v.data, v.null)
        if isinstance(node, exp.And):
            a, b = self.eval(node.this), self.eval(node.expression)
            false = (~a.data & ~a.null) | (~b.data & ~b.null)
            return Val("bool", a.data & b.data & ~a.null & ~b.null, ~false & (a.null | b.null))
        if isinstance(node, exp.Or):
            a, b = self.eval(node.this), self.eval(node.expression)
            true = (a.data & ~a.null) | (b.data & ~b.null)
            return Val("bool", true, ~true & (a.null | b.null))
        if isinstance(node, exp.ArrayOverlaps):
            a, b = self.eval(node.this), self.eval(node.expression)
            if a.kind != "list" or b.kind != "list" or a.col is None or b.col is None:
                raise NotCompilable("list_has_any of something other than two list columns")
            assert a.rows is not None and b.rows is not None and a.col.offsets is not None
            assert b.col.offsets is not None
            hit = _overlaps(
                a.col.values, a.col.offsets, a.rows, b.col.values, b.col.offsets, b.rows
            )
            return Val("bool", hit, a.null | b.null)
        compare = _COMPARE.get(type(node))
        if compare is not None:
            a, b = self.eval(node.this), self.eval(node.expression)
            # Text is held as ids: only equality between two texts means what SQL means.
            if "ids" in (a.kind, b.kind) and (
                a.kind != b.kind or not isinstance(node, (exp.EQ, exp.NEQ))
            ):
                raise NotCompilable(f"cannot compare {node.sql()[:80]!r}")
            return Val("bool", compare(a.data, b.data), a.null | b.null)
        arith = _ARITH.get(type(node))
        if arith is not None:
            a, b = self.eval(node.this), self.eval(node.expression)
            if a.kind != "num" or b.kind != "num":
                raise NotCompilable(f"cannot evaluate {node.sql()[:80]!r}")
            with np.errstate(divide="ignore", invalid="ignore"):
                return Val("num", arith(a.data, b.data), a.null | b.null)
        if isinstance(node, exp.BitwiseXor):
            a, b = self.eval(node.this), self.eval(node.expression)
            return Val("num", np.bitwise_xor(a.data, b.data), a.null | b.null)
        if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.INTEGER_TYPES):
            v = self.eval(node.this)
            return Val("num", v.data.astype(np.int64), v.null)
        if isinstance(node, exp.Anonymous) and node.name.lower() == "bit_count":
            v = self.eval(node.expressions[0])
            # Two's complement bits, as the engines count them (NumPy's own bitwise_count
            # would count the absolute value's).
            data = np.asarray(v.data)
            if data.dtype.kind == "i":
                data = data.view(np.dtype(f"u{data.dtype.itemsize}"))
            return Val("num", np.bitwise_count(data).astype(np.int64), v.null)
        raise NotCompilable(f"cannot evaluate {node.sql()[:80]!r}")

    def condition(self, sql: str) -> Bools:
        """Where ``sql`` is true (NULL counts as false, as in CASE WHEN and WHERE)."""
        v = self.eval(_parse(sql))
        if v.kind != "bool":
            raise NotCompilable(f"{sql[:80]!r} is not a condition")
        return np.asarray(v.data & ~v.null, dtype=np.bool_)


_COMPARE: dict[type, Callable[[Any, Any], Bools]] = {
    exp.EQ: np.equal,
    exp.NEQ: np.not_equal,
    exp.GT: np.greater,
    exp.GTE: np.greater_equal,
    exp.LT: np.less,
    exp.LTE: np.less_equal,
}
_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    exp.Add: np.add,
    exp.Sub: np.subtract,
    exp.Mul: np.multiply,
    # DuckDB's / divides as floating point, integers included.
    exp.Div: lambda a, b: np.true_divide(np.asarray(a, np.float64), np.asarray(b, np.float64)),
}


@numba.njit(cache=True, nogil=True)
def _overlaps(
    va: Ints, oa: Ints, ra: Ints, vb: Ints, ob: Ints, rb: Ints
) -> Bools:  # pragma: no cover - compiled
    out = np.zeros(len(ra), dtype=np.bool_)
    for p in range(len(ra)):
        i, j = ra[p], rb[p]
        for x in range(oa[i], oa[i + 1]):
            v = va[x]
            if v < 0:
                continue
            for y in range(ob[j], ob[j + 1]):
                if vb[y] == v:
                    out[p] = True
                    break
            if out[p]:
                break
    return out


# -- blocking ------------------------------------------------------------------------------


def _keys(records: Records, names: list[str], explode: bool) -> tuple[Ints, Ints]:
    """(record, key) rows of the key formed by ``names`` (ids; a list column exploded);
    records with a null part have no row."""
    if explode:
        if len(names) != 1:
            raise NotCompilable("an exploded rule with more than one join column")
        col = records.column(names[0])
        if col.kind != "list" or col.offsets is None:
            raise NotCompilable(f"{names[0]!r} is not a list column")
        rows = np.repeat(np.arange(records.n, dtype=np.int64), np.diff(col.offsets))
        keep = col.values >= 0
        return rows[keep], col.values[keep]
    key = np.zeros(records.n, dtype=np.int64)
    valid = np.ones(records.n, dtype=np.bool_)
    width = len(records.dictionary) + 1
    for name in names:
        col = records.column(name)
        if col.kind != "ids":
            raise NotCompilable(f"join column {name!r} is not a token column")
        if len(names) > 1 and width ** len(names) >= 2**62:
            raise NotCompilable("too many distinct values to combine join columns")
        key = key * width + col.values
        valid &= col.values >= 0
    rows = np.flatnonzero(valid).astype(np.int64)
    return rows, key[rows]


def _equi_join(lrows: Ints, lkey: Ints, rrows: Ints, rkey: Ints) -> tuple[Ints, Ints]:
    order = np.argsort(rkey, kind="stable")
    rkey, rrows = rkey[order], rrows[order]
    lo = np.searchsorted(rkey, lkey, side="left")
    hi = np.searchsorted(rkey, lkey, side="right")
    counts = hi - lo
    left = np.repeat(lrows, counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    right = rrows[starts + np.arange(len(left), dtype=np.int64)]
    return left, right


def _group_pairs(rows: Ints, keys: Ints, rank: Ints) -> tuple[Ints, Ints]:
    """Every pair of two different records with one key (``rows``, ``keys`` sorted by
    key), each once, ordered so that the left record's key text sorts first."""
    if len(keys) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    bounds = np.append(np.flatnonzero(np.diff(keys, prepend=keys[0] - 1)), len(keys))
    sizes = np.diff(bounds)
    return _pairs_within(rows, bounds, rank, int((sizes * (sizes - 1) // 2).sum()))


@numba.njit(cache=True, nogil=True)
def _pairs_within(
    rows: Ints, bounds: Ints, rank: Ints, total: int
) -> tuple[Ints, Ints]:  # pragma: no cover - compiled
    left = np.empty(total, dtype=np.int64)
    right = np.empty(total, dtype=np.int64)
    p = 0
    for g in range(len(bounds) - 1):
        for a in range(bounds[g], bounds[g + 1]):
            for b in range(a + 1, bounds[g + 1]):
                x, y = rows[a], rows[b]
                if x == y:
                    continue
                if rank[x] < rank[y]:
                    left[p], right[p] = x, y
                else:
                    left[p], right[p] = y, x
                p += 1
    return left[:p], right[:p]


def _split_rule(tree: exp.Expression) -> tuple[list[tuple[str, str]], list[exp.Expression]]:
    """A conjunction as its ``l.x = r.y`` join terms and the rest."""
    terms: list[exp.Expression] = []

    def walk(node: exp.Expression) -> None:
        if isinstance(node, exp.And):
            walk(node.this)
            walk(node.expression)
        elif isinstance(node, exp.Paren) and isinstance(node.this, exp.And):
            walk(node.this)
        else:
            terms.append(node)

    walk(tree)
    joins, rest = [], []
    for term in terms:
        inner = term.this if isinstance(term, exp.Paren) else term
        if isinstance(inner, exp.EQ):
            a, b = inner.this, inner.expression
            if isinstance(a, exp.Column) and isinstance(b, exp.Column):
                sides = {a.table: a.name, b.table: b.name}
                if set(sides) == {"l", "r"}:
                    joins.append((sides["l"], sides["r"]))
                    continue
        rest.append(term)
    if not joins:
        raise NotCompilable("a blocking rule without an l.x = r.y term")
    return joins, rest


@lru_cache(maxsize=256)
def _rule_parts(rule: str) -> tuple[tuple[tuple[str, str], ...], str | None, frozenset[str]]:
    """A blocking rule's join terms, the rest as one condition (None: nothing else), and
    the columns that rest reads."""
    joins, rest = _split_rule(_parse(rule))
    condition = " AND ".join(f"({term.sql(dialect='duckdb')})" for term in rest) or None
    read = frozenset(c.name for term in rest for c in term.find_all(exp.Column))
    return tuple(joins), condition, read


def blocked_pairs(
    settings: dict[str, Any], records: Records, filter_pairs: pa.Table | None, allowed: str
) -> tuple[Ints, Ints]:
    """Every candidate pair once, as row numbers (left's record key < right's)."""
    n = records.n
    # Pairs found, by the condition they must also meet: rules usually share one (the
    # agreement's allowed source pairs), which is then evaluated once over their union.
    found: dict[str | None, list[Ints]] = {}
    for rule in settings["blocking_rules_to_generate_predictions"]:
        exploded = set(rule.get("arrays_to_explode") or [])
        joins, rest, read = _rule_parts(rule["blocking_rule"])
        lnames, rnames = [j[0] for j in joins], [j[1] for j in joins]
        if exploded & read:
            raise NotCompilable("an exploded column outside the rule's join terms")
        explode = bool(exploded & (set(lnames) | set(rnames)))
        lrows, lkey = _keys(records, lnames, explode)
        if lnames == rnames:
            # A self-join (most rules): pairs within each group of one key.
            order = np.argsort(lkey, kind="stable")
            left, right = _group_pairs(lrows[order], lkey[order], records.rank)
        else:
            left, right = _equi_join(lrows, lkey, *_keys(records, rnames, explode))
            keep = records.rank[left] < records.rank[right]
            left, right = left[keep], right[keep]
        found.setdefault(rest, []).append(left * n + right)
    if filter_pairs is not None and filter_pairs.num_rows:
        li = indices(pc.index_in(filter_pairs.column("record_key_l"), value_set=records.keys))
        ri = indices(pc.index_in(filter_pairs.column("record_key_r"), value_set=records.keys))
        found.setdefault(allowed, []).append(li * n + ri)
    kept = []
    for condition, parts in found.items():
        codes = np.unique(np.concatenate(parts))
        if condition is not None and len(codes):
            codes = codes[Pairs(records, codes // n, codes % n).condition(condition)]
        kept.append(codes)
    codes = np.unique(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)
    return codes // n, codes % n


# -- scoring -------------------------------------------------------------------------------


def predict(
    settings: dict[str, Any],
    table: pa.Table,
    filter_pairs: pa.Table | None,
    allowed: str,
    threshold_match_probability: float,
    involving: Bools | None = None,
) -> pa.Table:
    """Splink's predictions for ``table`` (record_key_l, record_key_r, source_l, source_r,
    match_weight, match_probability) at or above the threshold. With ``involving`` (a mask
    over the table's rows), only pairs with at least one of those records: what Splink's
    predict_between (others x them) and predict_within (them) give together."""
    model = comparisons(settings)
    records = Records(table, _columns_read(settings, allowed))
    left, right = blocked_pairs(settings, records, filter_pairs, allowed)
    if involving is not None:
        keep = involving[left] | involving[right]
        left, right = left[keep], right[keep]
    if len(left) > MAX_PAIRS:
        raise NotCompilable(f"{len(left):,} candidate pairs: more than NumPy should hold")
    pairs = Pairs(records, left, right)
    prior = prob_to_match_weight(float(settings["probability_two_random_records_match"]))
    total = np.full(len(left), prior)
    for comparison in model:
        weight = np.zeros(len(left), dtype=np.float64)
        todo = np.ones(len(left), dtype=np.bool_)
        tf_terms = []
        for level in comparison.levels:
            hit = todo if level.sql is None else todo & pairs.condition(level.sql)
            weight[hit] = level.weight
            todo &= ~hit
            if level.tf_column is not None:
                tf_terms.append((level, hit))
        total += weight
        for level, hit in tf_terms:
            assert level.tf_column is not None
            tf = _term_frequencies(records.column(level.tf_column))
            ids = records.column(level.tf_column).values
            tl = np.where(ids[left] >= 0, tf[np.maximum(ids[left], 0)], np.nan)
            tr = np.where(ids[right] >= 0, tf[np.maximum(ids[right], 0)], np.nan)
            a, b = np.where(np.isnan(tl), tr, tl), np.where(np.isnan(tr), tl, tr)
            present = hit & ~np.isnan(a)
            most = np.maximum(np.maximum(a, b), level.tf_min_u)
            with np.errstate(divide="ignore", invalid="ignore"):
                adj = level.tf_weight * (level.log2_u_exact - np.log2(most))
            total += np.where(present, adj, 0.0)
    floor = prob_to_match_weight(threshold_match_probability)
    keep = total >= floor
    mw = total[keep]
    with np.errstate(over="ignore"):
        p = np.where(mw >= 0, 1.0 / (1.0 + np.exp2(-mw)), np.exp2(mw) / (1.0 + np.exp2(mw)))
    li, ri = pa.array(left[keep]), pa.array(right[keep])
    source = table.column("source").combine_chunks()
    return pa.table(
        {
            "record_key_l": records.keys.take(li),
            "record_key_r": records.keys.take(ri),
            "source_l": source.take(li),
            "source_r": source.take(ri),
            "match_weight": pa.array(mw),
            "match_probability": pa.array(p),
        }
    )


def _columns_read(settings: dict[str, Any], allowed: str) -> set[str]:
    """The records' columns that the settings' SQL (and ``allowed``) reads."""
    sqls = [
        allowed,
        *(r["blocking_rule"] for r in settings["blocking_rules_to_generate_predictions"]),
    ]
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level["sql_condition"].strip().upper() != "ELSE":
                sqls.append(level["sql_condition"])
            if level.get("tf_adjustment_column"):
                sqls.append(level["tf_adjustment_column"])
    names: set[str] = set()
    for sql in sqls:
        names |= _columns_of(sql)
    return names


@lru_cache(maxsize=1024)
def _columns_of(sql: str) -> frozenset[str]:
    """The record columns one condition reads (``x_l``, ``x_r``, ``l.x``: ``x``)."""
    names = set()
    for col in _parse(sql).find_all(exp.Column):
        name = col.name
        if not col.table and name.endswith(("_l", "_r")):
            name = name[:-2]
        names.add(name)
    return frozenset(names)


def _term_frequencies(col: Column) -> Floats:
    """Per id, its share of the column's non-null values (Splink's tf table)."""
    valid = col.values[col.values >= 0]
    counts = np.bincount(valid, minlength=int(col.values.max(initial=-1)) + 1)
    return np.asarray(counts / max(len(valid), 1), dtype=np.float64)
