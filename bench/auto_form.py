"""Auto-forming a 120-student classroom into groups of 4: ours vs random vs plain greedy.

    .venv/bin/python bench/auto_form.py [--students 120] [--size 4] [--hashing]

The figure that matters is the WEAKEST group's score (mean pairwise
compatibility of its members), the max-min objective; groups whose members
share no free slot are counted too, since the search avoids them first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _synthetic import college, embed_styles  # noqa: E402

from studysync.matching import CandidateMatrix, HashingEmbedder, MiniLMEmbedder, form_groups, pairwise_matrix  # noqa: E402
from studysync.matching.formation import evaluate, random_partition  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=120)
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--random", type=int, default=100, help="random partitions to average")
    ap.add_argument("--hashing", action="store_true", help="HashingEmbedder instead of all-MiniLM-L6-v2")
    args = ap.parse_args()

    embedder = HashingEmbedder() if args.hashing else MiniLMEmbedder()
    students = college(args.students, seed=2024)
    vectors, _ = embed_styles(students, embedder)
    profiles = [s.profile(v) for s, v in zip(students, vectors)]
    matrix = CandidateMatrix.build(profiles, embedder.dim)
    t = time.perf_counter()
    compat = pairwise_matrix(profiles, matrix=matrix)
    t_pair = time.perf_counter() - t

    rows = []
    for label, improve in (("ours (greedy + swaps + kicks)", True), ("plain greedy (no swaps)", False)):
        t = time.perf_counter()
        f = form_groups(matrix.ids, compat, matrix.slot_bits, args.size, seed=0, improve=improve)
        rows.append((label, f.min_score, float(np.mean(f.scores)), sum(f.common_slot), time.perf_counter() - t))
    rng = np.random.default_rng(0)
    rand = [evaluate(compat, matrix.slot_bits, random_partition(args.students, args.size, rng))
            for _ in range(args.random)]
    rand_min = float(np.mean([s.min() for s, _ in rand]))
    rand_mean = float(np.mean([s.mean() for s, _ in rand]))
    rand_common = float(np.mean([c.sum() for _, c in rand]))
    n_groups = len(rand[0][0])

    print(f"{args.students} students into {n_groups} groups of {args.size}; vectors: {embedder.name}; "
          f"pairwise matrix {t_pair * 1e3:.1f} ms; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  {'partition':<32} {'weakest group':>13} {'mean group':>10} {'common slot':>11} {'time':>9}")
    for label, lo, mean, common, secs in rows:
        print(f"  {label:<32} {lo:>13.3f} {mean:>10.3f} {common:>8}/{n_groups} {secs * 1e3:>7.1f}ms")
    print(f"  {f'random (mean of {args.random})':<32} {rand_min:>13.3f} {rand_mean:>10.3f} "
          f"{rand_common:>8.1f}/{n_groups}")
    ours, greedy = rows[0][1], rows[1][1]
    print(f"  weakest group, ours / random mean: {ours / rand_min:.2f}x")
    print(f"  weakest group, ours / plain greedy: {ours / greedy:.2f}x")


if __name__ == "__main__":
    main()
