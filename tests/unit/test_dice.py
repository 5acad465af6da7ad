"""The compiled Dice kernels against a plain NumPy reference and the hub's own definition."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from boldhub.linkage.dice import dice_all_pairs, dice_pairs, filter_candidates
from boldhub.privacy.encoding import dice as hub_dice


def _filters(rng: np.random.Generator, n: int, words: int, density: float = 0.3) -> np.ndarray:
    bits = rng.random((n, words * 64)) < density
    return np.packbits(bits, axis=1).view("<u8").reshape(n, words)


def _pop(words: np.ndarray) -> np.ndarray:
    return np.bitwise_count(words).sum(axis=1).astype(np.int64)


def _near(rng: np.random.Generator, words: np.ndarray, flips: int) -> np.ndarray:
    """Copies of ``words`` with ``flips`` random bits toggled in each."""
    out = words.copy()
    bits = words.shape[1] * 64
    for row in out:
        for b in rng.choice(bits, flips, replace=False):
            row[b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    return out


def _reference(a, pa_, b, pb, threshold):
    i_all, j_all, s_all = [], [], []
    for i in range(len(a)):
        h = np.bitwise_count(a[i] ^ b).sum(axis=1).astype(np.int64)
        total = pa_[i] + pb
        score = np.array(
            [1.0 - hh / t if t else 0.0 for hh, t in zip(h, total, strict=True)], dtype=float
        )
        j = np.flatnonzero(score >= threshold)
        i_all.append(np.full(j.size, i))
        j_all.append(j)
        s_all.append(score[j])
    if not i_all:
        return np.empty(0, int), np.empty(0, int), np.empty(0)
    return np.concatenate(i_all), np.concatenate(j_all), np.concatenate(s_all)


def _assert_same(got, expected):
    assert len(got[0]) == len(expected[0])
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[2], expected[2])


@pytest.mark.parametrize("words", [1, 3, 8, 16, 17])
@pytest.mark.parametrize("threshold", [0.0, 0.6, 0.8, 0.95, 1.0])
def test_all_pairs_equals_reference(words: int, threshold: float) -> None:
    rng = np.random.default_rng(words)
    a = _filters(rng, 61, words)
    # Near-duplicates of some of a (a few bits apart), exact copies, and unrelated filters,
    # so that every threshold keeps some pairs and drops others.
    b = np.concatenate(
        [_near(rng, a[:20], 1 + words), a[20:25].copy(), _filters(rng, 18, words)], axis=0
    )
    got = dice_all_pairs(a, _pop(a), b, _pop(b), threshold)
    expected = _reference(a, _pop(a), b, _pop(b), threshold)
    _assert_same(got, expected)
    if threshold == 0.8:
        assert 5 <= len(got[0]) < a.shape[0] * b.shape[0]


def test_all_pairs_spans_several_cache_chunks() -> None:
    # Filters of 600 words fill the kernel's cache chunk with about 100 filters, so 300
    # filters are scanned in several chunks; the result must not depend on it.
    rng = np.random.default_rng(5)
    a = _filters(rng, 40, 600)
    b = np.concatenate([_filters(rng, 250, 600), _near(rng, a, 400)], axis=0)
    got = dice_all_pairs(a, _pop(a), b, _pop(b), 0.9)
    _assert_same(got, _reference(a, _pop(a), b, _pop(b), 0.9))
    assert set(zip(got[0].tolist(), got[1].tolist(), strict=True)) == {
        (i, 250 + i) for i in range(40)
    }


def test_signed_words_as_in_the_engine_tables() -> None:
    rng = np.random.default_rng(2)
    a = _filters(rng, 30, 8)
    b = _near(rng, a, 10)
    unsigned = dice_all_pairs(a, _pop(a), b, _pop(b), 0.7)
    signed = dice_all_pairs(a.view(np.int64), _pop(a), b.view(np.int64), _pop(b), 0.7)
    _assert_same(signed, unsigned)


def test_masking_keeps_dice_within_a_salt_and_breaks_it_across_salts() -> None:
    rng = np.random.default_rng(3)
    a = _filters(rng, 50, 8)
    b = _near(rng, a, 12)
    pa_, pb = _pop(a), _pop(b)
    plain = dice_all_pairs(a, pa_, b, pb, 0.8)
    assert len(plain[0]) >= 45  # the near-duplicates
    mask = _filters(rng, 1, 8, density=0.5)[0]
    same = dice_all_pairs(a ^ mask, pa_, b ^ mask, pb, 0.8)
    _assert_same(same, plain)
    other = _filters(rng, 1, 8, density=0.5)[0]
    crossed = dice_all_pairs(a ^ mask, pa_, b ^ other, pb, -10.0)
    assert len(crossed[0]) == a.shape[0] * b.shape[0]
    assert crossed[2].max() < 0.5  # far below the model's lowest Dice level (0.65)


def test_threshold_boundary_is_inclusive_and_exact() -> None:
    rng = np.random.default_rng(4)
    a = _filters(rng, 1, 8)
    b = _near(rng, a, 7)
    pa_, pb = _pop(a), _pop(b)
    score = 1.0 - 7 / (pa_[0] + pb[0])
    at = dice_all_pairs(a, pa_, b, pb, score)
    assert at[2].tolist() == [score]
    above = dice_all_pairs(a, pa_, b, pb, float(np.nextafter(score, 2.0)))
    assert len(above[0]) == 0


def test_empty_filters_score_zero_as_the_encoder_defines() -> None:
    zero = np.zeros((2, 4), dtype=np.uint64)
    pop = np.zeros(2, dtype=np.int64)
    assert dice_pairs(zero, pop, [0], [1]).tolist() == [0.0]
    assert len(dice_all_pairs(zero, pop, zero, pop, 0.5)[0]) == 0
    assert len(dice_all_pairs(zero, pop, zero, pop, 0.0)[0]) == 4


def test_empty_inputs() -> None:
    rng = np.random.default_rng(6)
    a = _filters(rng, 5, 8)
    none = np.empty((0, 8), dtype=np.uint64)
    for i, j, s in (
        dice_all_pairs(none, [], a, _pop(a), 0.5),
        dice_all_pairs(a, _pop(a), none, [], 0.5),
    ):
        assert len(i) == len(j) == len(s) == 0
    assert dice_pairs(a, _pop(a), [], []).size == 0


def test_dice_pairs_equals_the_encoder_definition() -> None:
    rng = np.random.default_rng(7)
    words = np.concatenate([_filters(rng, 40, 8), _near(rng, _filters(rng, 40, 8), 5)])
    mask = _filters(rng, 1, 8, density=0.5)[0]
    pop = _pop(words)
    masked = words ^ mask
    left = rng.integers(0, 80, 500)
    right = rng.integers(0, 80, 500)
    got = dice_pairs(masked.view(np.int64), pop, left, right)
    expected = [
        hub_dice(masked[i].tobytes(), masked[j].tobytes(), int(pop[i]), int(pop[j]))
        for i, j in zip(left, right, strict=True)
    ]
    assert got.tolist() == expected


def test_dice_pairs_rejects_bad_indices() -> None:
    words = np.zeros((3, 2), dtype=np.uint64)
    with pytest.raises(IndexError):
        dice_pairs(words, np.zeros(3), [0], [3])
    with pytest.raises(ValueError):
        dice_pairs(words, np.zeros(3), [0, 1], [1])


# --- filter_candidates -------------------------------------------------------------------


def _table(keys, salts, fn, sn, fn_masked, sn_masked, fn_valid, sn_valid, words):
    """The engine's table: masked filters as signed words, weights of the unmasked ones."""
    cols = {"record_key": pa.array(keys, pa.string()), "salt_tok": pa.array(salts, pa.string())}
    for prefix, plain, masked, valid in (
        ("fn", fn, fn_masked, fn_valid),
        ("sn", sn, sn_masked, sn_valid),
    ):
        signed = masked.view(np.int64)
        for k in range(words):
            cols[f"{prefix}_bf_w{k}"] = pa.array(np.ascontiguousarray(signed[:, k]), mask=~valid)
        cols[f"{prefix}_bf_pop"] = pa.array(_pop(plain).astype(np.int16), mask=~valid)
    return pa.table(cols)


