"""The Fellegi-Sunter model over encodings, written as Splink 5 settings.

Splink compares columns with SQL; our columns are keyed tokens (compared for equality)
and Bloom filters (compared by Dice similarity, ``2|A & B| / (|A| + |B|)``, computed from
the Hamming distance and the unmasked weights that packages carry as ``*_pop`` columns).
Every comparison lists its levels in its description, strongest first, as Splink's own
comparisons do.
"""

from __future__ import annotations

from typing import Literal

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator

DICE_HIGH = 0.85
DICE_LOW = 0.65


Dialect = Literal["duckdb", "spark"]

# Filters reach the engine as fixed 64-bit words (``fn_bf_w0``, ``fn_bf_w1``, ...; see
# run.py), which DuckDB and Spark both XOR and popcount natively: DuckDB's BIT type has no
# Spark counterpart, and integer words are faster than it in DuckDB too.
WORD_BITS = 64


def word_columns(col: str, words: int) -> list[str]:
    return [f"{col}_w{i}" for i in range(words)]


def _xor(a: str, b: str, dialect: Dialect) -> str:
    return f"xor({a}, {b})" if dialect == "duckdb" else f"({a} ^ {b})"


def hamming_sql(col: str, words: int, dialect: Dialect = "duckdb") -> str:
    """Hamming distance of two filters held as ``words`` 64-bit words."""
    return " + ".join(
        # DuckDB's bit_count returns a TINYINT, which a sum of words would overflow.
        f"CAST(bit_count({_xor(w + '_l', w + '_r', dialect)}) AS INT)"
        for w in word_columns(col, words)
    )


def dice_sql(col: str, words: int, dialect: Dialect = "duckdb") -> str:
    # Filters are XOR-masked per salt (privacy/encoding.py), so Dice comes from the Hamming
    # distance and the unmasked weights: 2|A & B| / (|A| + |B|) = 1 - |A ^ B| / (|A| + |B|).
    # Across salts the masks do not cancel and the value falls below every level.
    return f"(1.0 - ({hamming_sql(col, words, dialect)}) / ({col}_pop_l + {col}_pop_r))"


def _list_overlap(a: str, b: str, dialect: Dialect) -> str:
    return f"list_has_any({a}, {b})" if dialect == "duckdb" else f"arrays_overlap({a}, {b})"


def _null(sql: str) -> cll.CustomLevel:
    level = cll.CustomLevel(sql, "null")
    level.configure(is_null_level=True)
    return level


def _level(sql: str, label: str, tf_column: str | None = None) -> cll.CustomLevel:
    level = cll.CustomLevel(sql, label)
    if tf_column:
        level.configure(tf_adjustment_column=tf_column, tf_adjustment_weight=1.0)
    return level


def forename_comparison(words: int = 8, dialect: Dialect = "duckdb") -> cl.CustomComparison:
    """Levels: exact token (TF-adjusted), same nickname family, Dice >= 0.85,
    Dice >= 0.65, same initial (or one side holds an initial only), else.

    Names are salted with the date of birth (privacy/encoding.py): tokens and Dice levels
    only ever agree for pairs that share it (day and month in either order); other pairs
    reach "same initial" at best."""
    return cl.CustomComparison(
        [
            _null("fn_init_tok_l IS NULL OR fn_init_tok_r IS NULL"),
            _level("fn_tok_l = fn_tok_r", "exact forename", "fn_tok"),
            _level(_list_overlap("fn_alias_toks_l", "fn_alias_toks_r", dialect), "nickname family"),
            _level(f"{dice_sql('fn_bf', words, dialect)} >= {DICE_HIGH}", f"Dice >= {DICE_HIGH}"),
            _level(f"{dice_sql('fn_bf', words, dialect)} >= {DICE_LOW}", f"Dice >= {DICE_LOW}"),
            _level("fn_init_tok_l = fn_init_tok_r", "same initial"),
            cll.ElseLevel(),
        ],
        output_column_name="forename",
    )


