"""Audit tools that need neither the service nor its database.

python -m service.cli.audit verify-export FILE --public-key KEY [--public-key OLD_KEY ...]
        [--sign-every N] [--force FORCE] [--json]
    Check an NDJSON export (GET /v1/audit/export) offline: every entry's digest and link, every
    signed checkpoint against the public key(s), and a signature at every multiple of the signing
    interval. KEY is the base64 public key (GET /v1/audit/public-keys) or a file holding it; give
    retired keys too when the export spans a key rotation. --sign-every overrides the interval the
    export states (use the value the service was configured with, AUDIT_SIGN_EVERY). Exit status:
    0 intact, 1 broken, 2 unusable input.

python -m service.cli.audit new-signing-key
    Print a new Ed25519 signing key (base64, for AUDIT_SIGNING_KEY) and, on stderr, its public key.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.store.offline import verify_export
from service.store.signing import Signer, SigningKeyError, new_key_text, read_public_key


def _verify_export(args: argparse.Namespace) -> int:
    try:
        keys = [read_public_key(Path(text).read_text() if Path(text).is_file() else text) for text in args.public_key]
    except SigningKeyError as exc:
        print(f"--public-key: {exc}", file=sys.stderr)
        return 2
    try:
        with open(args.file, encoding="utf-8") as handle:
            result = verify_export(handle, keys, sign_every=args.sign_every, force=args.force)
    except OSError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # UnicodeDecodeError is a ValueError
        print(f"{args.file}: not an audit export this tool can read ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    if not result.chains and not result.problems:
        print("the export holds no entries: nothing to check")
        return 0
    if args.json:
        print(
            json.dumps(
                {
                    "intact": result.intact,
                    "problems": result.problems,
                    "notes": result.notes,
                    "chains": [{**vars(chain), "intact": chain.intact} for chain in result.chains],
                },
                indent=2,
            )
        )
    else:
        for problem in result.problems:
            print(f"BROKEN: {problem}")
        for note in result.notes:
            print(f"note: {note}")
        for chain in result.chains:
            span = f"entries {chain.first_seq} to {chain.last_seq}" if chain.entries else "no entries"
            state = "intact" if chain.intact else "BROKEN"
            print(
                f"{chain.chain}: {state}, {chain.entries} {span.split(' ', 1)[0]} checked ({span}), {chain.signatures} signatures"
            )
            for problem in chain.problems:
                print(f"  BROKEN: {problem}")
            for note in chain.notes:
                print(f"  note: {note}")
    return 0 if result.intact and result.chains else 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service.cli.audit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify-export", help="check an NDJSON export offline")
    check.add_argument("file", type=Path)
    check.add_argument("--public-key", action="append", required=True, help="base64 Ed25519 public key, or a file holding it")
    check.add_argument(
        "--sign-every", type=_positive, help="the signing interval (AUDIT_SIGN_EVERY); default: what the export states"
    )
    check.add_argument("--force", help="check only this force's chain")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    commands.add_parser("new-signing-key", help="print a new signing key")
    args = parser.parse_args(argv)
    if args.command == "new-signing-key":
        key = new_key_text()
        print(key)
        print(f"public key: {Signer.from_text(key).public_key}", file=sys.stderr)
        return 0
    return _verify_export(args)


if __name__ == "__main__":
    sys.exit(main())
