"""Policy author tools.

python -m service.cli.policy validate [POLICY_DIR]
    Check a policy directory exactly as start-up does; print each force's digest, or every problem.

python -m service.cli.policy impact --candidate DIR --force FORCE [--from ISO] [--to ISO] [--limit N]
    Replay the decisions recorded in DATABASE_URL for FORCE through the candidate policy
    directory and print what would change (JSON).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from service.actions.impact import replay
from service.cli.validate import loaded_or_reported
from service.config import get_settings
from service.engine.loader import PolicyLoadError, load_registry
from service.store.database import make_engine
from service.store.records import AuditStore


def _validate(policy_dir: Path, schema_dir: Path) -> int:
    registry = loaded_or_reported(policy_dir, schema_dir)
    if registry is None:
        return 1
    for force, policy in sorted(registry.sets.items()):
        print(
            f"{force}: version {policy.version}, {policy.rule_count} rules, {len(policy.call_types)} call types, {policy.digest}"
        )
    return 0


def _impact(args: argparse.Namespace, schema_dir: Path) -> int:
    settings = get_settings()
    try:
        current = load_registry(settings.policy_dir, schema_dir).sets[args.force]
        candidate = load_registry(Path(args.candidate), schema_dir).sets[args.force]
    except PolicyLoadError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    except KeyError:
        print(f"no policy set for force {args.force!r}", file=sys.stderr)
        return 1
    engine = make_engine(args.database_url or settings.database_url)
    store = AuditStore(engine)
    try:
        records = store.decisions_for_replay(force=args.force, recorded_from=args.from_, recorded_to=args.to, limit=args.limit)
        print(replay(current, candidate, records, limit=args.limit).model_dump_json(indent=2))
    finally:
        store.close()
        engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service.cli.policy", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a policy directory as start-up does")
    validate.add_argument("policy_dir", nargs="?", default=None)
    impact = commands.add_parser("impact", help="replay recorded decisions through a candidate policy")
    impact.add_argument("--candidate", required=True, help="candidate policy directory")
    impact.add_argument("--force", required=True)
    impact.add_argument("--from", dest="from_", type=datetime.fromisoformat, default=None)
    impact.add_argument("--to", type=datetime.fromisoformat, default=None)
    impact.add_argument("--limit", type=int, default=100_000)
    impact.add_argument("--database-url", default=None, help="defaults to DATABASE_URL")
    args = parser.parse_args(argv)
    schema_dir = get_settings().schema_dir
    if args.command == "validate":
        return _validate(Path(args.policy_dir) if args.policy_dir else get_settings().policy_dir, schema_dir)
    return _impact(args, schema_dir)


if __name__ == "__main__":
    sys.exit(main())