def _population(rng, n, words, groups, masks_per_salt=True):
    """Records in ``groups`` salts; each salt masks its filters with its own mask. The
    second half of the records are near-duplicates of the first half; some of those are
    moved to another salt, where they must not be found."""
    half = n // 2
    fn = _filters(rng, half, words)
    sn = _filters(rng, half, words)
    fn = np.concatenate([fn, _near(rng, fn, 3)])
    sn = np.concatenate([sn, _near(rng, sn, 3)])
    salt = rng.integers(0, groups, half)
    salt = np.concatenate([salt, salt])
    moved = rng.random(n) < 0.2
    moved[:half] = False
    salt[moved] = (salt[moved] + 1) % groups
    fn_valid = rng.random(n) > 0.15
    sn_valid = rng.random(n) > 0.15
    masks = _filters(rng, groups, 2 * words, density=0.5)
    fn_masked = fn ^ masks[salt, :words]
    sn_masked = sn ^ masks[salt, words:]
    # Keys in no particular order, so that the left/right order is really decided.
    keys = [f"k{v:05d}" for v in rng.permutation(n)]
    salts = [f"s{g}" for g in salt]
    return keys, salts, fn, sn, fn_masked, sn_masked, fn_valid, sn_valid


def _reference_candidates(keys, salts, fn, sn, fn_valid, sn_valid, threshold):
    """Pairs by brute force over every pair of records, on the unmasked filters."""
    pf, ps = _pop(fn), _pop(sn)
    out = set()
    n = len(keys)
    for i in range(n):
        for j in range(i + 1, n):
            if salts[i] is None or salts[i] != salts[j]:
                continue
            h = total = 0
            shared = False
            if fn_valid[i] and fn_valid[j]:
                h += int(np.bitwise_count(fn[i] ^ fn[j]).sum())
                total += int(pf[i] + pf[j])
                shared = True
            if sn_valid[i] and sn_valid[j]:
                h += int(np.bitwise_count(sn[i] ^ sn[j]).sum())
                total += int(ps[i] + ps[j])
                shared = True
            if shared and (1.0 - h / total if total else 0.0) >= threshold:
                out.add((min(keys[i], keys[j]), max(keys[i], keys[j])))
    return out


