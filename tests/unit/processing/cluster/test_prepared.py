"""What assignment prepares once per article gives what computing it per candidate gave:
its salient features found among the heaviest only (``_heaviest``). (That the article's
evidence split once compares as before was checked against the old ``compare`` when it
was introduced: the same stories, candidates, scores and state on the dev sets.)"""

from __future__ import annotations

import random
from operator import itemgetter

from pipeline.processing.cluster.clusterer import _heaviest


def test_heaviest_features_are_those_a_full_sort_ranks_first() -> None:
    rng = random.Random(3)
    for _ in range(500):
        n = rng.randint(0, 80)
        vector = {f"f{i:03d}": rng.choice([0.5, 1.0, 1.0, 2.0, rng.random()]) for i in range(n)}
        full = sorted(sorted(vector.items()), key=itemgetter(1), reverse=True)
        for k in (0, 1, 5, 32, 100):
            assert _heaviest(vector, k) == [f for f, _ in full[:k]]
