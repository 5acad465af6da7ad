"""The Fellegi-Sunter model over encodings, written as Splink 5 settings.

Splink compares columns with SQL; our columns are keyed tokens (compared for equality)
and Bloom filters (compared by Dice similarity, ``2|A & B| / (|A| + |B|)``, computed from
the Hamming distance and the unmasked weights that packages carry as ``*_pop`` columns).
Every comparison lists its levels in its description, strongest first, as Splink's own
comparisons do.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Literal

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from boldhub.errors import ModelMismatch
from boldhub.linkage import splink_compat
from boldhub.linkage.records import PC_SCOPE_COPY
from boldhub.privacy.encoding import NUMBER_SCOPES

splink_compat.install()

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
    # No term-frequency adjustment on names: they are salted, so a token's frequency mixes
    # the name's with the date of birth's, and within one date of birth it is mostly the
    # frequency of one person's own records.
    level = cll.CustomLevel(sql, label)
    if tf_column:
        level.configure(tf_adjustment_column=tf_column, tf_adjustment_weight=1.0)
    return level


# Names are salted with the date of birth (privacy/encoding.py): their tokens and filters
# only compare for pairs of one salt (same day and month, in either order). So the name
# comparisons are null for every other pair, and their u values are those of same-salt
# pairs: were they estimated over all pairs, "same forename" would carry the agreement of
# the salt too, and count the date of birth twice (a shared forename and birthday
# outweighed a different surname and postcode). Pairs salted apart compare names through
# ``full_name`` (an unsalted bucket of the full name, and the initials).
SAME_SALT = "(salt_tok_l IS NOT NULL AND salt_tok_r IS NOT NULL AND salt_tok_l = salt_tok_r)"
# Labels of levels that training reads or sets by name (training.py).
SWAPPED = "names swapped"
FULL_NAME_INITIALS = "a name known by its initial only"
BOTH_NAMES = "both names agree"
ONE_NAME = "one name agrees"
NAME_UNKNOWN = "a name not known on a side"
EXACT_POSTCODE = "exact postcode"
POSTCODE_SCOPE = "same postcode and initials, other date of birth"
NUMBER_POSTCODE = "same postcode under one number"
# Tokens scoped by the postcode (with the initials) compare only for pairs of one scope.
# ``full_name`` reads the scope through a copy of ``pc_tok`` (records.load_records adds
# it): Splink leaves out of an EM session every comparison that reads a column of the
# session's blocking rule, and full_name must be trained in the session blocked on the
# postcode scope, the only pairs it compares (the postcode comparison, which reads
# ``pc_tok`` itself, is rightly left out there: every pair of it agrees).
OTHER_POSTCODE = (
    f"({PC_SCOPE_COPY}_l IS NULL OR {PC_SCOPE_COPY}_r IS NULL "
    f"OR {PC_SCOPE_COPY}_l <> {PC_SCOPE_COPY}_r)"
)


def forename_comparison(words: int = 8, dialect: Dialect = "duckdb") -> cl.CustomComparison:
    """Levels, for pairs of one salt: exact token, names swapped (each forename is the
    other's surname), same nickname family, Dice >= 0.85,
    Dice >= 0.65, one side holds an initial only and it agrees, names differ but the
    initial agrees, else."""
    return cl.CustomComparison(
        [
            _null(f"fn_init_tok_l IS NULL OR fn_init_tok_r IS NULL OR NOT {SAME_SALT}"),
            _level("fn_tok_l = fn_tok_r", "exact forename"),
            # Names entered the wrong way round on one side: each forename is the other's
            # surname (``fn_as_sn_tok`` is the forename in the surname's domain). Without
            # it a swapped pair met "else" here while the surname saw the swap.
            _level("fn_as_sn_tok_l = sn_tok_r AND sn_tok_l = fn_as_sn_tok_r", SWAPPED),
            _level(_list_overlap("fn_alias_toks_l", "fn_alias_toks_r", dialect), "nickname family"),
            _level(f"{dice_sql('fn_bf', words, dialect)} >= {DICE_HIGH}", f"Dice >= {DICE_HIGH}"),
            _level(f"{dice_sql('fn_bf', words, dialect)} >= {DICE_LOW}", f"Dice >= {DICE_LOW}"),
            _level(
                "(fn_tok_l IS NULL OR fn_tok_r IS NULL) AND fn_init_tok_l = fn_init_tok_r",
                "initial only, agrees",
            ),
            _level("fn_init_tok_l = fn_init_tok_r", "same initial"),
            cll.ElseLevel(),
        ],
        output_column_name="forename",
    )


def surname_comparison(words: int = 8, dialect: Dialect = "duckdb") -> cl.CustomComparison:
    """Levels, for pairs of one salt: exact token, Dice >= 0.85, Dice >= 0.65, names
    swapped (entered surname-first on one side), one side holds an initial only and it
    agrees, names differ but the initial agrees, else."""
    return cl.CustomComparison(
        [
            _null(f"sn_init_tok_l IS NULL OR sn_init_tok_r IS NULL OR NOT {SAME_SALT}"),
            _level("sn_tok_l = sn_tok_r", "exact surname"),
            _level(f"{dice_sql('sn_bf', words, dialect)} >= {DICE_HIGH}", f"Dice >= {DICE_HIGH}"),
            _level(f"{dice_sql('sn_bf', words, dialect)} >= {DICE_LOW}", f"Dice >= {DICE_LOW}"),
            _level(
                "fn_as_sn_tok_l = sn_tok_r OR sn_tok_l = fn_as_sn_tok_r",
                "names swapped: one's surname is the other's forename",
            ),
            _level(
                "(sn_tok_l IS NULL OR sn_tok_r IS NULL) AND sn_init_tok_l = sn_init_tok_r",
                "initial only, agrees",
            ),
            _level("sn_init_tok_l = sn_init_tok_r", "same initial"),
            cll.ElseLevel(),
        ],
        output_column_name="surname",
    )


def full_name_comparison() -> cl.CustomComparison:
    """Levels, for pairs of one postcode scope (one postcode, the same initials) whose
    names are scoped apart by the date of birth (dates differ, or one is missing; null
    for every other pair): same full name (either name order), a name known by its
    initial only on one side, else (the initials agree, the names differ)."""
    return cl.CustomComparison(
        [
            _null(f"{SAME_SALT} OR {OTHER_POSTCODE}"),
            _level("pc_name_tok_l = pc_name_tok_r", "same full name, dates of birth differ"),
            # A forename or surname known by its initial only (NDTMS holds initials) has
            # no full-name token; the scope says its initials agree, which is all it has.
            _level("pc_name_tok_l IS NULL OR pc_name_tok_r IS NULL", FULL_NAME_INITIALS),
            # Else: one postcode scope holds the initials, so they agree.
            cll.ElseLevel(),
        ],
        output_column_name="full_name",
    )


# No NHS or NI number shared (strictly true or false: a missing number is not shared).
NO_SHARED_NUMBER = " AND ".join(
    f"({n}_tok_l IS NULL OR {n}_tok_r IS NULL OR {n}_tok_l <> {n}_tok_r)" for n in NUMBER_SCOPES
)


def _under_number(template: str) -> str:
    return " OR ".join(f"({template.format(n=n)})" for n in NUMBER_SCOPES)


def number_names_comparison() -> cl.CustomComparison:
    """Levels, for pairs that share an NHS or NI number and whose names are scoped apart
    by the date of birth and by the postcode (null for every other pair: the name
    comparisons and full_name weigh those): both names agree under the number (either
    order), one agrees, a name not known on a side (no weight), else. Its m and u are
    the exact forename's and surname's, taken as independent (training.train): a name
    agrees by chance as often whatever scope shows it."""
    both = "{n}_fn_tok_l = {n}_fn_tok_r AND {n}_sn_tok_l = {n}_sn_tok_r"
    swapped = "{n}_fn_tok_l = {n}_sn_tok_r AND {n}_sn_tok_l = {n}_fn_tok_r"
    one = (
        "{n}_fn_tok_l = {n}_fn_tok_r OR {n}_sn_tok_l = {n}_sn_tok_r "
        "OR {n}_fn_tok_l = {n}_sn_tok_r OR {n}_sn_tok_l = {n}_fn_tok_r"
    )
    unknown = (
        "{n}_tok_l = {n}_tok_r AND ("
        + " OR ".join(f"{{n}}_{c}_tok_{side} IS NULL" for c in ("fn", "sn") for side in ("l", "r"))
        + ")"
    )
    return cl.CustomComparison(
        [
            _null(f"({NO_SHARED_NUMBER}) OR {SAME_SALT} OR NOT {OTHER_POSTCODE}"),
            _level(f"{_under_number(both)} OR {_under_number(swapped)}", BOTH_NAMES),
            _level(_under_number(one), ONE_NAME),
            # A name missing or given by its initial only (NDTMS) has no token under the
            # number: nothing to compare, so no weight (m = u, training.train).
            _level(_under_number(unknown), NAME_UNKNOWN),
            cll.ElseLevel(),
        ],
        output_column_name="number_names",
    )


# The comparisons scoped by the date of birth, whose u comes from the session blocked on
# it (training.train).
SCOPED_COMPARISONS = ("forename", "surname", "sex")
# Levels of other comparisons scoped by the date of birth since scheme v5, whose u comes
# from that session too: random pairs almost never share a scope, so random sampling
# would give them a u near zero (a same district weighed as an identifier and merged
# people of one birthday).
SCOPED_LEVELS = frozenset(
    {
        ("postcode", EXACT_POSTCODE),
        ("postcode", "same sector"),
        ("postcode", "same district"),
    }
)

# Columns whose levels are term-frequency adjusted (their tables are computed per run).
TF_COLUMNS: tuple[str, ...] = ()


def dob_comparison(dialect: Dialect = "duckdb") -> cl.CustomComparison:
    """Levels: exact, day and month transposed (one scope, different dates), two of year,
    month and day (seen only for pairs of one postcode scope or one NHS or NI number,
    where the parts are keyed), else."""
    under_number = " OR ".join(
        _list_overlap(f"{n}_dob_toks_l", f"{n}_dob_toks_r", dialect) for n in NUMBER_SCOPES
    )
    return cl.CustomComparison(
        [
            _null("dob_tok_l IS NULL OR dob_tok_r IS NULL"),
            _level("dob_tok_l = dob_tok_r", "exact date of birth"),
            _level("salt_tok_l = salt_tok_r", "day/month swapped"),
            _level(
                "pc_dob_ym_tok_l = pc_dob_ym_tok_r OR pc_dob_md_tok_l = pc_dob_md_tok_r "
                f"OR pc_dob_yd_tok_l = pc_dob_yd_tok_r OR {under_number}",
                "two of year, month, day",
            ),
            cll.ElseLevel(),
        ],
        output_column_name="dob",
    )


def sex_comparison() -> cl.CustomComparison:
    """Levels, for pairs of one date-of-birth scope (where sex is keyed): same, else."""
    return cl.CustomComparison(
        [
            _null(f"sex_tok_l IS NULL OR sex_tok_r IS NULL OR NOT {SAME_SALT}"),
            _level("sex_tok_l = sex_tok_r", "same sex"),
            cll.ElseLevel(),
        ],
        output_column_name="sex",
    )


def postcode_comparison() -> cl.CustomComparison:
    """Levels: exact postcode, for pairs of one date-of-birth scope; for other pairs one
    postcode scope (the postcode and the initials); same sector, same district (keyed
    within a date-of-birth scope, so seen for pairs of one scope only), else."""
    return cl.CustomComparison(
        [
            _null(
                "(pc_tok_l IS NULL OR pc_tok_r IS NULL) "
                "AND (pc_unit_tok_l IS NULL OR pc_unit_tok_r IS NULL)"
            ),
            # Within a date-of-birth scope whatever the initials (the names' comparisons
            # weigh those). No term-frequency adjustment since v5: a token's frequency no
            # longer says how busy a postcode is (that is the point of the scope), and the
            # u comes from same-birthday pairs.
            _level("pc_unit_tok_l = pc_unit_tok_r", EXACT_POSTCODE),
            # Across date-of-birth scopes (dates differ or one is missing): one postcode
            # scope, the postcode and the initials. A global token, so random sampling
            # gives its u over all pairs, as a clear-text model's exact postcode gets it;
            # no EM session sees it (pairs of one date of birth take the level above), so
            # its m is the level above's (training.train). The names then compare
            # through full_name, whose u is taken given this level.
            _level("pc_tok_l = pc_tok_r", POSTCODE_SCOPE),
            # Pairs of one NHS or NI number, whose postcodes are keyed under it too (v6);
            # m and u are the exact postcode's (training.train).
            _level(_under_number("{n}_pc_tok_l = {n}_pc_tok_r"), NUMBER_POSTCODE),
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


# The share of true pairs whose identifiers are one keying slip apart, fixed rather than
# estimated: where numbers are validated at source (NHS numbers carry a check digit) true
# pairs almost never show it, EM drives its m towards zero, and Splink 5 refuses an m
# below 1e-300 by abandoning the whole training session. 1% is a cautious prior: it
# still makes a slip strong evidence against the u of a random near-miss.
SLIP_M = 0.01


def identifier_comparison(prefix: str, name: str, dialect: Dialect) -> cl.CustomComparison:
    """Levels: exact keyed token, one keying slip apart (a near token in common: see
    privacy/encoding.py ``deletions``), else (null when either side lacks it)."""
    return cl.CustomComparison(
        [
            _null(f"{prefix}_tok_l IS NULL OR {prefix}_tok_r IS NULL"),
            _level(f"{prefix}_tok_l = {prefix}_tok_r", f"same {name}"),
            _level(
                _list_overlap(f"{prefix}_near_toks_l", f"{prefix}_near_toks_r", dialect),
                f"{name} one slip apart",
            ).configure(m_probability=SLIP_M, fix_m_probability=True),
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
    # One date-of-birth scope (the exact date, or day and month transposed).
    "l.salt_tok = r.salt_tok",
    "l.pc_tok = r.pc_tok",
    "l.nhs_tok = r.nhs_tok",
    "l.ni_tok = r.ni_tok",
    "l.crn_tok = r.crn_tok",
)

# Rules over list columns, which Splink joins on after exploding the lists (one row per
# token). None since scheme v5: near tokens of numbers are keyed within a date-of-birth
# scope, so the scope's own rule already finds every pair that could share one.
EXPLODED: dict[str, list[str]] = {}

# Blocking on the filters themselves (linkage/dice.py filter_candidates): pairs of one
# salt (names comparable) whose names together reach this Dice, whatever their tokens.
# It finds what the keyed rules miss when both names carry typos and the year of birth
# differs; 0.8 keeps the extra pairs few (most pairs that reach it are true).
FILTER_BLOCKING_DICE = 0.8


def with_filter_pairs_sql(
    blocked: str, extra: str, records: str, allowed_pairs: SourcePairs | None
) -> str:
    """Splink's blocked pairs (``blocked``: match_key, join_key_l, join_key_r) plus the
    pairs of ``extra`` (record_key_l < record_key_r) that no rule found and that the
    agreement allows, under their own match_key (one past the rules')."""
    allowed = source_pairs_sql(allowed_pairs) if allowed_pairs is not None else "TRUE"
    key = sql_literal(str(len(PREDICTION_BLOCKING_RULES)))
    return f"""
        SELECT match_key, join_key_l, join_key_r FROM {blocked}
        UNION ALL
        SELECT {key} AS match_key, f.record_key_l AS join_key_l, f.record_key_r AS join_key_r
        FROM {extra} f
        JOIN {records} l ON l.record_key = f.record_key_l
        JOIN {records} r ON r.record_key = f.record_key_r
        WHERE {allowed} AND NOT EXISTS (
            SELECT 1 FROM {blocked} b
            WHERE b.join_key_l = f.record_key_l AND b.join_key_r = f.record_key_r
        )
    """


# EM sessions: one blocked on the date of birth (the name comparisons, which need a shared
# salt, and every other comparison but the date's), one on the postcode alone (the date
# of birth, and ``full_name``, which only pairs salted apart reach). EM leaves out every
# comparison that reads a blocking column, so the second rule is not narrowed by names;
# a busy postcode's pairs are bounded by sampling (EM_MAX_PAIRS).
TRAINING_BLOCKING_RULES: tuple[str, ...] = (
    "l.dob_tok = r.dob_tok",
    "l.pc_tok = r.pc_tok",
)
# Where one of those finds no pairs (a file without dates of birth, or whose postcodes
# could not be standardised), EM trains on the next of these that does, so that every
# comparison still has a session that does not block on it (training.train).
FALLBACK_TRAINING_RULES: tuple[str, ...] = (
    "l.nhs_tok = r.nhs_tok",
    "l.ni_tok = r.ni_tok",
    "l.crn_tok = r.crn_tok",
    "l.salt_tok = r.salt_tok",
)

# Upper bound on the blocked pairs one EM session trains on (Splink samples records to
# stay near it): a postcode shared by thousands of records must not fill the disk.
EM_MAX_PAIRS = 2e6

DETERMINISTIC_RULES: tuple[str, ...] = (
    "l.dob_tok = r.dob_tok AND l.sn_tok = r.sn_tok AND l.fn_tok = r.fn_tok",
    "l.nhs_tok = r.nhs_tok",
)


SourcePairs = frozenset[tuple[str, str]]


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def source_pairs_sql(allowed: SourcePairs) -> str:
    """Which pairs of records may be compared: always two records of one source
    (deduplication); across sources only the pairs the agreement allows. Each side of an
    allowed pair names a dataset (``probation``) or a source (``homelessness:E08000025``)."""
    terms = ["l.source = r.source"]
    for a, b in sorted(allowed):
        for x, y in ((a, b), (b, a)):
            terms.append(
                f"((l.source = {sql_literal(x)} OR l.dataset = {sql_literal(x)}) AND "
                f"(r.source = {sql_literal(y)} OR r.dataset = {sql_literal(y)}))"
            )
    return "(" + " OR ".join(terms) + ")"


def settings(
    words: int = 8, dialect: Dialect = "duckdb", allowed_pairs: SourcePairs | None = None
) -> SettingsCreator:
    """The model for filters of ``words`` 64-bit words, in the SQL of ``dialect``; with
    ``allowed_pairs``, only those pairs of sources (and pairs within a source) are scored."""
    rules = list(PREDICTION_BLOCKING_RULES)
    explode = [EXPLODED.get(r) for r in rules]
    if allowed_pairs is not None:
        rules = [f"({r}) AND {source_pairs_sql(allowed_pairs)}" for r in rules]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=[
            forename_comparison(words, dialect),
            surname_comparison(words, dialect),
            full_name_comparison(),
            number_names_comparison(),
            dob_comparison(dialect),
            sex_comparison(),
            postcode_comparison(),
            identifier_comparison("nhs", "nhs_number", dialect),
            identifier_comparison("ni", "ni_number", dialect),
            justice_comparison(),
        ],
        blocking_rules_to_generate_predictions=[
            block_on_sql(r, e) for r, e in zip(rules, explode, strict=True)
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["source"],
    )


def settings_dict(
    words: int = 8, dialect: Dialect = "duckdb", allowed_pairs: SourcePairs | None = None
) -> dict[str, Any]:
    """``settings(...)`` as the dictionary Splink takes (a fresh copy each call). Splink
    builds it by parsing every level's SQL (about 0.09 s for this model); the model is
    fixed by this module, so it is built once per process and arguments."""
    out: dict[str, Any] = json.loads(_settings_json(words, dialect, allowed_pairs))
    return out


@lru_cache(maxsize=32)
def _settings_json(words: int, dialect: Dialect, allowed_pairs: SourcePairs | None) -> str:
    return json.dumps(settings(words, dialect, allowed_pairs).create_settings_dict(dialect))


def block_on_sql(rule: str, explode: list[str] | None = None) -> BlockingRuleCreator:
    """A blocking rule written as SQL over ``l.`` and ``r.`` columns (``explode``: list
    columns to explode first)."""
    return CustomRule(rule, arrays_to_explode=explode)


_TRAINED_KEYS = ("m_probability", "u_probability", "tf_minimum_u_value")


def with_parameters(current: dict[str, Any], trained: dict[str, Any]) -> dict[str, Any]:
    """The settings ``current`` (settings_dict) carrying the parameters of a saved model
    ``trained`` (Splink's model JSON): lambda, and m and u of every level.

    Levels are matched by comparison and label, not by SQL: Splink rewrites the SQL it
    saves, and a model trained on one backend must score on another. Everything else
    (blocking rules, allowed pairs, filter width) comes from ``current``, so a saved model
    cannot smuggle in old rules."""
    saved = {c["output_column_name"]: c for c in trained.get("comparisons", [])}
    for comparison in current["comparisons"]:
        name = comparison["output_column_name"]
        if name not in saved:
            raise ModelMismatch(f"the saved model has no {name!r} comparison")
        levels = {lvl["label_for_charts"]: lvl for lvl in saved[name]["comparison_levels"]}
        for level in comparison["comparison_levels"]:
            old = levels.get(level["label_for_charts"])
            if old is None:
                raise ModelMismatch(
                    f"the saved model's {name!r} comparison has no level "
                    f"{level['label_for_charts']!r}"
                )
            for key in _TRAINED_KEYS:
                if key in old:
                    level[key] = old[key]
        if len(levels) != len(comparison["comparison_levels"]):
            raise ModelMismatch(f"the saved model's {name!r} comparison has other levels")
    if len(saved) != len(current["comparisons"]):
        raise ModelMismatch("the saved model has other comparisons")
    current["probability_two_random_records_match"] = trained[
        "probability_two_random_records_match"
    ]
    return current
