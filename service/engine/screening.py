"""Narrative screening: what the call handler's description says about risk.

The screening list (policy_data/*/screening.json) names categories of risk, each with phrase
patterns. A pattern is a sequence of slots separated by spaces, with optional gaps between them
(``*`` up to three words, ``*N`` up to N); a slot is one or more alternatives separated by ``|``,
each a word or a phrase with its words joined by ``_`` (``made_off|legged_it``). A word written
``~stab`` is matched in all its inflections ("stabs", "stabbed", "stabbing"): the forms are
generated once, at load, and kept only where the Snowball English stemmer agrees they share the
word's stem, with irregular forms ("shot", "fought") from the data; any other word matches as
written.

At decision time the description is normalised (lower case, punctuation to spaces, sentence
ends kept as "." tokens) and one Aho-Corasick pass finds every listed word; patterns are then
checked over the few words found, so the cost does not grow with the size of the list.

A match is dropped when a negator stands just before it in the same sentence ("no weapons",
"nobody hurt"), or when a harmless phrase covers it ("panic attack", "knife and fork", "fire now
out"). Screening only ever adds risk: each category adds flags or markers, and a category that
describes a WMP 2.8.3 incident type makes the call count as that type as well (unless the call
type already covers it, e.g. suicidal words in a high-risk missing person call).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ahocorasick
import snowballstemmer

DEFAULT_GAP = 3
NEGATION_WINDOW = 4  # words before a match in which a negator cancels it
MAX_QUOTED = 3  # matches per category; more add nothing to the decision
WORD_CHARS = 16  # a gap of N words is looked for within N * WORD_CHARS characters (words are counted too)
SENTENCE_ENDS = ".!?;\n"
_STEMMER = snowballstemmer.stemmer("english")
_VOWELS = frozenset("aeiou")
# Everything that is not a letter, digit or apostrophe becomes a space; sentence ends become " . ".
_KEEP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'")
_BYTE_MAP = bytes(
    (b if chr(b) in _KEEP or chr(b) == "," else ord(".") if chr(b) in SENTENCE_ENDS else ord(" ")) for b in range(256)
)


@dataclass(frozen=True, slots=True)
class ScreeningHit:
    """A category the call description shows: the words that show it, the flags or markers it
    adds, and the WMP 2.8.3 incident type it describes (None when it describes none, or the call
    type already covers it)."""

    category: str
    words: tuple[str, ...]
    adds_flags: tuple[str, ...]
    adds_markers: tuple[str, ...]
    describes: str | None = None


class PatternError(ValueError):
    """A screening pattern that cannot be compiled."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A phrase pattern: slots (each a set of accepted phrases) and the largest gap after each."""

    text: str
    slots: tuple[frozenset[str], ...]
    gaps: tuple[int, ...]
    # Per slot, one regular expression for " phrase" followed by a space, longest phrases first.
    finders: tuple[re.Pattern[str], ...] = ()
    longest: tuple[int, ...] = ()  # per slot, the length of its longest " phrase "
    firsts: tuple[frozenset[str], ...] = ()  # per slot, the first words of its phrases

    def __post_init__(self) -> None:
        object.__setattr__(self, "firsts", tuple(frozenset(p.split(" ", 1)[0] for p in slot) for slot in self.slots))
        object.__setattr__(self, "longest", tuple(max(len(p) for p in slot) + 1 for slot in self.slots))
        finders = tuple(
            re.compile(" (?:" + "|".join(re.escape(p) for p in sorted(slot, key=lambda p: (-len(p), p))) + ")(?= )")
            for slot in self.slots
        )
        object.__setattr__(self, "finders", finders)


@dataclass(frozen=True, slots=True)
class Category:
    """One category of risk the description may show, and what it adds to the decision."""

    code: str
    describes: str | None
    flags: tuple[str, ...]
    markers: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    requires: tuple[Pattern, ...]
    excepts: tuple[Pattern, ...]
    negatable: bool
    inherent_to: frozenset[str]


