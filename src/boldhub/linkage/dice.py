"""Dice similarity of Bloom filters, compiled with numba: all pairs of two sets, given
pairs, and the candidate pairs of "filter blocking" (pairs whose names are close by Dice
within coarse blocks such as the salt).

Filters are XOR-masked per salt (privacy/encoding.py), so Dice comes from the Hamming
distance and the unmasked weights: ``1 - popcount(a ^ b) / (pop_a + pop_b)``, which equals
``2|A & B| / (|A| + |B|)`` for two filters of one salt; when the weights sum to zero the
similarity is 0.0, as in ``encoding.dice``.

The all-pairs kernel compares one filter against eight others at a time: the eight are
stored word-interleaved ("tiles", ``tile[k * 8 + t]`` = word ``k`` of filter ``t``), so
one 512-bit load holds word ``k`` of all eight and a single vector XOR and vector popcount
advance eight comparisons. LLVM does not find that layout by itself from a scalar loop
(it vectorises across the words of one pair and pays a horizontal sum per pair, or keeps
the sums in memory), so the tile loop is written as LLVM IR (``_tile_mask``). It adds
half the words first and stops there when none of the eight can still reach the
threshold, which is nearly always the case for unrelated filters. On a CPU without
AVX-512 VPOPCNTDQ, LLVM would legalise the same 8-lane vectors into narrower ones and
emulate the popcount with table lookups, so there the tiles are counted with scalar POPCNT
instructions instead, two filters per tile load (``_tile_mask_choice``). The speed of each
kernel on the machines it was measured on is in docs/linkage.md and the README.
"""

from __future__ import annotations

from typing import Any

import llvmlite.binding as llvm_binding
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils as _cgutils
from numba.extending import intrinsic

LANES = 8
"""Filters per tile: one 512-bit vector of 64-bit words."""

# Rows of the second set scanned against every row of the first before moving on, so that
# their tiles stay in the L2 cache (docs/linkage.md has the measurement behind the size).
_CHUNK_BYTES = 256 * 1024

# filter_candidates copies the filters of this many rows at a time (whole blocks; a larger
# block goes alone): 64K rows of two 512-bit filters are 8 MB.
_BATCH_ROWS = 65536

# The vector test admits a pair when ``h <= (1 - threshold + _SLACK) * (pop_a + pop_b)``;
# the slack covers the rounding of that product, and every admitted pair is then checked
# with the exact expression ``1 - h / s >= threshold``, so the result does not depend on it.
_SLACK = 1e-9

Words = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# numba's helpers are partly annotated and partly not; as Any they pass mypy --strict.
cgutils: Any = _cgutils

_VEC = ir.VectorType(ir.IntType(64), LANES)
_FVEC = ir.VectorType(ir.DoubleType(), LANES)
_I32 = ir.IntType(32)


def _splat(builder: Any, value: Any, vec: Any) -> Any:
    one = builder.insert_element(ir.Constant(vec, ir.Undefined), value, ir.Constant(_I32, 0))
    zeros = ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES)
    return builder.shuffle_vector(one, ir.Constant(vec, ir.Undefined), zeros)


def _in_two_halves(builder: Any, n_words: Any, add_words: Any, within: Any) -> Any:
    """A tile kernel's answer, adding half the words first: a lane whose partial distance
    is already over its bound is out (the rest only adds to it), and when all lanes are
    out, as for nearly every pair of unrelated filters, the other half is skipped. The
    answer is the one all the words give. ``add_words(start, stop)`` adds words to the
    kernel's sums; ``within()`` is its mask of lanes still within their bounds. (Checking
    after each quarter as well was slower on 1,024-bit random filters: 138 against 155 M
    comparisons a second.)"""
    i64 = ir.IntType(64)
    half = builder.lshr(n_words, ir.Constant(n_words.type, 1))
    add_words(ir.Constant(n_words.type, 0), half)
    result = cgutils.alloca_once_value(builder, ir.Constant(i64, 0))
    with builder.if_then(builder.icmp_unsigned("!=", within(), ir.Constant(i64, 0))):
        add_words(half, n_words)
        builder.store(within(), result)
    return builder.load(result)


