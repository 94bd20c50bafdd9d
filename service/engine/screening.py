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

import functools
import json
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ahocorasick
import snowballstemmer

DEFAULT_GAP = 3
NEGATION_WINDOW = 4  # words before a match in which a negator cancels it
RECENT = 256  # descriptions whose answers are kept
MAX_QUOTED = 3  # matches per category; more add nothing to the decision
GUARD_REACH = 120  # a harmless phrase or exception is looked for this many characters before an anchor
WORD_CHARS = 16  # a gap of N words is looked for within N * WORD_CHARS characters (words are counted too)
SENTENCE_ENDS = ".!?;\n"
_STEMMER = snowballstemmer.stemmer("english")
_VOWELS = frozenset("aeiou")
# Everything that is not a letter, digit or apostrophe becomes a space; sentence ends become " . ".
_KEEP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'")
_BYTE_MAP = bytes(
    (b if chr(b) in _KEEP or chr(b) == "," else ord(".") if chr(b) in SENTENCE_ENDS else ord(" ")) for b in range(256)
)
_SPACES = re.compile(rb"  +")


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
    category's pattern (its anchors) and those that can start a harmless phrase or an exception
    (its guards); the rest of each pattern, the exceptions and the negators are then checked only
    in the few words around an anchor, with plain substring searches.
    """

    def __init__(
        self, categories: Iterable[Category], harmless: Iterable[Pattern], negators: Iterable[str], common: Iterable[str] = ()
    ) -> None:
        self.categories = tuple(categories)
        self.harmless = tuple(harmless)
        self.negators = frozenset(negators)
        self._phrase_negators = tuple(n for n in self.negators if " " in n)
        # Each pattern is looked for from its anchor: the slot least often expected in a narrative, so
        # that long everyday narratives wake few patterns. anchor phrase -> (category, pattern number, slot).
        rank: dict[str, int] = {}
        for word in common:
            rank.setdefault(word, len(rank))
        self._patterns: list[Pattern] = []
        self._needs: list[tuple[frozenset[str], ...]] = []  # per pattern, the words one of which each other slot needs
        starting: dict[str, list[tuple[int, int, int]]] = {}
        for number, category in enumerate(self.categories):
            for pattern in category.patterns:
                slot = _anchor_slot(pattern, rank)
                index = len(self._patterns)
                self._patterns.append(pattern)
                self._needs.append(tuple(first for i, first in enumerate(pattern.firsts) if i != slot))
                for phrase in pattern.slots[slot]:
                    starting.setdefault(phrase, []).append((number, index, slot))
        # Harmless phrases cover a match in any category, exceptions only in their own (owner -1: any).
        guarding: dict[str, list[tuple[int, Pattern]]] = {}
        for pattern in self.harmless:
            for phrase in pattern.slots[0]:
                guarding.setdefault(phrase, []).append((-1, pattern))
        for number, category in enumerate(self.categories):
            for pattern in category.excepts:
                for phrase in pattern.slots[0]:
                    guarding.setdefault(phrase, []).append((number, pattern))
        self._starting = {phrase: tuple(entries) for phrase, entries in starting.items()}
        self._guarding = {phrase: tuple(entries) for phrase, entries in guarding.items()}
        self._automaton = _automaton(
            {
                phrase: (self._starting.get(phrase, ()), self._guarding.get(phrase, ()))
                for phrase in starting.keys() | guarding.keys()
            }
        )

        # A call's description is screened again for each candidate officer, each escalation and
        # each retry: the last few answers are kept (the answer depends only on these arguments).
        self._recent = functools.lru_cache(maxsize=RECENT)(self._screen)

    def screen(self, description: str | None, *, call_type: str | None = None) -> tuple[ScreeningHit, ...]:
        """The categories the description shows, each with the words that showed it."""
        if not description or self._automaton is None:
            return ()
        return self._recent(description, call_type)

    def forget(self) -> None:
        """Drop the answers kept for recent descriptions (to measure screening at first sight)."""
        self._recent.cache_clear()

    def _screen(self, description: str, call_type: str | None) -> tuple[ScreeningHit, ...]:
        text = normalise(description)
        anchors: list[tuple[int, str, tuple[tuple[int, int, int], ...]]] = []
        guards: list[tuple[int, str, tuple[tuple[int, Pattern], ...]]] = []
        for end, (phrase, starting, guarding) in self._automaton.iter(text):
            start = end - len(phrase)  # ``end`` indexes the key's last space; the phrase starts after its first
            if starting:
                anchors.append((start, phrase, starting))
            if guarding:
                guards.append((start, phrase, guarding))
        if not anchors:
            return ()
        guards.sort(key=lambda guard: guard[0])  # found by where they end; looked up by where they start
        guard_starts = [start for start, _, _ in guards]
        words: dict[int, list[str]] = {}
        accepted: dict[int, int] = {}
        viable: dict[int, bool] = {}
        present: set[str] | None = None
        for start, phrase, starting in anchors:
            for number, index, slot in starting:
                if accepted.get(number, 0) >= MAX_QUOTED:
                    continue
                # Cheap first: every other slot needs one of its words somewhere in the text.
                possible = viable.get(index)
                if possible is None:
                    if present is None:
                        present = set(text.split())
                    possible = viable[index] = not any(words_needed.isdisjoint(present) for words_needed in self._needs[index])
                if not possible:
                    continue
                spans = _around(self._patterns[index], slot, text, start, start + len(phrase))
                if spans is None:
                    continue
                if guards and self._covered(number, text, spans, guards, guard_starts):
                    continue
                if self.categories[number].negatable and self._negated(text, spans[0][0]):
                    continue
                accepted[number] = accepted.get(number, 0) + 1
                found = words.setdefault(number, [])
                quoted = text[spans[0][0] : spans[-1][1]]
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

    @staticmethod
    def _covered(
        number: int,
        text: str,
        spans: list[tuple[int, int]],
        guards: list[tuple[int, str, tuple[tuple[int, Pattern], ...]]],
        guard_starts: list[int],
    ) -> bool:
        """Whether a harmless phrase, or an exception of category ``number``, covers the words of
        one slot of the match ("knife" in "pulled out a knife and fork"); it may start up to
        GUARD_REACH characters before the match."""
        for position in range(bisect_left(guard_starts, spans[0][0] - GUARD_REACH), bisect_right(guard_starts, spans[-1][0])):
            start, phrase, guarding = guards[position]
            for owner, pattern in guarding:
                if owner in (-1, number):
                    cover = _around(pattern, 0, text, start, start + len(phrase))
                    if cover is not None and any(cover[0][0] <= first and last <= cover[-1][1] for first, last in spans):
                        return True
        return False

    def _negated(self, text: str, start: int) -> bool:
        """A negator among the few words before ``start``, in the same sentence."""
        window = text[max(0, start - 80) : start].rsplit(" . ", 1)[-1].rsplit(" , ", 1)[-1].split()[-NEGATION_WINDOW:]
        if any(word in self.negators for word in window):
            return True
        joined = f" {' '.join(window)} "
        return any(f" {negator} " in joined for negator in self._phrase_negators)


def normalise(description: str) -> str:
    """Lower case, ASCII where it can be, words separated by single spaces, sentence ends as '.' and commas
    as ',' (a negator does not reach past either), with a space at each end."""
    text = description.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    mapped = text.encode("ascii", "ignore").translate(_BYTE_MAP).replace(b".", b" . ").replace(b",", b" , ")
    return _SPACES.sub(b" ", b" " + mapped + b" ").decode("ascii")


def _automaton(phrases: Mapping[str, tuple[Any, Any]]) -> Any:
    """An Aho-Corasick automaton finding each phrase as a whole-word " phrase " key; its value is
    the phrase followed by what ``phrases`` holds for it."""
    automaton = ahocorasick.Automaton()
    for phrase in sorted(phrases):
        automaton.add_word(f" {phrase} ", (phrase, *phrases[phrase]))
    if len(automaton):
        automaton.make_automaton()
        return automaton
    return None


def _anchor_slot(pattern: Pattern, rank: Mapping[str, int]) -> int:
    """The slot whose phrases are expected least often in a narrative (the first such, on a tie).

    A word's frequency is estimated from its rank among the everyday words (Zipf: the word at rank
    r is about 1/r as frequent as the commonest); a word not among them counts as rarer than all
    of them; a phrase is as frequent as its rarest word."""
    rare = 1.0 / (len(rank) + 2)

    def frequency(phrase: str) -> float:
        return min((1.0 / (rank[word] + 1) if word in rank else rare) for word in phrase.split(" "))

    scores = [sum(frequency(phrase) for phrase in slot) for slot in pattern.slots]
    return scores.index(min(scores))


def _around(pattern: Pattern, slot: int, text: str, start: int, end: int) -> list[tuple[int, int]] | None:
    """The span of each slot of the match of ``pattern`` whose slot ``slot`` spans [start, end):
    earlier slots are looked for backwards, later ones forwards, each within its gap and sentence."""
    spans = [(start, end)]
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
        spans.insert(0, (start, best.end()))
    for finder, gap, longest in zip(pattern.finders[slot + 1 :], pattern.gaps[slot:], pattern.longest[slot + 1 :], strict=True):
        following = finder.search(text, end, end + WORD_CHARS * gap + longest + 1)
        if following is None or text.count(" ", end, following.start()) > gap:
            return None
        if gap and text.find(" . ", end, following.start() + 1) != -1:
            return None
        end = following.end()
        spans.append((following.start() + 1, end))
    return spans


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