class Screener:
    """The compiled screening list of one policy set.

    One Aho-Corasick pass over the normalised description finds the phrases that can start a
    category's pattern (its anchors); the rest of each pattern, the exceptions and the negators
    are then checked only in the few words around an anchor, with plain substring searches.
    """

    def __init__(
        self, categories: Iterable[Category], harmless: Iterable[Pattern], negators: Iterable[str], common: Iterable[str] = ()
    ) -> None:
        self.categories = tuple(categories)
        self.harmless = tuple(harmless)
        self.negators = frozenset(negators)
        self._phrase_negators = tuple(n for n in self.negators if " " in n)
        # Each pattern is looked for from its anchor: the slot with the fewest common words, so that
        # long everyday narratives wake few patterns. anchor phrase -> (category, pattern, slot).
        common_words = frozenset(common)
        self._starting: dict[str, list[tuple[int, Pattern, int]]] = {}
        for number, category in enumerate(self.categories):
            for pattern in category.patterns:
                slot = _anchor_slot(pattern, common_words)
                for phrase in pattern.slots[slot]:
                    self._starting.setdefault(phrase, []).append((number, pattern, slot))
        self._automaton = _automaton(self._starting)
        # The phrases that can start a harmless phrase or an exception, found only when a match needs checking.
        guards = {phrase for pattern in self.harmless for phrase in pattern.slots[0]}
        guards |= {phrase for category in self.categories for pattern in category.excepts for phrase in pattern.slots[0]}
        self._guards = _automaton(guards)

    def screen(self, description: str | None, *, call_type: str | None = None) -> tuple[ScreeningHit, ...]:
        """The categories the description shows, each with the words that showed it."""
        if not description or self._automaton is None:
            return ()
        text, present = _normalised(description)
        words: dict[int, list[str]] = {}
        accepted: dict[int, int] = {}
        guards: dict[str, list[int]] | None = None
        for end, phrase in self._automaton.iter(text):
            start = end - len(phrase)  # ``end`` indexes the key's last space; the phrase starts after its first
            for number, pattern, slot in self._starting[phrase]:
                if accepted.get(number, 0) >= MAX_QUOTED:
                    continue
                # Cheap first: every other slot needs one of its words somewhere in the text.
                if any(first.isdisjoint(present) for index, first in enumerate(pattern.firsts) if index != slot):
                    continue
                match = _around(pattern, slot, text, start, start + len(phrase))
                if match is None:
                    continue
                if guards is None:
                    guards = _find(self._guards, text)
                if not self._counts(self.categories[number], text, (start, start + len(phrase)), match[0], guards):
                    continue
                accepted[number] = accepted.get(number, 0) + 1
                found = words.setdefault(number, [])
                quoted = text[match[0] : match[1]]
                if quoted not in found:
                    found.append(quoted)
        hits = []
        for number in sorted(words):
            category = self.categories[number]
            if category.requires and not any(_anywhere(pattern, text) for pattern in category.requires):
                continue
            if call_type in category.inherent_to:
                # The call type already covers this (suicidal words in a high-risk missing person call):
                # the person's vulnerability is kept, but no other incident type and no location marker.
                hits.append(ScreeningHit(category.code, tuple(words[number]), category.flags, (), None))
            else:
                hits.append(
                    ScreeningHit(category.code, tuple(words[number]), category.flags, category.markers, category.describes)
                )
        return tuple(hits)

    def _counts(self, category: Category, text: str, anchor: tuple[int, int], start: int, guards: dict[str, list[int]]) -> bool:
        """Whether a match stands: no harmless phrase or exception of the category covers the phrase
        that anchored it, and the match (beginning at ``start``) is not negated."""
        if guards:
            for pattern in category.excepts + self.harmless:
                if _covers(pattern, text, anchor, guards):
                    return False
        return not (category.negatable and self._negated(text, start))

    def _negated(self, text: str, start: int) -> bool:
        """A negator among the few words before ``start``, in the same sentence."""
        window = text[max(0, start - 80) : start].rsplit(" . ", 1)[-1].rsplit(" , ", 1)[-1].split()[-NEGATION_WINDOW:]
        if any(word in self.negators for word in window):
            return True
        joined = f" {' '.join(window)} "
        return any(f" {negator} " in joined for negator in self._phrase_negators)


def normalise(description: str) -> str:
    """Lower case, ASCII where it can be, words separated by single spaces, sentence ends as '.' and commas
    as ',' (a negator does not reach past either)."""
    return _normalised(description)[0]


