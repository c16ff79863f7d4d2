"""Recommendation latency: the seed's per-candidate loop vs the cached, vectorised matrix.

    .venv/bin/python bench/recommend.py            # 300-student comparison, then 1k / 10k / 100k
    .venv/bin/python bench/recommend.py --quick    # 100-student comparison, then 1k / 10k
    .venv/bin/python bench/recommend.py --hashing  # HashingEmbedder vectors for the size sweep

Part (a) runs the seed's algorithm as its README describes it: a Python loop
over every candidate that re-embeds BOTH learning styles with all-MiniLM-L6-v2
and computes the cosine by hand. Ours scores the same students from a matrix
built once (embeddings cached per profile text, as the API's cache table does).

Part (b) times one full recommendation (score all, top 10, explanations) over
many queries. Learning-style vectors come from the real model, one embedding
per distinct sentence of the synthetic college.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _synthetic import Student, college, embed_styles  # noqa: E402

from studysync.matching import CandidateMatrix, HashingEmbedder, MiniLMEmbedder, Weights, top_k  # noqa: E402


def seed_recommend(model, user: Student, candidates: list[Student], threshold: float = 0.5, k: int = 10):
    """The seed's loop: every candidate, both texts re-embedded, plain-Python maths."""
    results = []
    for c in candidates:
        if c.id == user.id:
            continue
        a = {s.strip().lower() for s in user.subjects}
        b = {s.strip().lower() for s in c.subjects}
        subject = len(a & b) / len(a | b) if a | b else 0.0
        ta = {(d.lower(), s.lower()) for d, ss in user.schedule.items() for s in ss}
        tb = {(d.lower(), s.lower()) for d, ss in c.schedule.items() for s in ss}
        schedule = len(ta & tb) / len(ta | tb) if ta and tb else 0.0
        e1 = model.encode([user.learning_style], show_progress_bar=False)[0]
        e2 = model.encode([c.learning_style], show_progress_bar=False)[0]
        dot = sum(float(x) * float(y) for x, y in zip(e1, e2))
        n1 = math.sqrt(sum(float(x) ** 2 for x in e1))
        n2 = math.sqrt(sum(float(y) ** 2 for y in e2))
        style = max(0.0, dot / (n1 * n2)) if n1 and n2 else 0.0
        perf = 1 - abs(user.performance_level - c.performance_level) / 4
        total = 0.4 * subject + 0.3 * schedule + 0.2 * style + 0.1 * perf
        if total >= threshold:
            results.append((total, c.id))
    results.sort(key=lambda r: -r[0])
    return results[:k]


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.3f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def compare_with_seed(minilm: MiniLMEmbedder, n: int, queries: int) -> None:
    print(f"(a) seed algorithm vs ours, {n} students, real all-MiniLM-L6-v2 for both")
    students = college(n, seed=42)
    model = minilm._resolved_slot().get()
    seed_times, our_warm, our_cold, agree = [], [], [], 0

    vectors, build_embed = timed(minilm.embed, [s.learning_style for s in students])
    matrix, build = timed(CandidateMatrix.build, [s.profile(v) for s, v in zip(students, vectors)], minilm.dim)
    profiles = matrix.profiles
    for q in range(queries):
        user = students[q]
        seed_top, t = timed(seed_recommend, model, user, students)
        seed_times.append(t)
        ours, t = timed(top_k, profiles[q], matrix, Weights(), 10)
        our_warm.append(t)
        agree += [m.id for m in ours] == [cid for _, cid in seed_top]

        def cold(p=profiles[q], text=user.learning_style):
            return top_k(replace(p, vector=minilm.embed([text])[0]), matrix, Weights(), 10)

        our_cold.append(timed(cold)[1])
    warm = statistics.median([timed(top_k, profiles[i % n], matrix, Weights(), 10)[1] for i in range(200)])
    seed_t = statistics.median(seed_times)
    cold_t = statistics.median(our_cold)
    print(f"    seed, one recommendation (median of {queries}):      {fmt_ms(seed_t)}  "
          f"({2 * (n - 1)} model.encode calls)")
    print(f"    ours, one recommendation (median of 200), cached:   {fmt_ms(warm)}")
    print(f"    ours, query text embedded on the spot (median):    {fmt_ms(cold_t)}")
    print(f"    speed-up, cached:                 {seed_t / warm:,.0f}x")
    print(f"    speed-up, query embedded fresh:   {seed_t / cold_t:,.0f}x")
    print(f"    one-time cost of ours: embed {n} texts {fmt_ms(build_embed)}, build matrix {fmt_ms(build)}")
    print(f"    same top-10 as the seed for {agree}/{queries} queries")


def sweep(sizes: list[int], embedder, queries: int) -> None:
    print(f"(b) ours, one recommendation (score all, top 10 with explanations), {queries} queries per size")
    print(f"    learning-style vectors: {embedder.name}")
    header = f"    {'students':>9} {'p50':>10} {'p95':>10} {'matrix MiB':>11} {'build':>10}  distinct texts"
    print(header)
    students = college(max(sizes), seed=7)
    vectors, _ = embed_styles(students, embedder)
    for n in sizes:
        part = students[:n]
        distinct = len({s.learning_style for s in part})
        matrix, build = timed(CandidateMatrix.build, [s.profile(v) for s, v in zip(part, vectors[:n])], embedder.dim)
        rng = np.random.default_rng(n)
        rows = rng.choice(n, size=queries, replace=n < queries)
        for r in rows[:5]:  # warm caches
            top_k(matrix.profiles[r], matrix)
        lat = np.array([timed(top_k, matrix.profiles[r], matrix, Weights(), 10)[1] for r in rows])
        print(f"    {n:>9,} {np.percentile(lat, 50) * 1e3:>8.3f}ms {np.percentile(lat, 95) * 1e3:>8.3f}ms "
              f"{matrix.nbytes / 2**20:>11.1f} {fmt_ms(build):>10}  {distinct:,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--hashing", action="store_true", help="HashingEmbedder vectors for part (b)")
    args = ap.parse_args()

    minilm = MiniLMEmbedder()
    _, load = timed(minilm.wait_loaded)
    print(f"all-MiniLM-L6-v2 loaded in {fmt_ms(load)} (once per process); numpy {np.__version__}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    compare_with_seed(minilm, 100 if args.quick else 300, 3)
    print()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    sweep(sizes, HashingEmbedder() if args.hashing else minilm, 200)


if __name__ == "__main__":
    main()
