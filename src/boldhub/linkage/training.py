"""Unsupervised training of the model over encodings (Splink 5's EM).

Names, sex and the postcode's scoped levels get their u from one EM session within the
date-of-birth blocking (``_name_u``);
every other u comes from random sampling, and m from EM on two blockings.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from splink import Linker
from splink.internals.blocking_rule_creator import BlockingRuleCreator

# Splink 5 exports no exception types; EMTrainingException (a rule that finds no pairs)
# derives from this one.
from splink.internals.exceptions import SplinkException

from boldhub.linkage import model

log = logging.getLogger("boldhub.linkage")
# Every EM session of ours: m without term frequencies, on at most EM_MAX_PAIRS pairs.
_EM: dict[str, Any] = {"estimate_without_term_frequencies": True, "max_pairs": model.EM_MAX_PAIRS}


def train(records: Any, settings: dict[str, Any], *, seed: int = 1) -> Linker:
    """Unsupervised training; returns the trained linker.

    1. The name comparisons (null unless the pair shares a salt, i.e. a date of birth:
       model.SAME_SALT) get u from one EM session blocked on the date of birth with u
       free. Random sampling cannot give it: among pairs of one date of birth a large
       share are the same person (a person's records share it), so "random" pairs that
       agree on a name are mostly true matches. full_name's u are counted over pairs of
       one postcode scope (``_full_name_u``). Those u are then fixed.
    2. lambda from deterministic rules, every other u by random sampling, and m by EM on
       the two training blockings (model.TRAINING_BLOCKING_RULES), or, for one that finds
       no pairs in this data, the first fallback that does
       (model.FALLBACK_TRAINING_RULES).
    """
    names = _name_u(records, settings)
    linker = Linker(records, with_fixed_u(settings, names), log_level=None, validate_settings=False)
    linker.training.estimate_probability_two_random_records_match(
        list(model.DETERMINISTIC_RULES), recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    trained = 0
    for rule in (*model.TRAINING_BLOCKING_RULES, *model.FALLBACK_TRAINING_RULES):
        # Two sessions on different identifiers are enough: the fallbacks only stand in
        # for a default rule that found nothing to train on.
        if trained == len(model.TRAINING_BLOCKING_RULES):
            break
        if em_session(linker, rule, **_EM):
            trained += 1
    if trained == 0:
        log.warning("no EM session converged; scoring with starting m values")
    _borrow_parameters(linker)
    return linker


def _trained(value: Any) -> bool:
    # Splink's getters answer a default for a level no session saw; only a float that a
    # session (or a fixed value) set is worth copying.
    return isinstance(value, float)


def _borrow_parameters(linker: Linker) -> None:
    """Levels no EM session can see take their parameters from levels that say the same
    of other pairs:

    * the postcode scope's level (model.POSTCODE_SCOPE) the exact postcode's m: a true
      pair lives at one postcode as often whether its dates of birth agree or not;
    * the postcode under one number (model.NUMBER_POSTCODE) the exact postcode's m and u;
    * number_names the exact forename's and surname's, as independent agreements, each
      held within [1 - NAME_M_MAX, NAME_M_MAX] for m: data whose true pairs never vary a
      name would otherwise give "one name agrees" an m of 0, a veto on any true pair of
      one number whose surname changed. A name not known on a side weighs nothing."""
    held: Any = linker._settings_obj  # Splink internals: no public setter for one level
    levels = {
        (c.output_column_name, lvl.label_for_charts): lvl
        for c in held.comparisons
        for lvl in c.comparison_levels
    }
    exact = levels.get(("postcode", model.EXACT_POSTCODE))
    if exact is not None and _trained(exact._m_probability):
        levels["postcode", model.POSTCODE_SCOPE].m_probability = exact.m_probability
        if _trained(exact._u_probability):
            number = levels["postcode", model.NUMBER_POSTCODE]
            number.m_probability, number.u_probability = exact.m_probability, exact.u_probability
    fn, sn = levels.get(("forename", "exact forename")), levels.get(("surname", "exact surname"))
    if fn is None or sn is None or ("number_names", model.BOTH_NAMES) not in levels:
        return
    for attr, low, high in (("m", 1 - NAME_M_MAX, NAME_M_MAX), ("u", 0.0, 1.0)):
        raw = [getattr(lvl, f"_{attr}_probability") for lvl in (fn, sn)]
        if not all(_trained(v) for v in raw):
            continue
        a, b = (min(max(v, low), high) for v in raw)
        both, one = a * b, a * (1 - b) + b * (1 - a)
        for label, value in (
            (model.BOTH_NAMES, both),
            (model.ONE_NAME, one),
            (model.NAME_UNKNOWN, 0.5),
            ("All other comparisons", 1.0 - both - one),
        ):
            setattr(levels["number_names", label], f"{attr}_probability", value)


# The most an exact name's m is taken to be when number_names borrows it: at least 1% of
# true pairs are taken to differ in a name (as SLIP_M is a prior for numbers).
NAME_M_MAX = 0.99


def em_session(linker: Linker, rule: str | BlockingRuleCreator, **options: Any) -> bool:
    """One EM session on ``rule``; False, with the linker's model as it was, when Splink
    refuses it.

    Splink 5 (5.0.x) hands its own model to the session, which drops the comparisons the
    rule blocks on before it can fail: a refused session would leave the linker scoring
    without them (an empty match weight). So the model is copied first and put back."""
    held: Any = linker._settings_obj  # Splink internals: no public way to do this
    before = held.core_model_settings.copy()
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, **options)
        return True
    except (ValueError, SplinkException) as exc:
        held.core_model_settings = before
        # The rule finds no pairs (the identifier is absent), or on small inputs a level
        # is unobserved among the blocked pairs and Splink 5 refuses the m = 0 that EM
        # then estimates: the next rule's session stands in.
        log.warning("EM session skipped", extra={"blocking_rule": rule, "reason": _reason(exc)})
        return False


def _reason(exc: Exception) -> str:
    """The first line of Splink's message (the rest is advice for Splink's own users)."""
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


# The smallest u a name level gets from the names' EM session: below it EM has seen too
# few non-matching pairs at that level to say more than "rare" (an exact name then weighs
# at most about 12 bits, as much as an exact date of birth among a few thousand).
MIN_NAME_U = 1e-4


def _name_u(records: Any, settings: dict[str, Any]) -> dict[tuple[str, str], float]:
    """(comparison, level label) -> u of the levels seen only within a scope (see
    ``train``): the name comparisons' (and model.SCOPED_LEVELS) from an EM session on the
    date-of-birth blocking with u estimated too; full_name's counted (``_full_name_u``)."""
    linker = Linker(records, settings, log_level=None, validate_settings=False)
    linker.training.estimate_probability_two_random_records_match(
        list(model.DETERMINISTIC_RULES), recall=0.7
    )
    found: dict[tuple[str, str], float] = {}
    if em_session(linker, model.TRAINING_BLOCKING_RULES[0], fix_u_probabilities=False, **_EM):
        for comparison in linker.misc.save_model_to_json()["comparisons"]:
            name = comparison["output_column_name"]
            for level in comparison["comparison_levels"]:
                key = (name, level["label_for_charts"])
                if name not in model.SCOPED_COMPARISONS and key not in model.SCOPED_LEVELS:
                    continue
                u = level.get("u_probability")
                # A u that EM drove to (nearly) zero says only that no non-matching pair
                # of this blocking showed the level (few non-matches share a date of birth
                # in a small input): cap the evidence such a level can give instead.
                if isinstance(u, float):
                    found[key] = max(u, MIN_NAME_U)
    return found | _full_name_u(linker, records.physical_name)