def _normalised(description: str) -> tuple[str, set[str]]:
    """The normalised text, and the set of its words."""
    text = description.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
        text = text.encode("ascii", "ignore").decode("ascii")
    words = text.encode("ascii").translate(_BYTE_MAP).decode("ascii").replace(".", " . ").replace(",", " , ").split()
    return " " + " ".join(words) + " ", set(words)


def _automaton(phrases: Iterable[str]) -> Any:
    """An Aho-Corasick automaton finding each phrase as a whole-word " phrase " key."""
    automaton = ahocorasick.Automaton()
    for phrase in sorted(phrases):
        automaton.add_word(f" {phrase} ", phrase)
    if len(automaton):
        automaton.make_automaton()
        return automaton
    return None


def _find(automaton: Any, text: str) -> dict[str, list[int]]:
    """Where each phrase of the automaton starts in the text."""
    found: dict[str, list[int]] = {}
    if automaton is not None:
        for end, phrase in automaton.iter(text):
            found.setdefault(phrase, []).append(end - len(phrase))
    return found


def _anchor_slot(pattern: Pattern, common: frozenset[str]) -> int:
    """The slot whose phrases are least often everyday words (the first such, on a tie)."""
    scores = [sum(1 for phrase in slot if phrase in common) / len(slot) for slot in pattern.slots]
    return scores.index(min(scores))


