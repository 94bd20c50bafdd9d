"""Source documents: find a clause's text so that every quoted citation can be checked."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBERED_CLAUSE = re.compile(r"^\s*(?:-\s*)?(\d+(?:\.\d+)*)\.?\s")


def normalise(text: str) -> str:
    """Collapse runs of whitespace so that line breaks in a document do not matter."""
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class SourceText:
    """The clauses (or headed sections) of one document, each as normalised text."""

    document_id: str
    clauses: dict[str, str]

    def clause_text(self, clause: str) -> str | None:
        return self.clauses.get(clause)


def parse_numbered(document_id: str, text: str) -> SourceText:
    """Split a document into numbered clauses; a clause runs until the next numbered line."""
    clauses: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _NUMBERED_CLAUSE.match(line)
        if match:
            current = clauses.setdefault(match.group(1), [])
        if current is not None:
            current.append(line)
    return SourceText(document_id, {k: normalise("\n".join(v)) for k, v in clauses.items()})


def parse_headed(document_id: str, text: str, sections: list[str]) -> SourceText:
    """Split a document into sections that start at the given heading lines, in order."""
    lines = text.splitlines()
    starts: list[tuple[int, str]] = []
    position = 0
    for heading in sections:
        for index in range(position, len(lines)):
            if lines[index].strip() == heading:
                starts.append((index, heading))
                position = index + 1
                break
        else:
            raise ValueError(f"heading {heading!r} not found in order in document {document_id!r}")
    clauses: dict[str, str] = {}
    for number, (index, heading) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(lines)
        clauses[heading] = normalise("\n".join(lines[index:end]))
    return SourceText(document_id, clauses)