def _tile_mask_typer(
    typingctx: Any,
    a: Any,
    a_off: Any,
    pop_a: Any,
    tiles: Any,
    t_off: Any,
    tile_pop: Any,
    p_off: Any,
    n_words: Any,
    limit: Any,
) -> Any:
    """Bit ``t`` set when filter ``t`` of the tile at ``tiles[t_off:]`` may be within the
    threshold of the filter at ``a[a_off:]``: ``h_t <= limit * (pop_a + tile_pop[p_off + t])``.

    No bounds checks: callers pass whole tiles (``_build_tiles`` pads the last one)."""
    sig = types.int64(
        a,
        types.intp,
        types.int64,
        tiles,
        types.intp,
        tile_pop,
        types.intp,
        types.intp,
        types.float64,
    )

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        a_arr = context.make_array(signature.args[0])(context, builder, args[0])
        t_arr = context.make_array(signature.args[3])(context, builder, args[3])
        p_arr = context.make_array(signature.args[5])(context, builder, args[5])
        a_ptr = builder.gep(a_arr.data, [args[1]])
        t_ptr = builder.gep(t_arr.data, [args[4]])
        ctpop = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_VEC, [_VEC]), f"llvm.ctpop.v{LANES}i64"
        )
        acc = cgutils.alloca_once_value(builder, ir.Constant(_VEC, None))
        intp = args[7].type

        def add_words(start: Any, stop: Any) -> None:
            with cgutils.for_range_slice(builder, start, stop, ir.Constant(intp, 1)) as (k, _):
                word = _splat(builder, builder.load(builder.gep(a_ptr, [k])), _VEC)
                row = builder.gep(t_ptr, [builder.mul(k, ir.Constant(intp, LANES))])
                others = builder.load(builder.bitcast(row, _VEC.as_pointer()), align=8)
                bits = builder.call(ctpop, [builder.xor(word, others)])
                builder.store(builder.add(builder.load(acc), bits), acc)

        pops = builder.load(
            builder.bitcast(builder.gep(p_arr.data, [args[6]]), _VEC.as_pointer()), align=8
        )
        total = builder.sitofp(builder.add(pops, _splat(builder, args[2], _VEC)), _FVEC)
        bound = builder.fmul(total, _splat(builder, args[8], _FVEC))

        def within() -> Any:
            close = builder.fcmp_ordered("<=", builder.uitofp(builder.load(acc), _FVEC), bound)
            return builder.zext(builder.bitcast(close, ir.IntType(LANES)), ir.IntType(64))

        return _in_two_halves(builder, args[7], add_words, within)

    return sig, codegen


