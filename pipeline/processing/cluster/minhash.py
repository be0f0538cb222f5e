"""MinHash signatures and LSH band keys for near-copy detection.

Shingles are word 4-grams (hashed from per-word crc32s); a signature is ``PERMUTATIONS``
32-bit minima of multiply-shift hashes over them; ``BANDS`` bands of ``ROWS`` rows each
become bucket keys. Two articles whose shingle sets have Jaccard similarity ≥ 0.8 share a
bucket with probability > 0.999; a shared bucket is then confirmed on the full signatures.
The hash constants are derived from fixed strings, so signatures are identical in every
process (state survives restarts).
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np

SHINGLE = 4  # words per shingle
PERMUTATIONS = 64
ROWS = 4
BANDS = PERMUTATIONS // ROWS


def _constant(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "little")


_A = np.array([_constant(f"minhash-a-{i}") | 1 for i in range(PERMUTATIONS)], dtype=np.uint64)
_B = np.array([_constant(f"minhash-b-{i}") for i in range(PERMUTATIONS)], dtype=np.uint64)
_MIX = np.array([_constant(f"mix-{i}") | 1 for i in range(max(SHINGLE, ROWS))], dtype=np.uint64)
_A_COLUMN, _B_COLUMN = _A[:, None], _B[:, None]
_WORDS: dict[str, int] = {}


def signature(words: list[str]) -> list[int]:
    """MinHash signature of the word ``SHINGLE``-grams of ``words`` ([] if too short)."""
    if len(words) < SHINGLE + 2:
        return []
    known = _WORDS
    if len(known) > 200_000:
        known.clear()
    for word in [w for w in words if w not in known]:
        known[word] = zlib.crc32(word.encode())
    hashes = np.fromiter(map(known.__getitem__, words), dtype=np.uint64, count=len(words))
    span = len(words) - SHINGLE + 1
    with np.errstate(over="ignore"):
        shingles = hashes[:span] * _MIX[0]
        for i in range(1, SHINGLE):
            shingles += hashes[i : i + span] * _MIX[i]
        shingles >>= np.uint64(32)
        # One row per permutation; repeated shingles need no dedupe (their minima agree),
        # and the shift commutes with the minimum (it keeps the order).
        hashed = _A_COLUMN * shingles
        hashed += _B_COLUMN
        minima = hashed.min(axis=1)
        minima >>= np.uint64(32)
    return minima.tolist()  # type: ignore[no-any-return]


def band_keys(sig: list[int]) -> list[str]:
    """One bucket key per band: ``"<band>:<hash of its rows>"``."""
    if not sig:
        return []
    rows = np.asarray(sig, dtype=np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        mixed = (rows * _MIX[:ROWS]).sum(axis=1) >> np.uint64(24)
    return [f"{band}:{value:x}" for band, value in enumerate(mixed.tolist())]


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)
