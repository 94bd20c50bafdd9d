"""python -m service validate [POLICY_DIR] [--force FORCE] [--json]

Check a policy directory as start-up does (JSON Schemas, citations, compilation), then prove for
each force, over its whole input space, that more risk never loosens a decision, that every
incident type outside the PCSO remit is refused as a first response whatever the other inputs,
that every quote is verbatim in its source and that every rule message can be filled. Prints each
property with the time it took; exits 1 when the directory is invalid or a property does not
hold, printing the rule ids and a concrete counterexample request.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.config import get_settings
from service.engine.loader import PolicyLoadError, load_registry
from service.engine.policy import PolicyRegistry
from service.engine.proofs import prove, report_json, source_texts


def loaded_or_reported(policy_dir: Path, schema_dir: Path) -> PolicyRegistry | None:
    """The policy directory loaded as start-up loads it, or None with every problem printed."""
    try:
        return load_registry(policy_dir, schema_dir)
    except PolicyLoadError as exc:
        print(f"{policy_dir}: invalid", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def validate(policy_dir: Path, schema_dir: Path, *, force: str | None = None, as_json: bool = False) -> int:
    registry = loaded_or_reported(policy_dir, schema_dir)
    if registry is None:
        return 1
    texts = source_texts(policy_dir, schema_dir)
    reports = [prove(policy, texts) for name, policy in sorted(registry.sets.items()) if force in (None, name)]
    if not reports:
        print(f"no force {force!r} in {policy_dir}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps([report_json(report) for report in reports], indent=2))
    for report in reports:
        policy = registry.sets[report.force]
        print(f"{report.force}: version {policy.version}, {policy.digest}", file=sys.stderr if as_json else sys.stdout)
        for result in report.properties:
            verdict = "holds" if result.holds else "DOES NOT HOLD"
            line = f"  {result.name}: {verdict} ({result.method}; {result.covered}) in {result.seconds:.2f} s"
            print(line, file=sys.stderr if as_json else sys.stdout)
        for failure in report.failures():
            print(f"  refused: {failure}", file=sys.stderr)
        for result in report.properties:
            for example in result.counterexamples[:3]:
                print(f"    counterexample request: {json.dumps(example.request)}", file=sys.stderr)
                if example.riskier_request is not None:
                    print(f"    riskier request:        {json.dumps(example.riskier_request)}", file=sys.stderr)
        print(f"  proved in {report.seconds:.2f} s", file=sys.stderr if as_json else sys.stdout)
    return 0 if all(report.holds for report in reports) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("validate", help="validate a policy directory and prove its properties")
    command.add_argument("policy_dir", nargs="?", default=None)
    command.add_argument("--force", default=None, help="prove one force only")
    command.add_argument("--json", action="store_true", help="print the proof reports as JSON")
    args = parser.parse_args(argv)
    settings = get_settings()
    policy_dir = Path(args.policy_dir) if args.policy_dir else settings.policy_dir
    return validate(policy_dir, settings.schema_dir, force=args.force, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
