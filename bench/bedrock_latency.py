"""A small latency model of one Bedrock reply: time to first token (TTFT) plus output tokens / tokens per second.

No pass/fail and no AWS call: it estimates what stopping a spoken reply at N whole sentences with ConverseStream
saves over Converse, which returns only when the model has finished (or hit ``max_tokens``). Run::

    .venv/bin/python bench/bedrock_latency.py [--turns 20000] [--seed 7] [--out bench/results/bedrock_latency.json]

Model (every figure an assumption, written in ASSUMPTIONS and the output; change them and run again):

* TTFT is log-normal around ``ttft_median_s`` (p90 ``ttft_p90_s``); output speed is ``tokens_per_s`` (normal,
  ``tokens_per_s_sd``). Converse's reply time = TTFT + all output tokens / speed; ConverseStream's = TTFT + the
  tokens up to the end of sentence N / speed (the rest is never waited for).
* The model writes k sentences with probability ``sentences_p[k-1]``; the system prompt asks for one to three,
  so most replies already stop by themselves. Each sentence is ``tokens_per_sentence`` tokens (normal, sd).
  Output is capped at ``max_tokens``.
* Same TTFT in both modes: streaming does not make the first token come sooner.

The figures are for comparing the two modes; they are not measurements of Bedrock. The Lex code hook still
returns the whole reply at once (Lex V2 does not stream a code hook's message), so the saving is only the tail the
model would have written after sentence N.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
from pathlib import Path
from typing import Any

ASSUMPTIONS: dict[str, Any] = {
    "ttft_median_s": 0.55,
    "ttft_p90_s": 0.9,
    "tokens_per_s": 110.0,
    "tokens_per_s_sd": 20.0,
    "tokens_per_sentence": 17.0,
    "tokens_per_sentence_sd": 6.0,
    "sentences_p": [0.25, 0.40, 0.22, 0.08, 0.03, 0.02],  # 1..6 sentences
    "max_tokens": 150,
}


def simulate(turns: int, max_sentences: int, seed: int, a: dict[str, Any] = ASSUMPTIONS) -> dict[str, Any]:
    """Reply times (s) of ``turns`` simulated turns under Converse and under ConverseStream stopping at N sentences."""
    rng = random.Random(seed)
    sigma = math.log(a["ttft_p90_s"] / a["ttft_median_s"]) / 1.2816
    converse, stream, tail_tokens = [], [], []
    for _ in range(turns):
        ttft = a["ttft_median_s"] * math.exp(rng.gauss(0, sigma))
        speed = max(20.0, rng.gauss(a["tokens_per_s"], a["tokens_per_s_sd"]))
        count = rng.choices(range(1, len(a["sentences_p"]) + 1), weights=a["sentences_p"])[0]
        ends, total = [], 0
        for _ in range(count):
            total += max(3, round(rng.gauss(a["tokens_per_sentence"], a["tokens_per_sentence_sd"])))
            ends.append(min(total, a["max_tokens"]))
        written = min(total, a["max_tokens"])
        needed = ends[min(max_sentences, len(ends)) - 1]
        converse.append(ttft + written / speed)
        stream.append(ttft + needed / speed)
        tail_tokens.append(written - needed)
    saved = [c - s for c, s in zip(converse, stream, strict=True)]

    def pct(values: list[float], q: float) -> float:
        return round(sorted(values)[int(q * (len(values) - 1))], 3)

    return {
        "max_sentences": max_sentences,
        "converse_mean_s": round(statistics.fmean(converse), 3),
        "converse_p95_s": pct(converse, 0.95),
        "stream_mean_s": round(statistics.fmean(stream), 3),
        "stream_p95_s": pct(stream, 0.95),
        "saved_mean_s": round(statistics.fmean(saved), 3),
        "saved_p95_s": pct(saved, 0.95),
        "turns_saving_nothing": round(sum(1 for s in saved if s <= 1e-9) / turns, 3),
        "tail_tokens_mean": round(statistics.fmean(tail_tokens), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = {
        "assumptions": ASSUMPTIONS,
        "turns": args.turns,
        "seed": args.seed,
        "by_max_sentences": [simulate(args.turns, n, args.seed) for n in (1, 2, 3, 4)],
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
