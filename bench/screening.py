"""Narrative screening measured on the labelled corpus, and what it costs a decision.

Usage:  .venv/bin/python bench/screening.py [--force west-midlands] [--file tests/data/narratives/heldout.jsonl] [--misses]

Prints, per category, how many narratives must raise it, how many did (recall), and how many
benign narratives raised anything (false alarms); then the median time screening adds to a
decision whose narrative is 4,000 characters long.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.engine.assessment import AssessmentInput, CallInput, LocationInput, OfficerInput  # noqa: E402
from service.engine.decide import decide  # noqa: E402
from service.engine.loader import load_registry  # noqa: E402
from service.engine.policy import PolicySet  # noqa: E402
from service.engine.screening import Screener  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "narratives"
RECALL_TARGET = 0.98
FALSE_ALARM_TARGET = 0.05
OUTSIDE_REMIT_PREFIXES = ("violence.", "domestic.", "welfare.", "serious.", "public_order.", "suspect.", "traffic.", "hazard.")


@dataclass
class Evaluation:
    """Recall per category and false alarms on benign narratives, with the narratives behind each miss."""

    expected: Counter[str] = field(default_factory=Counter)
    raised: Counter[str] = field(default_factory=Counter)
    misses: dict[str, list[str]] = field(default_factory=dict)
    benign: int = 0
    false_alarms: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def recall(self, category: str) -> float:
        return self.raised[category] / self.expected[category] if self.expected[category] else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return len(self.false_alarms) / self.benign if self.benign else 0.0

    def rows(self) -> list[tuple[str, int, int, float]]:
        return [(c, self.expected[c], self.raised[c], self.recall(c)) for c in sorted(self.expected)]


def load_corpus(*paths: Path) -> list[tuple[str, frozenset[str]]]:
    """(text, categories it must raise) for every line of the given files (default: the whole corpus)."""
    files = paths or tuple(sorted(CORPUS.glob("*.jsonl")))
    if not files:
        raise FileNotFoundError(f"no narrative corpus in {CORPUS}")
    cases = []
    for path in files:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not lines:
            raise ValueError(f"{path} holds no narratives")
        for line in lines:
            entry = json.loads(line)
            cases.append((entry["text"], frozenset(entry["expect"])))
    return cases


def evaluate(screener: Screener, cases: list[tuple[str, frozenset[str]]], *, call_type: str = "asb.nuisance") -> Evaluation:
    """Screen every narrative as the description of a call of ``call_type`` and count."""
    result = Evaluation()
    for text, expected in cases:
        found = {hit.category for hit in screener.screen(text, call_type=call_type)}
        if not expected:
            result.benign += 1
            if found:
                result.false_alarms.append((text, tuple(sorted(found))))
            continue
        for category in expected:
            result.expected[category] += 1
            if category in found:
                result.raised[category] += 1
            else:
                result.misses.setdefault(category, []).append(text)
    return result


def is_outside_remit(category: str) -> bool:
    """Whether the category is one of the WMP 2.8.3 incident types (targets apply to these)."""
    return category.startswith(OUTSIDE_REMIT_PREFIXES)


def long_narratives(cases: list[tuple[str, frozenset[str]]], count: int, length: int = 4000) -> list[str]:
    """``count`` different long call logs, each the corpus's narratives (benign and not) strung
    together in a different order until ``length`` characters."""
    texts = [text for text, _ in cases]
    generator = random.Random(2026)
    logs = []
    for _ in range(count):
        generator.shuffle(texts)
        log = ""
        for text in texts:
            if len(log) >= length:
                break
            log += text.rstrip(". ") + ". "
        logs.append(log[:length])
    return logs


@dataclass
class Cost:
    """Median decision times in microseconds."""

    without: float  # no narrative
    typical: float  # the corpus narratives (one to three sentences), each seen for the first time
    everyday_first: float  # 4,000-character call logs of benign narratives, each seen for the first time
    everyday_repeated: float  # one of them decided again (candidates, escalations, retries)
    dense_first: float  # 4,000-character call logs of the whole corpus (a dozen incidents each), first sight
    dense_repeated: float  # one of them decided again


def screening_cost(policy: PolicySet, cases: list[tuple[str, frozenset[str]]], *, rounds: int = 2000) -> Cost:
    """What screening adds to a decision: medians without a narrative, with the corpus's
    narratives, and with 4,000-character call logs at first sight and repeated."""
    now = datetime.now(UTC)
    officer = OfficerInput(id="PCSO 1", training_status="independent", in_uniform=True)

    def request(description: str | None) -> AssessmentInput:
        return AssessmentInput(
            force=policy.id,
            call=CallInput(type="asb.nuisance", phase="in_progress", grade="priority", description=description),
            location=LocationInput(risk_level="low"),
            officer=officer,
        )

    def median(requests: list[AssessmentInput], *, first_sight: bool) -> float:
        samples = []
        for item in requests:
            if first_sight:
                policy.screener.forget()
            started = time.perf_counter()
            decide(policy, item, now=now)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples) * 1e6

    everyday = long_narratives([case for case in cases if not case[1]], 300)
    dense = long_narratives(cases, 300)
    median([request(None)] * 200, first_sight=False)  # warm up
    return Cost(
        without=median([request(None)] * rounds, first_sight=False),
        typical=median([request(text) for text, _ in cases] * 2, first_sight=True),
        everyday_first=median([request(log) for log in everyday] * 3, first_sight=True),
        everyday_repeated=median([request(everyday[0])] * rounds, first_sight=False),
        dense_first=median([request(log) for log in dense] * 3, first_sight=True),
        dense_repeated=median([request(dense[0])] * rounds, first_sight=False),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", default="west-midlands")
    parser.add_argument("--file", action="append", type=Path, help="corpus file (default: every tests/data/narratives/*.jsonl)")
    parser.add_argument("--misses", action="store_true", help="print the narratives missed and the false alarms")
    args = parser.parse_args()
    policy = load_registry(ROOT / "policy_data", ROOT / "schemas").sets[args.force]
    cases = load_corpus(*(args.file or ()))
    result = evaluate(policy.screener, cases)
    print(f"narrative screening, {args.force}: {len(cases)} narratives ({result.benign} benign)")
    print(f"{'category':40} {'must raise':>10} {'raised':>7} {'recall':>7}")
    for category, expected, raised, recall in result.rows():
        flag = "" if recall >= RECALL_TARGET or not is_outside_remit(category) else "  below target"
        print(f"{category:40} {expected:>10} {raised:>7} {recall:>7.3f}{flag}")
    print(
        f"{'false alarms on benign narratives':40} {result.benign:>10} {len(result.false_alarms):>7} {result.false_alarm_rate:>7.3f}"
    )
    if args.misses:
        for category, texts in sorted(result.misses.items()):
            for text in texts:
                print(f"MISS {category}: {text}")
        for text, found in result.false_alarms:
            print(f"FALSE ALARM {','.join(found)}: {text}")
    cost = screening_cost(policy, cases)
    print(f"decision median: {cost.without:.1f} us without a narrative")
    for label, value in (
        ("with a corpus narrative, first sight", cost.typical),
        ("with a 4,000-character everyday call log (benign narratives), first sight", cost.everyday_first),
        ("with a 4,000-character everyday call log, decided again", cost.everyday_repeated),
        ("with a 4,000-character call log of the whole corpus (many incidents), first sight", cost.dense_first),
        ("with a 4,000-character call log of the whole corpus, decided again", cost.dense_repeated),
    ):
        print(f"  {label}: {value:.1f} us (screening adds {value - cost.without:+.1f} us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
