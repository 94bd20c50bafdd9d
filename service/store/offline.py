"""Checking an exported audit trail with neither the service nor the database: only the NDJSON
file and the public key(s) that sign checkpoints (no database driver or web framework is imported).

For each chain in the file: every entry's digest is recomputed from its content and linked to the
entry before it (from the chain's genesis, a purge checkpoint together with its purge entry, or,
for an export of a time window, the first entry exported); positions must follow without gaps;
every signature must verify under a given public key and name the digest its entry has; and every
position at a multiple of the signing interval must carry its signature. An attacker who rewrites
a chain from some entry on and recomputes every digest after it cannot sign the new digests, so
the rewrite shows at the next signed position (the export's own signature over the newest entry
covers the tail after the last interval).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.store.digests import CONTENT_FIELDS, chain_digest, content_digest, genesis, statement
from service.store.signing import key_id, signature_valid

# What an exported entry must give for its digest to be recomputed.
_CONTENT = (*CONTENT_FIELDS, "request_json", "response_json")


@dataclass
class ChainResult:
    chain: str
    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    signatures: int = 0
    signed_through: int | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass
class ExportResult:
    chains: list[ChainResult]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems and all(chain.intact for chain in self.chains)


def verify_export(
    lines: Iterable[str], public_keys: Iterable[Ed25519PublicKey], *, sign_every: int | None = None, force: str | None = None
) -> ExportResult:
    """Check an export; ``sign_every`` defaults to the interval the export's header states."""
    keys = {key_id(key): key for key in public_keys}
    entries: dict[str, list[dict[str, Any]]] = {}
    checkpoints: dict[str, dict[int, dict[str, Any]]] = {}
    signatures: dict[str, list[dict[str, Any]]] = {}
    header: dict[str, Any] = {}
    result = ExportResult([])
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            kind = item["type"]
        except (ValueError, KeyError, TypeError):
            result.problems.append(f"line {number} is not an export line")
            continue
        if kind == "export":
            header = item
        elif kind == "entry":
            entries.setdefault(item["chain"], []).append(item)
        elif kind == "checkpoint":
            checkpoints.setdefault(item["chain"], {})[int(item["through_chain_seq"])] = item
        elif kind == "signature":
            signatures.setdefault(item["chain"], []).append(item)
        else:
            result.problems.append(f"line {number} has an unknown type {kind!r}")
    interval = sign_every or header.get("sign_every")
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        result.problems.append("the signing interval is not known: give it (--sign-every) or export with a header")
        return result
    if sign_every is None:
        result.notes.append(
            f"signing interval {interval} taken from the export's header, which is not signed; give --sign-every to be sure"
        )
    windowed = bool(header.get("from") or header.get("to"))
    chains = sorted(set(entries) | set(signatures))
    if force is not None:
        chains = [chain for chain in chains if chain == force]
        if not chains:
            result.problems.append(f"the export holds no chain {force!r}")
    for chain in chains:
        result.chains.append(
            _check_chain(
                chain, entries.get(chain, []), checkpoints.get(chain, {}), signatures.get(chain, []), keys, interval, windowed
            )
        )
    return result


def _check_chain(
    chain: str,
    entries: list[dict[str, Any]],
    checkpoints: Mapping[int, dict[str, Any]],
    signatures: list[dict[str, Any]],
    keys: Mapping[str, Ed25519PublicKey],
    interval: int,
    windowed: bool = False,
) -> ChainResult:
    result = ChainResult(chain)
    entries = sorted(entries, key=lambda entry: int(entry["chain_seq"]))
    by_seq: dict[int, dict[str, Any]] = {}
    expected_prev: str | None = None
    expected_seq: int | None = None
    ids = {entry["id"]: entry for entry in entries}
    for entry in entries:
        seq = int(entry["chain_seq"])
        if expected_seq is None:
            if seq == 1:
                expected_prev = genesis(chain)
            elif seq - 1 in checkpoints:
                checkpoint = checkpoints[seq - 1]
                purge = ids.get(checkpoint.get("purge_record_id"))
                if purge is None or purge.get("kind") != "purge":
                    if not windowed:
                        result.problems.append(f"the checkpoint before entry {seq} comes without the purge entry that made it")
                        return result
                    result.notes.append(
                        f"the purge entry behind the checkpoint before entry {seq} is outside the exported window"
                    )
                else:
                    made = json.loads(purge["response_json"])
                    if (
                        made.get("through_chain_seq", made.get("through_seq")) != seq - 1
                        or made.get("checkpoint_digest") != checkpoint["digest"]
                    ):
                        result.problems.append(f"the checkpoint before entry {seq} is not the one its purge entry made")
                        return result
                expected_prev = checkpoint["digest"]
            else:
                result.notes.append(f"the export starts at entry {seq}: links before it are not checked")
                expected_prev = entry["prev_digest"]
        elif seq != expected_seq:
            result.problems.append(f"entries {expected_seq} to {seq - 1} are missing")
            return result
        for readable, text in (("request", "request_json"), ("response", "response_json")):
            if readable in entry and entry[readable] != json.loads(entry[text]):
                result.problems.append(f"entry {seq}: its readable {readable} differs from the text its digest covers")
                return result
        version = int(entry.get("digest_version", 1))
        if chain_digest(entry["prev_digest"], content_digest(_content(entry), version)) != entry["digest"]:
            result.problems.append(f"entry {seq} is altered: its content does not give its digest")
            return result
        if entry["prev_digest"] != expected_prev:
            result.problems.append(f"entry {seq} does not follow the entry before it")
            return result
        by_seq[seq] = entry
        expected_prev, expected_seq = entry["digest"], seq + 1
        result.entries += 1
        result.first_seq = seq if result.first_seq is None else result.first_seq
        result.last_seq = seq
    signed: set[int] = set()
    for item in signatures:
        seq = int(item["chain_seq"])
        key = keys.get(item.get("key_id", ""))
        if key is None:
            result.problems.append(f"the signature at entry {seq} is by key {item.get('key_id')!r}, which was not given")
            continue
        message = statement(chain=chain, chain_seq=seq, digest=item["digest"], signed_at=item["signed_at"], key_id=item["key_id"])
        if not signature_valid(key, message, item["signature"]):
            result.problems.append(f"the signature at entry {seq} does not verify")
            continue
        signed_entry = by_seq.get(seq)
        if signed_entry is None and not windowed and result.last_seq is not None and seq > result.last_seq:
            result.problems.append(f"entry {seq} was signed but the export ends at entry {result.last_seq}: entries are missing")
            continue
        if signed_entry is not None and signed_entry["digest"] != item["digest"]:
            result.problems.append(f"entry {seq} no longer has the digest signed for it: the chain was rewritten")
            continue
        if signed_entry is not None:
            signed.add(seq)
            result.signatures += 1
    if result.first_seq is not None and result.last_seq is not None:
        first_multiple = -(-result.first_seq // interval) * interval
        for seq in range(first_multiple, result.last_seq + 1, interval):
            if seq not in signed:
                result.problems.append(f"entry {seq} should carry a signed checkpoint and does not")
        result.signed_through = max(signed, default=None)
        if result.signed_through != result.last_seq:
            unsigned = result.last_seq - (result.signed_through or result.first_seq - 1)
            result.notes.append(f"the newest {unsigned} entries are not covered by a signature: they rest on the database alone")
    return result


def _content(entry: dict[str, Any]) -> SimpleNamespace:
    values = {name: entry.get(name) for name in _CONTENT}
    values["recorded_at"] = datetime.fromisoformat(entry["recorded_at"])
    return SimpleNamespace(**values)