def _pairs(table: pa.Table) -> set[tuple[str, str]]:
    return set(
        zip(
            table.column("record_key_l").to_pylist(),
            table.column("record_key_r").to_pylist(),
            strict=True,
        )
    )


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_filter_candidates_equals_brute_force(threshold: float) -> None:
    rng = np.random.default_rng(11)
    words = 8
    keys, salts, fn, sn, fn_m, sn_m, fv, sv = _population(rng, 400, words, groups=5)
    salts[3] = None  # a record without a salt compares with nobody
    table = _table(keys, salts, fn, sn, fn_m, sn_m, fv, sv, words)
    got = filter_candidates(table, words, threshold)
    assert got.schema.names == ["record_key_l", "record_key_r"]
    assert got.column("record_key_l").type == pa.string()
    left = got.column("record_key_l").to_pylist()
    right = got.column("record_key_r").to_pylist()
    assert all(lo < hi for lo, hi in zip(left, right, strict=True))
    assert len(set(zip(left, right, strict=True))) == len(left)
    expected = _reference_candidates(keys, salts, fn, sn, fv, sv, threshold)
    assert _pairs(got) == expected
    if threshold == 0.8:
        assert len(expected) > 50


def test_filter_candidates_finds_planted_duplicates_only_within_their_salt() -> None:
    rng = np.random.default_rng(12)
    words = 8
    keys, salts, fn, sn, fn_m, sn_m, fv, sv = _population(rng, 600, words, groups=7)
    fv[:] = True
    sv[:] = True
    table = _table(keys, salts, fn, sn, fn_m, sn_m, fv, sv, words)
    found = _pairs(filter_candidates(table, words, 0.85))
    half = 300
    salt_of = dict(zip(keys, salts, strict=True))
    assert all(salt_of[a] == salt_of[b] for a, b in found)
    for i in range(half):
        pair = (min(keys[i], keys[i + half]), max(keys[i], keys[i + half]))
        assert (pair in found) == (salts[i] == salts[i + half])
    # Nothing else is that close: random filters are far apart.
    assert len(found) == sum(salts[i] == salts[i + half] for i in range(half))


