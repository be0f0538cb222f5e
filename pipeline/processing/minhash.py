"""MinHash signatures and LSH band keys for near-copy detection.

A signature is ``PERMUTATIONS`` 32-bit minima of multiply-shift hashes over the article's
shingle hashes; ``BANDS`` bands of ``ROWS`` rows each become bucket keys. Two articles whose
shingle sets have Jaccard similarity ≥ 0.8 share a bucket with probability > 0.999; a shared
bucket is then confirmed on the full signatures. The hash constants are derived from fixed
strings, so signatures are identical in every process (state survives restarts).
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np

PERMUTATIONS = 64
ROWS = 4
BANDS = PERMUTATIONS // ROWS


def _constant(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "little")


_A = np.array([_constant(f"minhash-a-{i}") | 1 for i in range(PERMUTATIONS)], dtype=np.uint64)
_B = np.array([_constant(f"minhash-b-{i}") for i in range(PERMUTATIONS)], dtype=np.uint64)


def signature(shingles: list[int]) -> list[int]:
    """MinHash signature of a set of 32-bit shingle hashes ([] for an empty set)."""
    if not shingles:
        return []
    values = np.asarray(shingles, dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):
        hashed = (values * _A + _B) >> np.uint64(32)
    return [int(v) for v in hashed.min(axis=0)]


def band_keys(sig: list[int]) -> list[str]:
    """One bucket key per band: ``"<band>:<crc32 of its rows>"``."""
    if not sig:
        return []
    keys = []
    for band in range(BANDS):
        rows = sig[band * ROWS : (band + 1) * ROWS]
        keys.append(f"{band}:{zlib.crc32(repr(rows).encode()):08x}")
    return keys


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)