def _full_name_u(linker: Linker, records: str) -> dict[tuple[str, str], float]:
    """u of full_name's levels, counted over the pairs of one postcode scope whose dates
    of birth are scoped apart (the pairs it compares):

    * a name known by its initial only: its share of all of them (it says nothing of
      who is who: 0.45 of two-people pairs and 0.51 of one-person pairs in the hard
      profile's labels);
    * the same full name: its share among those of them whose NHS or NI numbers are both
      known and differ (two people, whatever their names) and whose full names are both
      known. EM with u free cannot give it: most pairs of one scope are one person, and
      it took some of them for two (u 0.04 on the hard profile, 0.0008 by its labels);
      nor can pairs whose dates share nothing (a date defaulted to 1 January shares only
      its year with the true one)."""
    two_people = (
        "((l.nhs_tok <> r.nhs_tok AND NOT COALESCE(l.ni_tok = r.ni_tok, FALSE)) "
        "OR (l.ni_tok <> r.ni_tok AND NOT COALESCE(l.nhs_tok = r.nhs_tok, FALSE)))"
    )
    known = "l.pc_name_tok IS NOT NULL AND r.pc_name_tok IS NOT NULL"
    rows = linker.misc.query_sql(  # type: ignore[no-untyped-call]
        f"""
        SELECT
            SUM(CASE WHEN l.pc_name_tok IS NULL OR r.pc_name_tok IS NULL THEN 1 ELSE 0 END)
                AS initials,
            COUNT(*) AS pairs,
            SUM(CASE WHEN {two_people} AND {known} THEN 1 ELSE 0 END) AS apart,
            SUM(CASE WHEN {two_people} AND l.pc_name_tok = r.pc_name_tok THEN 1 ELSE 0 END)
                AS apart_same
        FROM {records} l JOIN {records} r
            ON l.pc_tok = r.pc_tok AND l.record_key < r.record_key
        WHERE NOT COALESCE(l.salt_tok = r.salt_tok, FALSE)
        """,
        output_type="pandas",
    ).iloc[0]
    pairs, apart = _count(rows["pairs"]), _count(rows["apart"])
    if pairs == 0:
        return {}
    # Smoothed: a small input's few pairs must not make the share 0 or 1.
    initials = (_count(rows["initials"]) + 1) / (pairs + 2)
    share = _count(rows["apart_same"]) / apart if apart >= MIN_COUNTED_PAIRS else SAME_NAME_U
    same = share * (1.0 - initials)
    return {
        ("full_name", "same full name, dates of birth differ"): max(same, MIN_NAME_U),
        ("full_name", model.FULL_NAME_INITIALS): max(initials, MIN_NAME_U),
        ("full_name", "All other comparisons"): max(1.0 - same - initials, MIN_NAME_U),
    }


def _count(value: Any) -> int:
    # A SUM over no rows is NULL, which pandas gives as NaN.
    return 0 if value is None or value != value else int(value)


# Fewer counted pairs of two people than this say too little of how often they share a
# full name: it takes SAME_NAME_U.
MIN_COUNTED_PAIRS = 100
# Two people of one postcode and initials with one full name, where too few pairs with
# known numbers say how often: a prior, as SLIP_M is (the hard profile's labels: 0.0008).
SAME_NAME_U = 1e-3


def with_fixed_u(settings: dict[str, Any], values: dict[tuple[str, str], float]) -> dict[str, Any]:
    """``settings`` with the given levels' u set and fixed against later training."""
    out = copy.deepcopy(settings)
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            found = values.get((comparison["output_column_name"], level["label_for_charts"]))
            if found is not None:
                level["u_probability"] = found
                level["fix_u_probability"] = True
    return out
