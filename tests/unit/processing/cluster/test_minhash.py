"""MinHash signatures: the documented hashes, computed by numpy in one pass."""

from __future__ import annotations

import zlib

from pipeline.processing.cluster import minhash

MASK = (1 << 64) - 1
REPEATS = ("police said the man was shot on main street and the man was taken to "
           "hospital police said the man was shot")  # repeated shingles


def reference(words: list[str]) -> list[int]:
    """The signature from its definition, in plain integers (64-bit wrap-around)."""
    crcs = [zlib.crc32(w.encode()) for w in words]
    mix = [int(m) for m in minhash._MIX]
    shingles = {sum(crcs[i + k] * mix[k] for k in range(minhash.SHINGLE)) & MASK
                for i in range(len(words) - minhash.SHINGLE + 1)}
    values = [s >> 32 for s in shingles]
    return [min(((v * int(a) + int(b)) & MASK) >> 32 for v in values)
            for a, b in zip(minhash._A, minhash._B, strict=True)]


def test_signature_matches_its_definition() -> None:
    words = REPEATS.split()
    assert minhash.signature(words) == reference(words)
    assert len(minhash.band_keys(minhash.signature(words))) == minhash.BANDS


def test_near_copies_share_bands_and_short_texts_have_none() -> None:
    words = [f"w{i}" for i in range(200)]
    copy = words[:150] + ["changed"] + words[151:]
    a, b = minhash.signature(words), minhash.signature(copy)
    assert 0.8 <= minhash.similarity(a, b) < 1.0
    assert set(minhash.band_keys(a)) & set(minhash.band_keys(b))
    assert minhash.signature(words[: minhash.SHINGLE + 1]) == []
