"""Random streams: block ``b`` of stream (seed, stream, key) is the standard normals of
``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, *key, b)))``, so a
draw's numbers never depend on which other draws or parameters a run asks for.

Building a SeedSequence costs about 20 microseconds of Python, and a run needs about 800 blocks
(each parameter's, 128 draws a block), so the PCG64 states those seed sequences would give are
worked out here for many blocks at once with numpy's uint32 arithmetic (the SeedSequence
algorithm of ``numpy.random.bit_generator``, which NEP 19 keeps stable; the constants below are
that algorithm's), and one generator is set to each state in turn.
``tests/test_run_parameters.py`` holds the numbers to numpy's own, bit for bit.
"""

from __future__ import annotations

import threading

import numpy as np

BLOCK = 128  # draws are generated in fixed blocks so any chunking of draws gives the same numbers

_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _POOL = 0xCA01F9DD, 0x4973F715, 4
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_M32, _M128 = 0xFFFFFFFF, (1 << 128) - 1
_BLOCKS: dict[tuple, np.ndarray] = {}
# Bytes of blocks kept: a parameter's block is 1 KB, a footprint's noise block (every year and
# setting) 350 KB, so the bound is in bytes, not blocks.
_BLOCKS_KEPT = 256 * 2**20
_kept = 0  # bytes in _BLOCKS
_GENERATOR = np.random.Generator(np.random.PCG64(0))
_GENERATOR_LOCK = threading.Lock()


def _words(n: int) -> list[int]:
    """An integer as SeedSequence reads it: little-endian 32-bit words (0 is one word)."""
    if n < 0:
        raise ValueError("random-stream keys are non-negative integers")
    out = [n & _M32]
    n >>= 32
    while n:
        out.append(n & _M32)
        n >>= 32
    return out


def _hash_consts(start: int, mult: int, n: int) -> list[int]:
    """The multiplier sequence of SeedSequence's hash: each step multiplies it by ``mult``."""
    out, h = [], start
    for _ in range(n):
        out.append(h)
        h = (h * mult) & _M32
    return out


def _pools(entropy: np.ndarray) -> np.ndarray:
    """SeedSequence's mixed pool (item, 4) from each item's entropy words (item, word)."""
    n_words = entropy.shape[1]
    steps = _POOL + _POOL * (_POOL - 1) + max(n_words - _POOL, 0) * _POOL
    consts = iter(_hash_consts(_INIT_A, _MULT_A, steps))

    def hashmix(value: np.ndarray) -> np.ndarray:
        h = next(consts)
        value = (value ^ np.uint32(h)) * np.uint32((h * _MULT_A) & _M32)
        return value ^ (value >> np.uint32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
        return r ^ (r >> np.uint32(16))

    zero = np.zeros(entropy.shape[0], dtype=np.uint32)
    pool = [hashmix(entropy[:, i] if i < n_words else zero) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL, n_words):
        for dst in range(_POOL):
            pool[dst] = mix(pool[dst], hashmix(entropy[:, src]))
    return np.stack(pool, axis=1)


def _pcg64_states(seed: int, spawn_keys: list[tuple[int, ...]]) -> list[tuple[int, int]]:
    """(state, increment) of ``PCG64(SeedSequence(seed, spawn_key=k))`` for each key ``k``."""
    run = _words(seed)
    run += [0] * (_POOL - len(run))  # padded so run words never read as spawn words
    entropy = [run + [w for v in k for w in _words(v)] for k in spawn_keys]
    out: list[tuple[int, int]] = [(0, 0)] * len(entropy)
    for length in {len(e) for e in entropy}:
        at = [i for i, e in enumerate(entropy) if len(e) == length]
        with np.errstate(over="ignore"):
            pool = _pools(np.array([entropy[i] for i in at], dtype=np.uint32))
            consts = _hash_consts(_INIT_B, _MULT_B, 8)
            words = []
            for i, h in enumerate(consts):  # generate_state(4, uint64): eight 32-bit words
                v = (pool[:, i % _POOL] ^ np.uint32(h)) * np.uint32((h * _MULT_B) & _M32)
                words.append(v ^ (v >> np.uint32(16)))
        w = np.stack(words, axis=1).astype(np.uint64).tolist()
        for j, i in enumerate(at):
            u = [w[j][2 * k] | (w[j][2 * k + 1] << 32) for k in range(4)]
            initstate, initseq = (u[0] << 64) | u[1], (u[2] << 64) | u[3]
            inc = ((initseq << 1) | 1) & _M128
            state = ((inc + initstate) * _PCG_MULT + inc) & _M128  # PCG's srandom: two steps
            out[i] = (state, inc)
    return out


def blocks(
    seed: int, stream: int, wanted: list[tuple[tuple[int, ...], int]], width: int = 1
) -> list[np.ndarray]:
    """The blocks (key, block) of ``wanted``, in its order: those kept as they are, the rest
    worked out (all together) and kept. Found and made under one lock and handed back, not
    looked up again afterwards, so another thread making room (the kept blocks are bounded in
    bytes) cannot take one away in between: the server runs plans and a roll-up at once."""
    global _kept
    with _GENERATOR_LOCK:
        found = {w: _BLOCKS.get((seed, stream, *w, width)) for w in dict.fromkeys(wanted)}
        missing = [w for w, z in found.items() if z is None]
        if missing:
            if _kept + len(missing) * BLOCK * width * 8 > _BLOCKS_KEPT:
                _BLOCKS.clear()
                _kept = 0
            states = _pcg64_states(seed, [(stream, *k, b) for k, b in missing])
            bits = _GENERATOR.bit_generator
            for w, (state, inc) in zip(missing, states, strict=True):
                bits.state = {
                    "bit_generator": "PCG64",
                    "state": {"state": state, "inc": inc},
                    "has_uint32": 0,
                    "uinteger": 0,
                }
                z = _GENERATOR.standard_normal((BLOCK, width))
                z.flags.writeable = False
                _BLOCKS[(seed, stream, *w, width)] = found[w] = z
                _kept += z.nbytes
    return [found[w] for w in wanted]


def prefetch(seed: int, stream: int, keys: list[tuple[int, ...]], draws: range, width: int = 1) -> None:
    """Work out the blocks of ``draws`` for every key of ``keys`` at once (a run's parameters:
    the same numbers ``standard_normals`` would give one by one, at a fraction of the cost)."""
    if len(draws):
        numbers = range(draws.start // BLOCK, (draws.stop - 1) // BLOCK + 1)
        blocks(seed, stream, [(k, b) for k in keys for b in numbers], width)
