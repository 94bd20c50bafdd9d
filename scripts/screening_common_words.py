"""Rewrite the everyday words of the national screening list from the narrative corpus.

Usage:  .venv/bin/python scripts/screening_common_words.py [--limit 800]

The words are written most frequent first. They change no match: the screener looks for each
pattern from its rarest slot, estimating a word's frequency from its rank in this list (Zipf), so
that long everyday narratives wake few patterns.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.screening import load_corpus  # noqa: E402
from service.engine.screening import normalise  # noqa: E402

SCREENING = ROOT / "policy_data" / "national" / "screening.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=800)
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    for text, _ in load_corpus():
        counts.update(word for word in normalise(text).split() if word not in {".", ","})
    data = json.loads(SCREENING.read_text(encoding="utf-8"))
    data["common_words"] = [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: args.limit]]
    SCREENING.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{SCREENING.relative_to(ROOT)}: {len(data['common_words'])} everyday words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
