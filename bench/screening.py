"""Narrative screening measured on the labelled corpus, and what it costs a decision.

Usage:  .venv/bin/python bench/screening.py [--force west-midlands] [--file tests/data/narratives/heldout.jsonl] [--misses]

Prints, per category, how many narratives must raise it, how many did (recall), and how many
benign narratives raised anything (false alarms); then the median time screening adds to a
decision whose narrative is 4,000 characters long.
"""

from __future__ import annotations

import argparse
import json
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


def screening_cost(policy: PolicySet, *, rounds: int = 3000, narratives: tuple[str, ...] = ()) -> tuple[float, float, float]:
    """Median decision time in microseconds without a narrative, with a 4,000-character one, and
    with each of ``narratives`` in turn (the corpus: one to three sentences each)."""
    sentence = (
        "Caller states the group of youths outside the parade have been shouting and swearing at residents most evenings, "
        "kicking a football against the shutters and leaving litter and cans by the benches; "
    )
    narrative = (sentence * (4000 // len(sentence) + 1))[:4000]
    base = AssessmentInput(
        force=policy.id,
        call=CallInput(type="asb.nuisance", phase="in_progress", grade="priority"),
        location=LocationInput(risk_level="low"),
        officer=OfficerInput(id="PCSO 1", training_status="independent", in_uniform=True),
    )
    with_text = AssessmentInput(
        force=policy.id,
        call=CallInput(type="asb.nuisance", phase="in_progress", grade="priority", description=narrative),
        location=base.location,
        officer=base.officer,
    )
    now = datetime.now(UTC)

    def median(request: AssessmentInput) -> float:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            decide(policy, request, now=now)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples) * 1e6

    median(base)
    typical = []
    for text in narratives:
        request = AssessmentInput(
            force=policy.id,
            call=CallInput(type="asb.nuisance", phase="in_progress", grade="priority", description=text),
            location=base.location,
            officer=base.officer,
        )
        started = time.perf_counter()
        decide(policy, request, now=now)
        typical.append(time.perf_counter() - started)
    return median(base), median(with_text), (statistics.median(typical) * 1e6 if typical else 0.0)


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
    without, with_text, typical = screening_cost(policy, narratives=tuple(text for text, _ in cases) * 5)
    print(
        f"decision median: {without:.1f} us without a narrative; {typical:.1f} us over the corpus narratives "
        f"(+{typical - without:.1f} us); {with_text:.1f} us with 4,000 characters (+{with_text - without:.1f} us)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
