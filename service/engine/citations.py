"""Source documents and citations: every quote a rule rests on is checked word for word.

The sources index names each document the policy may cite; numbered documents (WMP, Kent) are
split into clauses, headed ones (the APP, the apprenticeship standard) into sections. A citation
must name a known document and clause, and (except legislation, which carries no text here) quote
words that stand in that clause.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from service.engine.files import Problems, canonical, read_json, validate
from service.engine.policy import Citation, Document
from service.engine.sources import SourceText, normalise, parse_headed, parse_numbered

SOURCES_DIR = "sources"


class Sources:
    """The documents a policy directory may cite, their parsed text, and what goes into digests."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.documents: dict[str, Document] = {}
        self.texts: dict[str, SourceText] = {}
        self.digest_parts: dict[str, str] = {}

    def load(self, directory: Path, shown: str, validator: Draft202012Validator) -> None:
        """Read ``directory``/index.json and every document it names; problems are recorded, not raised."""
        index_path = directory / "index.json"
        if not index_path.is_file():
            self.problems.add(shown, "", "missing: the index of source documents is required")
            return
        index = read_json(index_path, shown, self.problems)
        if index is None or not validate(validator, index, shown, self.problems):
            return
        for position, entry in enumerate(index["documents"]):
            pointer = f"/documents/{position}"
            if entry["id"] in self.documents:
                self.problems.add(shown, pointer + "/id", f"duplicate document id {entry['id']!r}")
                continue
            if entry["kind"] != "legislation" and not self._read_text(directory, entry, shown, pointer):
                continue
            self.documents[entry["id"]] = Document(
                entry["id"], entry["title"], entry["publisher"], entry["kind"], entry["cite_as"]
            )
        self.digest_parts["index.json"] = canonical(index)

    def _read_text(self, directory: Path, entry: dict[str, Any], shown: str, pointer: str) -> bool:
        try:
            raw = (directory / entry["file"]).read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.add(shown, pointer + "/file", f"cannot read {entry['file']}: {exc}")
            return False
        if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            self.problems.add(
                shown, pointer + "/sha256", f"{entry['file']} is not the document as published: its SHA-256 differs"
            )
            return False
        try:
            if entry["structure"] == "numbered":
                parsed = parse_numbered(entry["id"], text)
            else:
                parsed = parse_headed(entry["id"], text, entry.get("sections", []))
        except ValueError as exc:
            self.problems.add(shown, pointer + "/sections", str(exc))
            return False
        self.texts[entry["id"]] = parsed
        self.digest_parts[entry["file"]] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return True

    def cite(self, raw: dict[str, Any], *, policy: str, file: str, pointer: str) -> Citation | None:
        """Resolve and check one citation; records a problem and returns None when it is wrong."""
        document = self.documents.get(raw["document"])
        if document is None:
            self.problems.add(file, pointer + "/document", f"unknown document {raw['document']!r}")
            return None
        clause = raw["clause"]
        quote = raw.get("quote")
        if document.kind != "legislation":
            if quote is None:
                self.problems.add(file, pointer, f"a citation of {document.cite_as} must quote the words it rests on")
                return None
            text = self.texts[document.id].clause_text(clause)
            if text is None:
                self.problems.add(file, pointer + "/clause", f"{document.cite_as} has no clause {clause!r}")
                return None
            if normalise(quote) not in text:
                self.problems.add(
                    file, pointer + "/quote", f"quote not found word for word in {document.cite_as} {clause}: {quote!r}"
                )
                return None
        return Citation(
            policy=policy, document_id=document.id, document=document.title, clause=clause, quote=quote, cite_as=document.cite_as
        )