def surname_comparison(words: int = 8, dialect: Dialect = "duckdb") -> cl.CustomComparison:
    """Levels: exact token (TF-adjusted), Dice >= 0.85, Dice >= 0.65, same initial, else
    (salted as the forename is)."""
    return cl.CustomComparison(
        [
            _null("sn_init_tok_l IS NULL OR sn_init_tok_r IS NULL"),
            _level("sn_tok_l = sn_tok_r", "exact surname", "sn_tok"),
            _level(f"{dice_sql('sn_bf', words, dialect)} >= {DICE_HIGH}", f"Dice >= {DICE_HIGH}"),
            _level(f"{dice_sql('sn_bf', words, dialect)} >= {DICE_LOW}", f"Dice >= {DICE_LOW}"),
            _level("sn_init_tok_l = sn_init_tok_r", "same initial"),
            cll.ElseLevel(),
        ],
        output_column_name="surname",
    )


def full_name_comparison() -> cl.CustomComparison:
    """Levels (only for pairs whose names are salted apart, i.e. whose dates of birth
    differ or are missing on one side; null otherwise): same full-name bucket, else."""
    return cl.CustomComparison(
        [
            _null(
                "name_bucket_tok_l IS NULL OR name_bucket_tok_r IS NULL "
                "OR (salt_tok_l IS NOT NULL AND salt_tok_r IS NOT NULL AND salt_tok_l = salt_tok_r) "
                "OR (salt_tok_l IS NULL AND salt_tok_r IS NULL)"
            ),
            _level(
                "name_bucket_tok_l = name_bucket_tok_r", "same full name, dates of birth differ"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="full_name",
    )


def dob_comparison() -> cl.CustomComparison:
    """Levels: exact, day and month transposed, two of year/month/day agree, else."""
    return cl.CustomComparison(
        [
            _null("dob_tok_l IS NULL OR dob_tok_r IS NULL"),
            _level("dob_tok_l = dob_tok_r", "exact date of birth"),
            _level("dob_swap_tok_l = dob_tok_r OR dob_tok_l = dob_swap_tok_r", "day/month swapped"),
            _level(
                "dob_ym_tok_l = dob_ym_tok_r OR dob_md_tok_l = dob_md_tok_r "
                "OR dob_yd_tok_l = dob_yd_tok_r",
                "two of year, month, day",
            ),
            cll.ElseLevel(),
        ],
        output_column_name="dob",
    )


def postcode_comparison() -> cl.CustomComparison:
    """Levels: exact postcode, same sector, same district, else."""
    return cl.CustomComparison(
        [
            _null("pc_district_tok_l IS NULL OR pc_district_tok_r IS NULL"),
            _level("pc_tok_l = pc_tok_r", "exact postcode"),
            _level("pc_sector_tok_l = pc_sector_tok_r", "same sector"),
            _level("pc_district_tok_l = pc_district_tok_r", "same district"),
            cll.ElseLevel(),
        ],
        output_column_name="postcode",
    )


def exact_comparison(col: str, name: str) -> cl.CustomComparison:
    """Levels: exact keyed token, else (null when either side lacks it)."""
    return cl.CustomComparison(
        [
            _null(f"{col}_l IS NULL OR {col}_r IS NULL"),
            _level(f"{col}_l = {col}_r", f"same {name}"),
            cll.ElseLevel(),
        ],
        output_column_name=name,
    )


def justice_comparison() -> cl.CustomComparison:
    """Levels: same CRN or PNC id, else (null unless both sides hold one of them)."""
    return cl.CustomComparison(
        [
            _null(
                "(crn_tok_l IS NULL OR crn_tok_r IS NULL) AND (pnc_tok_l IS NULL OR pnc_tok_r IS NULL)"
            ),
            _level("crn_tok_l = crn_tok_r OR pnc_tok_l = pnc_tok_r", "same justice id"),
            cll.ElseLevel(),
        ],
        output_column_name="justice_id",
    )


PREDICTION_BLOCKING_RULES: tuple[str, ...] = (
    "l.dob_tok = r.dob_tok",
    "l.dob_tok = r.dob_swap_tok",
    "l.dob_swap_tok = r.dob_tok",
    "l.sn_tok = r.sn_tok AND l.fn_init_tok = r.fn_init_tok",
    "l.pc_tok = r.pc_tok AND l.sn_init_tok = r.sn_init_tok",
    "l.dob_md_tok = r.dob_md_tok AND l.fn_init_tok = r.fn_init_tok AND l.sn_init_tok = r.sn_init_tok",
    "l.nhs_tok = r.nhs_tok",
    "l.ni_tok = r.ni_tok",
    "l.crn_tok = r.crn_tok",
)

# EM sessions: one blocked on the date of birth (estimates every other comparison), one
# independent of it (estimates the date of birth). The second blocks on postcode and both
# initials, not postcode alone: a busy postcode (or synthetic data with few of them) makes
# postcode alone propose hundreds of millions of pairs at a million records.
TRAINING_BLOCKING_RULES: tuple[str, ...] = (
    "l.dob_tok = r.dob_tok",
    # Postcode alone, so that the name comparisons are trained in this session too (EM
    # leaves out every comparison that reads a blocking column); at national scale the
    # pairs are bounded by sampling (EM_MAX_PAIRS), not by narrowing the rule.
    "l.pc_tok = r.pc_tok",
)

# Upper bound on the blocked pairs one EM session trains on (Splink samples records to
# stay near it): a postcode shared by thousands of records must not fill the disk.
EM_MAX_PAIRS = 2e7

DETERMINISTIC_RULES: tuple[str, ...] = (
    "l.dob_tok = r.dob_tok AND l.sn_tok = r.sn_tok AND l.fn_tok = r.fn_tok",
    "l.nhs_tok = r.nhs_tok",
)


SourcePairs = frozenset[tuple[str, str]]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def source_pairs_sql(allowed: SourcePairs) -> str:
    """Which pairs of records may be compared: always two records of one source
    (deduplication); across sources only the pairs the agreement allows. Each side of an
    allowed pair names a dataset (``probation``) or a source (``homelessness:E08000025``)."""
    terms = ["l.source = r.source"]
    for a, b in sorted(allowed):
        for x, y in ((a, b), (b, a)):
            terms.append(
                f"((l.source = {_literal(x)} OR l.dataset = {_literal(x)}) AND "
                f"(r.source = {_literal(y)} OR r.dataset = {_literal(y)}))"
            )
    return "(" + " OR ".join(terms) + ")"


def settings(
    words: int = 8, dialect: Dialect = "duckdb", allowed_pairs: SourcePairs | None = None
) -> SettingsCreator:
    """The model for filters of ``words`` 64-bit words, in the SQL of ``dialect``; with
    ``allowed_pairs``, only those pairs of sources (and pairs within a source) are scored."""
    rules = list(PREDICTION_BLOCKING_RULES)
    if allowed_pairs is not None:
        rules = [f"({r}) AND {source_pairs_sql(allowed_pairs)}" for r in rules]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=[
            forename_comparison(words, dialect),
            surname_comparison(words, dialect),
            full_name_comparison(),
            dob_comparison(),
            exact_comparison("sex_tok", "sex"),
            postcode_comparison(),
            exact_comparison("nhs_tok", "nhs_number"),
            exact_comparison("ni_tok", "ni_number"),
            justice_comparison(),
        ],
        blocking_rules_to_generate_predictions=[block_on_sql(r) for r in rules],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["source"],
    )


def block_on_sql(rule: str) -> BlockingRuleCreator:
    """A blocking rule written as SQL over ``l.`` and ``r.`` columns."""
    return CustomRule(rule)