def _tile_mask2_scalar_typer(
    typingctx: Any,
    a: Any,
    a_off: Any,
    a_off2: Any,
    pop_a: Any,
    pop_a2: Any,
    tiles: Any,
    t_off: Any,
    tile_pop: Any,
    p_off: Any,
    n_words: Any,
    limit: Any,
) -> Any:
    """Two filters (at ``a[a_off:]`` and ``a[a_off2:]``) against one tile: bits 0-7 for
    the first, 8-15 for the second, each as ``_tile_mask_typer`` gives it. Eight scalar
    popcounts per word and filter instead of one vector popcount: the x86 POPCNT
    instruction, as inline assembly so that LLVM cannot turn it back into an emulated
    vector popcount; each tile word loaded serves both filters (_tile_mask_choice)."""
    sig = types.int64(
        a,
        types.intp,
        types.intp,
        types.int64,
        types.int64,
        tiles,
        types.intp,
        tile_pop,
        types.intp,
        types.intp,
        types.float64,
    )

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i64 = ir.IntType(64)
        a_arr = context.make_array(signature.args[0])(context, builder, args[0])
        t_arr = context.make_array(signature.args[5])(context, builder, args[5])
        p_arr = context.make_array(signature.args[7])(context, builder, args[7])
        a_ptrs = [builder.gep(a_arr.data, [args[1]]), builder.gep(a_arr.data, [args[2]])]
        pops_a = [args[3], args[4]]
        t_ptr = builder.gep(t_arr.data, [args[6]])
        p_ptr = builder.gep(p_arr.data, [args[8]])
        popcnt = ir.InlineAsm(ir.FunctionType(i64, [i64]), "popcntq $1, $0", "=r,r")
        accs = [
            [cgutils.alloca_once_value(builder, ir.Constant(i64, 0)) for _ in range(LANES)]
            for _ in a_ptrs
        ]
        intp = args[9].type

        def add_words(start: Any, stop: Any) -> None:
            with cgutils.for_range_slice(builder, start, stop, ir.Constant(intp, 1)) as (k, _):
                mine = [builder.load(builder.gep(ptr, [k])) for ptr in a_ptrs]
                row = builder.gep(t_ptr, [builder.mul(k, ir.Constant(intp, LANES))])
                for t in range(LANES):
                    other = builder.load(builder.gep(row, [ir.Constant(intp, t)]))
                    for word, acc in zip(mine, accs, strict=True):
                        bits = builder.call(popcnt, [builder.xor(word, other)])
                        builder.store(builder.add(builder.load(acc[t]), bits), acc[t])

        def within() -> Any:
            mask = ir.Constant(i64, 0)
            for r, (pop_a, acc) in enumerate(zip(pops_a, accs, strict=True)):
                for t in range(LANES):
                    pop_t = builder.load(builder.gep(p_ptr, [ir.Constant(intp, t)]))
                    total = builder.sitofp(builder.add(pop_t, pop_a), ir.DoubleType())
                    close = builder.fcmp_ordered(
                        "<=",
                        builder.uitofp(builder.load(acc[t]), ir.DoubleType()),
                        builder.fmul(total, args[10]),
                    )
                    bit = builder.shl(builder.zext(close, i64), ir.Constant(i64, r * LANES + t))
                    mask = builder.or_(mask, bit)
            return mask

        return _in_two_halves(builder, args[9], add_words, within)

    return sig, codegen


def _popcount_typer(typingctx: Any, x: Any) -> Any:
    sig = types.int64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