def _around(pattern: Pattern, slot: int, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The whole match of ``pattern`` whose slot ``slot`` spans [start, end): earlier slots are
    looked for backwards, later ones forwards, each within its gap and sentence."""
    for index in range(slot - 1, -1, -1):
        gap, longest, finder = pattern.gaps[index], pattern.longest[index], pattern.finders[index]
        best = None
        for found in finder.finditer(text, max(0, start - 1 - WORD_CHARS * gap - longest - 1), start):
            if found.end() <= start - 1:
                best = found
        if best is None or text.count(" ", best.end(), start - 1) > gap:
            return None
        if gap and text.find(" . ", best.end() - 1, start) != -1:
            return None
        start = best.start() + 1
    whole = _forward(pattern, slot, text, end)
    return None if whole is None else (start, whole)


def _forward(pattern: Pattern, slot: int, text: str, end: int) -> int | None:
    """The end of the slots after ``slot``, found forwards from ``end``."""
    for finder, gap, longest in zip(pattern.finders[slot + 1 :], pattern.gaps[slot:], pattern.longest[slot + 1 :], strict=True):
        found = finder.search(text, end, end + WORD_CHARS * gap + longest + 1)
        if found is None or text.count(" ", end, found.start()) > gap:
            return None
        if gap and text.find(" . ", end, found.start() + 1) != -1:
            return None
        end = found.end()
    return end


def _covers(pattern: Pattern, text: str, span: tuple[int, int], guards: dict[str, list[int]]) -> bool:
    """Whether some match of ``pattern`` covers ``span`` (a harmless phrase or exception around it)."""
    for phrase in pattern.slots[0] & guards.keys():
        for start in guards[phrase]:
            if span[0] - 120 <= start <= span[0]:
                whole = _around(pattern, 0, text, start, start + len(phrase))
                if whole is not None and whole[1] >= span[1]:
                    return True
    return False


def _anywhere(pattern: Pattern, text: str) -> bool:
    """Whether ``pattern`` matches anywhere in the text."""
    return any(
        _around(pattern, 0, text, found.start() + 1, found.end()) is not None for found in pattern.finders[0].finditer(text)
    )


# --- compiling the screening list ------------------------------------------------------------


def inflections(word: str, irregular: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """The forms of ``word``: its regular inflections that share its Snowball stem, and any
    irregular forms listed for it."""
    candidates = {word, word + "s", word + "es", word + "ed", word + "d", word + "ing"}
    if len(word) >= 3 and word[-1] not in _VOWELS and word[-1] not in "wxy" and word[-2] in _VOWELS and word[-3] not in _VOWELS:
        candidates |= {word + word[-1] + "ed", word + word[-1] + "ing"}
    if word.endswith("e"):
        candidates.add(word[:-1] + "ing")
    if word.endswith("y") and len(word) > 2 and word[-2] not in _VOWELS:
        candidates |= {word[:-1] + "ies", word[:-1] + "ied"}
    stem = _STEMMER.stemWord(word)
    forms = {form for form in candidates if _STEMMER.stemWord(form) == stem}
    forms.add(word)
    forms.update(irregular.get(word, ()))
    return frozenset(forms)


def _phrases(alternative: str, irregular: Mapping[str, Iterable[str]], pattern: str) -> set[str]:
    """The phrases one alternative stands for: its words joined by spaces, each ~word in every form."""
    choices: list[set[str]] = []
    for word in alternative.split("_"):
        bare = word.removeprefix("~")
        if not bare or set(bare) - _KEEP:
            raise PatternError(f"pattern {pattern!r}: {word!r} is not a lower-case word")
        choices.append(set(inflections(bare, irregular)) if word.startswith("~") else {bare})
    phrases = {""}
    for options in choices:
        phrases = {f"{head} {option}".strip() for head in phrases for option in options}
    return phrases


def compile_pattern(text: str, irregular: Mapping[str, Iterable[str]]) -> Pattern:
    """Compile one pattern such as ``~pull|~draw * knife|blade|zombie_knife``; raise PatternError when malformed."""
    return PatternCompiler(irregular).compile(text)


class PatternCompiler:
    """Compiles the patterns of one screening list against its irregular forms.

    Compiled patterns are kept for the life of the process, keyed by their text and the irregular
    forms, so that checking a list, building it, reloading a policy or loading it per force
    compiles each pattern once."""

    def __init__(self, irregular: Mapping[str, Iterable[str]]) -> None:
        self.irregular = irregular
        self._key = json.dumps({word: list(forms) for word, forms in irregular.items()}, sort_keys=True)

    def compile(self, text: str) -> Pattern:
        """The compiled pattern; raise PatternError when it is malformed."""
        key = (text, self._key)
        cached = _COMPILED.get(key)
        if cached is None:
            cached = _compile_pattern(text, self.irregular)
            if len(_COMPILED) < _COMPILED_LIMIT:
                _COMPILED[key] = cached
        return cached


_COMPILED: dict[tuple[str, str], Pattern] = {}
_COMPILED_LIMIT = 50_000


def _compile_pattern(text: str, irregular: Mapping[str, Iterable[str]]) -> Pattern:
    slots: list[frozenset[str]] = []
    gaps: list[int] = []
    pending_gap = 0
    for token in text.split():
        if token.startswith("*"):
            if not slots:
                raise PatternError(f"pattern {text!r} starts with a gap")
            try:
                pending_gap = int(token[1:]) if len(token) > 1 else DEFAULT_GAP
            except ValueError as exc:
                raise PatternError(f"pattern {text!r}: a gap is * or *N") from exc
            continue
        phrases: set[str] = set()
        for alternative in token.split("|"):
            phrases |= _phrases(alternative, irregular, text)
        if slots:
            gaps.append(pending_gap)
        pending_gap = 0
        slots.append(frozenset(phrases))
    if not slots or pending_gap:
        raise PatternError(f"pattern {text!r} has no words, or ends with a gap")
    return Pattern(text, tuple(slots), tuple(gaps))


def compile_screener(entries: Iterable[dict[str, Any]], settings: Mapping[str, Any], compiler: PatternCompiler) -> Screener:
    """The Screener for validated screening.json content: category entries merged across the
    lineage, and the shared negators and harmless phrases; ``compiler`` holds the irregular forms."""
    compile_pattern = compiler.compile
    categories = [
        Category(
            code=entry["category"],
            describes=entry.get("describes"),
            flags=tuple(sorted(entry.get("implies_flags", ()))),
            markers=tuple(sorted(entry.get("implies_markers", ()))),
            patterns=tuple(compile_pattern(p) for p in entry["patterns"]),
            requires=tuple(compile_pattern(p) for p in entry.get("requires", ())),
            excepts=tuple(compile_pattern(p) for p in entry.get("except", ())),
            negatable=entry.get("negatable", True),
            inherent_to=frozenset(entry.get("inherent_to", ())),
        )
        for entry in entries
    ]
    harmless = [compile_pattern(p) for p in settings.get("harmless", ())]
    return Screener(categories, harmless, settings.get("negators", ()), settings.get("common_words", ()))