def test_filter_candidates_null_names() -> None:
    rng = np.random.default_rng(13)
    words = 4
    fn = _filters(rng, 1, words)
    sn = _filters(rng, 1, words)
    other_sn = _filters(rng, 1, words)
    fn6 = np.repeat(fn, 6, axis=0)
    sn6 = np.concatenate([sn, sn, sn, other_sn, sn, sn])
    # a: both names; b: forename only; c: surname only; d: same forename, other surname;
    # e: no names at all; f: surname only.
    fv = np.array([True, True, False, True, False, False])
    sv = np.array([True, False, True, True, False, True])
    keys = ["a", "b", "c", "d", "e", "f"]
    table = _table(keys, ["s"] * 6, fn6, sn6, fn6, sn6, fv, sv, words)
    found = _pairs(filter_candidates(table, words, 0.9))
    # a-b compare on the forename alone, a-c and c-f on the surname alone; b-c share no
    # name; d's other surname pulls it below the threshold with a but not with b (forename
    # only); e holds nothing to compare.
    assert found == {("a", "b"), ("a", "c"), ("a", "f"), ("c", "f"), ("b", "d")}


def test_filter_candidates_large_block_spans_several_cache_chunks() -> None:
    # 200-word filters: a block of 500 records is scanned in several chunks of tiles.
    rng = np.random.default_rng(14)
    words = 200
    keys, salts, fn, sn, fn_m, sn_m, fv, sv = _population(rng, 500, words, groups=1)
    table = _table(keys, salts, fn, sn, fn_m, sn_m, fv, sv, words)
    got = _pairs(filter_candidates(table, words, 0.9))
    assert got == _reference_candidates(keys, salts, fn, sn, fv, sv, 0.9)
    assert len(got) > 100


def test_filter_candidates_empty_and_single() -> None:
    rng = np.random.default_rng(15)
    words = 2
    keys, salts, fn, sn, fn_m, sn_m, fv, sv = _population(rng, 2, words, groups=1)
    table = _table(keys, salts, fn, sn, fn_m, sn_m, fv, sv, words)
    for t in (table.slice(0, 0), table.slice(0, 1)):
        out = filter_candidates(t, words, 0.5)
        assert out.num_rows == 0
        assert out.schema.names == ["record_key_l", "record_key_r"]
    assert filter_candidates(table, words, 0.5).num_rows == 1


@pytest.mark.parametrize("words", [2, 8, 16, 32])
def test_both_tile_kernels_give_the_exact_test(words: int) -> None:
    """The vector and the scalar-POPCNT tile kernels (one is chosen per CPU) admit exactly
    the filters within the bound, for two filters at a time, whether or not the early stop
    after half the words applies (near copies pass it, unrelated filters stop there)."""
    import llvmlite.binding as llvm_binding
    from numba import njit
    from numba.extending import intrinsic

    from boldhub.linkage import dice

    rng = np.random.default_rng(words)
    a = _filters(rng, 4, words)
    b = np.vstack([_near(rng, a, 3), _filters(rng, 12, words)])
    pa_, pb = _pop(a), _pop(b)
    tiles, tile_pop = dice._build_tiles(
        b.ravel(),
        words,
        0,
        words,
        np.arange(len(b)),
        pb,
        pb,
        1,
        0,
        np.empty(0, np.uint64),
        np.empty(0, np.int64),
    )
    limit = 0.25

    def passes(i: int, j: int) -> bool:
        return bool(_pop(a[i : i + 1] ^ b[j : j + 1])[0] <= limit * (pa_[i] + pb[j]))

    want = [
        sum(1 << (r * 8 + t) for r in range(2) for t in range(8) if passes(i + r, g * 8 + t))
        for i in (0, 2)
        for g in range(2)
    ]
    assert any(want) and not all(want)
    llvm_binding.initialize_native_asmparser()
    kernels = {
        "vector": dice._jit(dice._tile_mask2_vector_py),
        "scalar": intrinsic(dice._tile_mask2_scalar_typer),
        "chosen": dice._tile_mask2,
    }
    for name, kernel in kernels.items():

        @njit
        def masks(aw, pa_, tiles, tile_pop, n, kernel=kernel):  # type: ignore[no-untyped-def]
            out = np.zeros(4, np.int64)
            for x, i in enumerate((0, 2)):
                for g in range(2):
                    out[x * 2 + g] = kernel(
                        aw,
                        i * n,
                        (i + 1) * n,
                        pa_[i],
                        pa_[i + 1],
                        tiles,
                        g * n * 8,
                        tile_pop,
                        g * 8,
                        n,
                        limit,
                    )
            return out

        assert masks(a.ravel(), pa_, tiles, tile_pop, words).tolist() == want, name