def _lowest_bit_typer(typingctx: Any, x: Any) -> Any:
    sig = types.int64(types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

    return sig, codegen


def _tile_mask2_vector_py(
    a: Words,
    a_off: int,
    a_off2: int,
    pop_a: int,
    pop_a2: int,
    tiles: Words,
    t_off: int,
    tile_pop: Ints,
    p_off: int,
    n_words: int,
    limit: float,
) -> int:
    first = _tile_mask(a, a_off, pop_a, tiles, t_off, tile_pop, p_off, n_words, limit)
    second = _tile_mask(a, a_off2, pop_a2, tiles, t_off, tile_pop, p_off, n_words, limit)
    return int(first | (second << LANES))


def _tile_mask_choice() -> Any:
    """Two filters against a tile (``_tile_mask2_scalar_typer``'s contract): the vector
    kernel, once per filter, where the CPU counts bits in vectors (AVX-512 VPOPCNTDQ) or
    is not x86; scalar POPCNT otherwise. On an AVX2-only AMD EPYC (znver1) the vector
    popcount is emulated with table lookups: the vector kernel ran 154 M comparisons a
    second, the scalar one 178 M with one filter per tile load and 191 M with two
    (1,024-bit random filters, one core)."""
    features = llvm_binding.get_host_cpu_features()
    if features.get("avx512vpopcntdq") or not features.get("popcnt"):
        return _jit(_tile_mask2_vector_py)
    # numba's LLVM reads inline assembly only once the native assembly parser is set up.
    llvm_binding.initialize_native_asmparser()
    return intrinsic(_tile_mask2_scalar_typer)


_tile_mask: Any = intrinsic(_tile_mask_typer)
_lowest_bit: Any = intrinsic(_lowest_bit_typer)
_popcount: Any = intrinsic(_popcount_typer)

_jit = njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
_tile_mask2: Any = _tile_mask_choice()


def _grow_py(buf: Any, need: int) -> Any:
    if need <= buf.size:
        return buf
    out = np.empty(max(need, 2 * buf.size), buf.dtype)
    out[: buf.size] = buf
    return out


def _build_tiles_py(
    words: Words,
    stride: int,
    w0: int,
    n_words: int,
    rows: Ints,
    pop_f: Ints,
    pop_s: Ints,
    use_f: int,
    use_s: int,
    tiles: Words,
    tile_pop: Ints,
) -> tuple[Words, Ints]:
    """Interleave the words ``w0 .. w0 + n_words`` of ``rows`` into tiles (the padding is
    zeros, skipped by index later) with each filter's weight ``pop_f * use_f + pop_s * use_s``."""
    n = rows.size
    padded = (n + LANES - 1) // LANES * LANES
    tiles = _grow(tiles, padded * n_words)
    tile_pop = _grow(tile_pop, padded)
    for j in range(padded):
        g = j // LANES
        t = j % LANES
        base = g * n_words * LANES + t
        if j < n:
            r = rows[j]
            tile_pop[j] = pop_f[r] * use_f + pop_s[r] * use_s
            for k in range(n_words):
                tiles[base + k * LANES] = words[r * stride + w0 + k]
        else:
            tile_pop[j] = 0
            for k in range(n_words):
                tiles[base + k * LANES] = 0
    return tiles, tile_pop


def _scan_row_py(
    words: Words,
    a_off: int,
    pop_a: int,
    a_off2: int,
    pop_a2: int,
    n_words: int,
    tiles: Words,
    tile_pop: Ints,
    first: int,
    last: int,
    limit: float,
    found: Ints,
    found_row: Ints,
) -> int:
    """Write to ``found`` the tiled filters of tiles ``first .. last - 1`` that pass the
    vector test against the filter at ``words[a_off:]`` (``found_row`` 0) or at
    ``words[a_off2:]`` (1); return how many.

    Kept apart from ``_scan``, which grows its output arrays: numba then refcounts those
    arrays around every call in the loop, which costs more than the comparisons."""
    n = 0
    tile_len = n_words * LANES
    for g in range(first, last):
        mask = _tile_mask2(
            words,
            a_off,
            a_off2,
            pop_a,
            pop_a2,
            tiles,
            g * tile_len,
            tile_pop,
            g * LANES,
            n_words,
            limit,
        )
        while mask:
            bit = _lowest_bit(mask)
            found[n] = g * LANES + bit % LANES
            found_row[n] = bit // LANES
            n += 1
            mask &= mask - 1
    return n


def _scan_py(
    words: Words,
    stride: int,
    w0: int,
    n_words: int,
    rows: Ints,
    pop_f: Ints,
    pop_s: Ints,
    use_f: int,
    use_s: int,
    tiles: Words,
    tile_pop: Ints,
    n_tiled: int,
    triangular: bool,
    threshold: float,
    out_i: Ints,
    out_j: Ints,
    out_s: Floats,
    n_out: int,
) -> tuple[Ints, Ints, Floats, int]:
    """Append every pair (``rows[i]``, tiled filter ``j``) with Dice >= threshold as
    (i, j, score); with ``triangular`` the tiles hold ``rows`` themselves and only i < j."""
    limit = 1.0 - threshold + _SLACK
    n_tiles = (n_tiled + LANES - 1) // LANES
    chunk = max(1, _CHUNK_BYTES // (n_words * LANES * 8))
    tile_len = n_words * LANES
    found = np.empty(2 * min(chunk, n_tiles) * LANES, np.int64)
    found_row = np.empty(found.size, np.int64)
    for g0 in range(0, n_tiles, chunk):
        g1 = min(n_tiles, g0 + chunk)
        # Two rows at a time against each tile (the second is the first again when the
        # rows run out: its finds are then ignored).
        for i in range(0, rows.size, 2):
            if triangular and i >= g1 * LANES - 1:
                break
            pair = i + 1 < rows.size
            r = rows[i]
            r2 = rows[i + 1] if pair else r
            a_off = r * stride + w0
            a_off2 = r2 * stride + w0
            pop_a = pop_f[r] * use_f + pop_s[r] * use_s
            pop_a2 = pop_f[r2] * use_f + pop_s[r2] * use_s
            first = max(g0, (i + 1) // LANES) if triangular else g0
            n_found = _scan_row(
                words,
                a_off,
                pop_a,
                a_off2,
                pop_a2,
                n_words,
                tiles,
                tile_pop,
                first,
                g1,
                limit,
                found,
                found_row,
            )
            for c in range(n_found):
                second = found_row[c] == 1
                if second and not pair:
                    continue
                row = i + 1 if second else i
                j = found[c]
                if j >= n_tiled or (triangular and j <= row):
                    continue
                off = a_off2 if second else a_off
                g = j // LANES
                t = j % LANES
                h = 0
                for k in range(n_words):
                    h += _popcount(words[off + k] ^ tiles[g * tile_len + k * LANES + t])
                total = (pop_a2 if second else pop_a) + tile_pop[j]
                score = 1.0 - h / total if total else 0.0
                if score >= threshold:
                    out_i = _grow(out_i, n_out + 1)
                    out_j = _grow(out_j, n_out + 1)
                    out_s = _grow(out_s, n_out + 1)
                    out_i[n_out] = row
                    out_j[n_out] = j
                    out_s[n_out] = score
                    n_out += 1
    return out_i, out_j, out_s, n_out


def _all_pairs_py(
    a: Words, a_pop: Ints, b: Words, b_pop: Ints, n_words: int, threshold: float
) -> tuple[Ints, Ints, Floats]:
    rows_a = np.arange(a_pop.size)
    rows_b = np.arange(b_pop.size)
    tiles, tile_pop = _build_tiles(
        b,
        n_words,
        0,
        n_words,
        rows_b,
        b_pop,
        b_pop,
        1,
        0,
        np.empty(0, np.uint64),
        np.empty(0, np.int64),
    )
    out_i = np.empty(1024, np.int64)
    out_j = np.empty(1024, np.int64)
    out_s = np.empty(1024, np.float64)
    out_i, out_j, out_s, n = _scan(
        a,
        n_words,
        0,
        n_words,
        rows_a,
        a_pop,
        a_pop,
        1,
        0,
        tiles,
        tile_pop,
        rows_b.size,
        False,
        threshold,
        out_i,
        out_j,
        out_s,
        0,
    )
    return out_i[:n], out_j[:n], out_s[:n]


def _pairs_py(words: Words, pop: Ints, n_words: int, left: Ints, right: Ints) -> Floats:
    out = np.empty(left.size, np.float64)
    for p in range(left.size):
        a = left[p] * n_words
        b = right[p] * n_words
        h = 0
        for k in range(n_words):
            h += _popcount(words[a + k] ^ words[b + k])
        total = pop[left[p]] + pop[right[p]]
        out[p] = 1.0 - h / total if total else 0.0
    return out


def _blocked_py(
    words: Words,
    n_words: int,
    pop_f: Ints,
    pop_s: Ints,
    seg_start: Ints,
    seg_kind: Ints,
    group_start: Ints,
    threshold: float,
) -> tuple[Ints, Ints, Floats]:
    """Pairs within each group of segments (rows of one block with the same names present:
    kind 1 forename only, 2 surname only, 3 both), compared on the names both hold."""
    stride = 2 * n_words
    tiles = np.empty(0, np.uint64)
    tile_pop = np.empty(0, np.int64)
    out_i = np.empty(1024, np.int64)
    out_j = np.empty(1024, np.int64)
    out_s = np.empty(1024, np.float64)
    n = 0
    for grp in range(group_start.size - 1):
        for sb in range(group_start[grp], group_start[grp + 1]):
            rows_b = np.arange(seg_start[sb], seg_start[sb + 1])
            for sa in range(group_start[grp], sb + 1):
                shared = seg_kind[sa] & seg_kind[sb]
                if shared == 0:
                    continue
                use_f = shared & 1
                use_s = shared >> 1
                w0 = 0 if use_f else n_words
                width = n_words * (use_f + use_s)
                tiles, tile_pop = _build_tiles(
                    words, stride, w0, width, rows_b, pop_f, pop_s, use_f, use_s, tiles, tile_pop
                )
                rows_a = np.arange(seg_start[sa], seg_start[sa + 1])
                start = n
                out_i, out_j, out_s, n = _scan(
                    words,
                    stride,
                    w0,
                    width,
                    rows_a,
                    pop_f,
                    pop_s,
                    use_f,
                    use_s,
                    tiles,
                    tile_pop,
                    rows_b.size,
                    sa == sb,
                    threshold,
                    out_i,
                    out_j,
                    out_s,
                    n,
                )
                for p in range(start, n):
                    out_i[p] = rows_a[out_i[p]]
                    out_j[p] = rows_b[out_j[p]]
    return out_i[:n], out_j[:n], out_s[:n]


# Built from plain functions rather than decorated, so that mypy keeps their signatures
# (numba is untyped); the typed wrappers below are the public interface.
_grow: Any = _jit(_grow_py)
_build_tiles: Any = _jit(_build_tiles_py)
_scan_row: Any = _jit(_scan_row_py)
_scan: Any = _jit(_scan_py)
_all_pairs: Any = _jit(_all_pairs_py)
_pairs: Any = _jit(_pairs_py)
_blocked: Any = _jit(_blocked_py)


def _as_words(words: npt.ArrayLike) -> Words:
    arr = np.ascontiguousarray(words)
    if arr.ndim != 2 or arr.shape[1] == 0 or arr.dtype.itemsize != 8 or arr.dtype.kind not in "iu":
        raise ValueError("filters must be a 2-D array of 64-bit words, one row per filter")
    out: Words = arr.view(np.uint64)
    return out


def _as_ints(values: npt.ArrayLike) -> Ints:
    out: Ints = np.ascontiguousarray(values, dtype=np.int64)
    return out


def dice_all_pairs(
    a_words: npt.ArrayLike,
    a_pop: npt.ArrayLike,
    b_words: npt.ArrayLike,
    b_pop: npt.ArrayLike,
    threshold: float,
) -> tuple[Ints, Ints, Floats]:
    """Every pair (``i`` of a, ``j`` of b) whose Dice similarity is >= ``threshold``, as
    arrays ``(i, j, score)`` ordered by ``i`` then ``j``. Filters are rows of 64-bit words
    (shape (n, W), int64 or uint64); ``*_pop`` are their unmasked weights."""
    a = _as_words(a_words)
    b = _as_words(b_words)
    if a.shape[1] != b.shape[1]:
        raise ValueError("the two sets hold filters of different lengths")
    pa_, pb_ = _as_ints(a_pop), _as_ints(b_pop)
    if pa_.size != a.shape[0] or pb_.size != b.shape[0]:
        raise ValueError("one weight per filter")
    result = _all_pairs(a.ravel(), pa_, b.ravel(), pb_, a.shape[1], float(threshold))
    i: Ints = result[0]
    j: Ints = result[1]
    score: Floats = result[2]
    # The scan runs in chunks of b (for the cache), so its output is chunk-major.
    order = np.lexsort((j, i))
    return i[order], j[order], score[order]


def dice_pairs(
    words: npt.ArrayLike, pop: npt.ArrayLike, left_idx: npt.ArrayLike, right_idx: npt.ArrayLike
) -> Floats:
    """Dice similarity of the filters ``left_idx[p]`` and ``right_idx[p]`` of ``words``."""
    w = _as_words(words)
    p = _as_ints(pop)
    left, right = _as_ints(left_idx), _as_ints(right_idx)
    if left.shape != right.shape or left.ndim != 1:
        raise ValueError("left_idx and right_idx must be 1-D and of one length")
    n = w.shape[0]
    if left.size and (min(left.min(), right.min()) < 0 or max(left.max(), right.max()) >= n):
        raise IndexError("pair index out of range")
    out: Floats = _pairs(w.ravel(), p, w.shape[1], left, right)
    return out


def _gather(table: pa.Table, name: str, rows: pa.Array) -> Ints:
    """Column ``name`` at ``rows``, nulls as 0 (only read where the filter is present)."""
    values = pc.fill_null(pc.take(table.column(name), rows), 0)
    return _as_ints(values.to_numpy())


def _valid(table: pa.Table, name: str) -> npt.NDArray[np.bool_]:
    out: npt.NDArray[np.bool_] = np.asarray(
        pc.is_valid(table.column(name)).combine_chunks().to_numpy(zero_copy_only=False),
        dtype=np.bool_,
    )
    return out


def filter_candidates(
    table: pa.Table, words: int, threshold: float, block_column: str = "salt_tok"
) -> pa.Table:
    """Candidate pairs for "filter blocking": within each group of rows with one non-null
    ``block_column`` value, every pair whose combined name similarity
    ``1 - (h_fn + h_sn) / (pop_fn + pop_sn)`` is >= ``threshold``. A name counts only when
    both records have its filter; rows with neither filter take no part.

    ``table`` holds ``record_key``, ``block_column``, the word columns ``fn_bf_w0`` ...
    ``sn_bf_w{words - 1}`` and ``fn_bf_pop``, ``sn_bf_pop`` (as ``run.load_records`` makes
    them). Returns a table of ``record_key_l`` < ``record_key_r`` (strings)."""
    empty = pa.table(
        {"record_key_l": pa.array([], pa.string()), "record_key_r": pa.array([], pa.string())}
    )
    if table.num_rows == 0:
        return empty
    fn_cols = [f"fn_bf_w{k}" for k in range(words)]
    sn_cols = [f"sn_bf_w{k}" for k in range(words)]
    block = pc.dictionary_encode(table.column(block_column).combine_chunks()).indices
    block_ids = _as_ints(pc.fill_null(block, -1).to_numpy(zero_copy_only=False))
    kind = _valid(table, fn_cols[0]).astype(np.int64) + 2 * _valid(table, sn_cols[0])
    keep = np.flatnonzero((block_ids >= 0) & (kind > 0))
    # Rows sorted by block, then by which names they hold: each (block, kind) run is one
    # segment, and a block's segments are compared pairwise on the names they share.
    order: Ints = keep[np.lexsort((kind[keep], block_ids[keep]))]
    if order.size < 2:
        return empty
    key = block_ids[order] * 4 + kind[order]
    seg_start = _as_ints(np.flatnonzero(np.diff(key, prepend=-1)))
    seg_block = block_ids[order][seg_start]
    group_start = _as_ints(np.flatnonzero(np.diff(seg_block, prepend=-1)))
    group_start = np.append(group_start, seg_start.size)
    seg_start = np.append(seg_start, order.size)
    seg_kind = _as_ints(kind[order][seg_start[:-1]])

    # The filters are copied row-major (the kernel's layout) one batch of whole groups at a
    # time, so the copy never holds more than about _BATCH_ROWS rows.
    columns = fn_cols + sn_cols
    group_rows = seg_start[group_start]
    lefts: list[Ints] = []
    rights: list[Ints] = []
    g_lo = 0
    while g_lo < group_start.size - 1:
        g_hi = g_lo + 1
        while (
            g_hi < group_start.size - 1 and group_rows[g_hi + 1] - group_rows[g_lo] <= _BATCH_ROWS
        ):
            g_hi += 1
        r0, r1 = int(group_rows[g_lo]), int(group_rows[g_hi])
        rows = order[r0:r1]
        taken = pa.array(rows)
        matrix = np.empty((rows.size, 2 * words), dtype=np.int64)
        for k, name in enumerate(columns):
            matrix[:, k] = _gather(table, name, taken)
        s0, s1 = int(group_start[g_lo]), int(group_start[g_hi])
        result = _blocked(
            matrix.view(np.uint64).ravel(),
            words,
            _gather(table, "fn_bf_pop", taken),
            _gather(table, "sn_bf_pop", taken),
            seg_start[s0 : s1 + 1] - r0,
            seg_kind[s0:s1],
            group_start[g_lo : g_hi + 1] - s0,
            float(threshold),
        )
        lefts.append(rows[result[0]])
        rights.append(rows[result[1]])
        g_lo = g_hi
    left = np.concatenate(lefts)
    right = np.concatenate(rights)
    keys = table.column("record_key").combine_chunks()
    key_l = keys.take(pa.array(left))
    key_r = keys.take(pa.array(right))
    swap = pc.greater(key_l, key_r)
    lo = pc.if_else(swap, key_r, key_l)
    hi = pc.if_else(swap, key_l, key_r)
    # Two rows with one record_key are no pair.
    distinct = pc.less(lo, hi)
    return pa.table({"record_key_l": lo.filter(distinct), "record_key_r": hi.filter(distinct)})
