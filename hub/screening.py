"""The sensitive-word screening engine: normalise a text, match it, map hits back, decide.

Pure computation: no I/O, no asyncio, no storage. The service layer builds an engine from word entries with
:func:`build_engine` (possibly in a worker process: the engine pickles) and calls :meth:`ScreeningEngine.screen`
on every message, from any thread.

**Normal form.** Matching sees through how a word is written. Each character maps to its normal form: NFKC
(full-width ``ＡＢＣ１２３`` → ``abc123``, circled ``①`` → ``1``, ``⑴`` → ``(1)``), then case folding, then
traditional → simplified Chinese character by character with OpenCC's ``t2s`` data (``詞`` → ``词``), and
numerals of any script to ASCII digits (``❶`` → ``1``). Punctuation, symbols (emoji included), spaces, control
and format characters (zero-width space, soft hyphen, BOM, tags …), combining marks, Hangul fillers and the
BMP's private-use characters are *skipped*: they vanish, so ``敏*感.词``, ``敏 感 词`` and ``敏\\u200b感词`` all
read ``敏感词``. Latin, Greek and Cyrillic letters that look like an ASCII letter read as it (``fаlun`` with a
Cyrillic ``а``; a lone Greek letter beside Chinese, as in ``α受体``, stays Greek: :func:`_contextual_forms`).
:func:`normalise_word` gives a word's normal form; words are normalised like texts. A text with right-to-left
content is also matched in the order it is displayed (:mod:`hub.bidi`), and a word listed with ``pinyin`` also
in its pinyin spelling (:func:`pinyin_forms`).

**Representation.** pyahocorasick finds a node's child by a linear scan of its children, so on the large CJK
alphabet a character-keyed automaton scans thousands of root children per character of text. The engine
matches a *dense code* instead: each character occurring in the word list gets a two-unit code ``hi lo``
(``hi`` from U+0080, ``lo`` in U+0040–U+007F) assigned by frequency in the word list, and the keys are inserted
in code order, so a node has at most 64 children below the root and lists the likely ones first. Every other
kept character becomes one shared two-unit *filler* code, every skipped character NUL. One ``str.translate``
with a per-engine table (a list indexed by code point: about twice as fast there as a dict) turns a text into
that code at C speed; since every kept character is two units wide, a match ending at unit ``u`` ends after
normal-form character ``(u + 1) // 2``, and the NULs, removed before matching, tell where the skipped characters
were, which maps positions back to the original text. ``bench/screening.py`` measures this against UTF-8 bytes,
plain characters, ahocorasick-rs and a dict trie.

.. versionadded:: 0.1
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, TypeVar

import ahocorasick
import opencc

from hub.bidi import RTL_TRIGGERS, display_order, needs_reordering

Action = Literal["pass", "mask", "alert", "block"]
_Frozen = TypeVar("_Frozen")

ALLOW = "allow"
MASK_CHAR = "*"

#: How strong each result action is; the strongest action among the hits wins.
ACTION_STRENGTH: Mapping[str, int] = MappingProxyType({"pass": 0, "mask": 1, "alert": 2, "block": 3})

#: When two entries share a normal form, the higher rank keeps it. "allow" ranks highest because an
#: allow-listed word cancels any hit inside its own span, and a word's span contains itself.
_ENTRY_RANK: Mapping[str, int] = MappingProxyType({"mask": 1, "alert": 2, "block": 3, ALLOW: 4})

#: Unicode general categories that are skipped (read as absent) when matching.
_SKIPPED_CATEGORY_PREFIXES = ("P", "S", "Z", "M")
_SKIPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
#: Letters that draw nothing (the Hangul fillers, default-ignorable in Unicode): skipped like format characters.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")

#: The code of a skipped character, removed before matching. NUL is itself skipped.
_SKIP = "\x00"
#: The code of every kept character that no word contains.
_FILLER = "\x01\x02"
#: The code, in the translate table, of a character whose normal form has several characters
#: (``⑩`` → ``10``). Like a character beyond the table it is one unit wide, so either makes the
#: length check in :meth:`ScreeningEngine.screen` fail (they can only shorten the text, never
#: cancel out) and the text takes the character-by-character path.
_SEVERAL = "\x04"
#: Two units between a text's stored order and its display order: no key contains them, so no match spans both.
_ORDER_BREAK = "\x05\x05"
#: A key that never matches (no text code contains ``\x03``) inserted first so that the filler's
#: first unit is the root's first child: a filler then costs one comparison, not a root scan. It
#: also means the automaton is never empty.
_FILLER_KEY = _FILLER + "\x03"
_CODE_HI_START = 0x80
_CODE_LO_START = 0x40
_CODE_BASE = 64
_UNITS_PER_CHAR = 2

#: Code points below this get a slot in the per-engine list: all of planes 0–3 (up to the end of
#: CJK Extension H). Rarer characters (plane-14 tags, planes 15–16 private use) take a slow path.
_TABLE_END = 0x323B0
_PLANE_14 = range(0xE0000, 0xE1000)

#: Blocks of unified ideographs: NFKC, case folding and digits leave them alone, so only the
#: traditional → simplified mapping can change one. Skipping the generic path for them halves the
#: time to build the tables.
_IDEOGRAPH_BLOCKS = (
    range(0x3400, 0x4DC0),
    range(0x4E00, 0xA000),
    range(0x20000, 0x2A6E0),
    range(0x2A700, 0x2EBF0),
    range(0x30000, _TABLE_END),
)
_T2S_SOURCE_BLOCKS = (*_IDEOGRAPH_BLOCKS, range(0xF900, 0xFB00), range(0x2F800, 0x2FA20))

#: Scripts whose letters may read as the ASCII letter they look like (see :func:`_look_alike_letters`).
_LOOK_ALIKE_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC"})

#: Normalising a character's output again can change it (NFKC then case folding then NFKC …); a
#: few rounds reach the fixed point for every code point in Unicode 14.
_MAX_NORMALISE_ROUNDS = 6

#: A word's pinyin is matched only for words of this many Chinese characters or more ...
PINYIN_MIN_CHARS = 2
#: ... whose spelling has this many letters or more (see :func:`pinyin_forms`).
PINYIN_MIN_LETTERS = 4


@dataclass(frozen=True)
class WordEntry:
    """One word of a word list, with what to do when a text contains it."""

    word: str
    action: str  # "block" | "mask" | "alert" | "allow" ("allow" = allow-list word)
    category: str = ""
    pinyin: bool = False  # also match the word's pinyin spelling (see :func:`pinyin_forms`)


@dataclass(frozen=True)
class Hit:
    """One occurrence of a sensitive word in a screened text (offsets into the original text)."""

    word: str
    category: str
    action: str
    start: int
    end: int


@dataclass(frozen=True)
class ScreenResult:
    """The decision for a text, the text to store and deliver, and the hits behind the decision."""

    action: str
    text: str
    hits: tuple[Hit, ...]


# -- character tables (one per process, shared by every engine) -----------------------------------


class _Tables(NamedTuple):
    """Per-process character tables derived from Unicode data and OpenCC."""

    normal_forms: Mapping[int, str | None]  # code point → normal form (None: skipped), if changed
    skipped: tuple[int, ...]  # code points below _TABLE_END that are skipped
    variants: Mapping[str, tuple[int, ...]]  # normal char → other code points with that normal form
    expansions: Mapping[int, str]  # code point → its normal form of two or more characters
    lone_greek: Mapping[int, str]  # Greek look-alike (read as Latin in normal_forms) → its form when alone
    reorderable: tuple[int, ...]  # code points below _TABLE_END that can change the display order (bidi)


def _is_skipped(char: str) -> bool:
    """Whether matching reads through ``char`` as if it were not there."""
    category = unicodedata.category(char)
    return category[0] in _SKIPPED_CATEGORY_PREFIXES or category in _SKIPPED_CATEGORIES or char in _INVISIBLE_LETTERS


def _digits_of(char: str) -> str:
    """ASCII digits for a numeral of any script (``❶`` → ``1``), or ``""`` if it is not one.

    Only number categories count, so Chinese numerals such as 一 (a letter) stay themselves.
    """
    if unicodedata.category(char)[0] != "N":
        return ""
    value = unicodedata.numeric(char, -1.0)
    if value < 0 or value != int(value):
        return ""
    return str(int(value))


def _normalise_step(char: str, t2s: Mapping[str, str], look_alikes: Mapping[str, str]) -> str:
    """One rewrite of one character; :func:`_normal_form_of` repeats it to the fixed point.

    NFKC comes first so that symbols with a compatibility form (circled letters, ``⑴``) read as
    what they show rather than being skipped as symbols. Look-alike letters come before case
    folding: a capital Cyrillic ``В`` shows a ``B``, its folded ``в`` does not.
    """
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char:
        return compatible
    if _is_skipped(char):
        return ""
    if char in look_alikes:
        return look_alikes[char]
    decomposed = unicodedata.normalize("NFD", char)
    if decomposed != char and any(unicodedata.category(part)[0] == "M" for part in decomposed):
        return decomposed  # é → e + U+0301; the mark is skipped on the next round
    folded = char.casefold()
    if folded != char:
        return folded
    return _digits_of(char) or t2s.get(char, char)


def _normal_form_of(char: str, t2s: Mapping[str, str], look_alikes: Mapping[str, str]) -> str:
    """The normal form of one character (empty if it is skipped)."""
    current = char
    for _ in range(_MAX_NORMALISE_ROUNDS):
        following = "".join(_normalise_step(part, t2s, look_alikes) for part in current)
        if following == current:
            return current
        current = following
    raise RuntimeError(f"no normal form for U+{ord(char):04X}")  # pragma: no cover


def _look_alike_letters() -> dict[str, str]:
    """Latin, Greek and Cyrillic letters that look like one ASCII letter, mapped to it (Cyrillic ``а`` → ``a``,
    Greek ``ο`` → ``o``, dotless ``ı`` → ``i``), from Unicode's confusables data (``confusable_homoglyphs``).

    Only these three scripts and only letters to ASCII letters: the data also pairs CJK with kana (``口`` with
    ``ロ``), digits with letters (``0`` with ``O``) and ASCII with ASCII (``rn`` with ``m``), which would change
    ordinary Chinese or English text. A capital that the data pairs with ``l`` (``I`` and ``l`` are one
    prototype there) reads as ``I``, so that it folds like a Latin ``I``.
    """
    from confusable_homoglyphs.utils import load

    look_alikes = {}
    for char, homoglyphs in load("confusables.json").items():
        if len(char) != 1 or char.isascii() or not unicodedata.category(char).startswith("L"):
            continue
        if alias_of(char) not in _LOOK_ALIKE_SCRIPTS:
            continue
        letters = sorted(h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalpha())
        if not letters:
            continue
        same_case = [letter for letter in letters if letter.isupper() == char.isupper()] or letters
        letter = same_case[0]
        look_alikes[char] = "I" if letter == "l" and char.isupper() else letter
    return look_alikes


def _t2s_characters() -> dict[str, str]:
    """OpenCC's traditional → simplified mapping, one character at a time.

    Converting all candidates in one call joined by newlines gives the same answer as one call per
    character (no phrase spans a newline) and takes a twentieth of the time.
    """
    sources = [chr(code) for block in _T2S_SOURCE_BLOCKS for code in block]
    targets = opencc.OpenCC("t2s").convert("\n".join(sources)).split("\n")
    if len(targets) != len(sources):  # pragma: no cover - would mean OpenCC merged lines
        raise RuntimeError("OpenCC t2s changed the number of lines")
    return {source: target for source, target in zip(sources, targets, strict=True) if source != target}


def _candidate_code_points(t2s: Mapping[str, str]) -> Iterable[int]:
    """Code points whose normal form may differ from themselves."""
    ideographs = {code for block in _IDEOGRAPH_BLOCKS for code in block}
    converted = {ord(char) for char in t2s}
    for code in range(_TABLE_END):
        if code not in ideographs or code in converted:
            yield code
    yield from _PLANE_14


def _changed_normal_forms() -> tuple[dict[int, str | None], dict[int, str]]:
    """Every code point whose normal form is not itself (~0.4 s; see :func:`_tables`), and the Greek look-alikes'
    normal forms when they are not read as Latin letters."""
    t2s = _t2s_characters()
    look_alikes = _look_alike_letters()
    changed: dict[int, str | None] = {}
    for code in _candidate_code_points(t2s):
        char = chr(code)
        normal = _normal_form_of(char, t2s, look_alikes)
        if normal != char:
            changed[code] = normal or None
    not_greek = {char: letter for char, letter in look_alikes.items() if alias_of(char) != "GREEK"}
    lone_greek = {}
    for code, normal in changed.items():  # type: ignore[assignment]  # this loop's normal may be None; the first loop's never is
        if normal is not None and len(normal) == 1 and normal.isascii() and normal.isalpha():
            alone = _normal_form_of(chr(code), t2s, not_greek)
            if alone != normal:
                lone_greek[code] = alone
    return changed, lone_greek


def alias_of(char: str) -> str:
    """The script of ``char`` as the confusables data names it (``LATIN``, ``GREEK`` …)."""
    from confusable_homoglyphs.categories import alias

    return alias(char)


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """Build the character tables once per process: every engine and every word shares them."""
    normal_forms, lone_greek = _changed_normal_forms()
    variants: dict[str, list[int]] = {}
    expansions: dict[int, str] = {}
    for code, normal in normal_forms.items():
        if normal is None or code >= _TABLE_END:
            continue
        if len(normal) == 1:
            variants.setdefault(normal, []).append(code)
        else:
            expansions[code] = normal
    skipped = tuple(code for code, normal in normal_forms.items() if normal is None and code < _TABLE_END)
    return _Tables(
        normal_forms=MappingProxyType(normal_forms),
        skipped=skipped,
        variants=MappingProxyType({char: tuple(codes) for char, codes in variants.items()}),
        expansions=MappingProxyType(expansions),
        lone_greek=MappingProxyType(lone_greek),
        reorderable=tuple(code for code in range(_TABLE_END) if unicodedata.bidirectional(chr(code)) in RTL_TRIGGERS),
    )


def normalise_word(word: str) -> str:
    """The normal form ``word`` is matched in ("" if nothing is left), as texts are normalised."""
    tables = _tables()
    if tables.lone_greek.keys().isdisjoint(map(ord, word)):
        return word.translate(tables.normal_forms)
    return "".join(_contextual_forms(word, tables))


def _contextual_forms(text: str, tables: _Tables) -> list[str]:
    """The normal form of each character of ``text``, where Greek look-alikes read as Latin letters only inside a
    Latin word (``gοοgle``) or two or more together (``ΒΟΑ``, ``ρορ``). One alone beside Chinese or starting an
    abbreviation stays Greek: medical text writes ``α受体``, ``γ干扰素``, ``α-IFN``, ``γGT``, and there ``α`` is no
    ``a``. Skipped characters are looked through, as in matching."""
    forms = [tables.normal_forms.get(ord(char), char) or "" for char in text]
    kept = [position for position, form in enumerate(forms) if form]
    group: list[int] = []
    for number, position in enumerate([*kept, -1]):  # -1: the end closes the last group
        if position >= 0 and ord(text[position]) in tables.lone_greek:
            group.append(number)
            continue
        if group and len(group) == 1 and not (_is_latin(forms, kept, group[0] - 1)
                                              and _is_latin(forms, kept, group[0] + 1)):
            forms[kept[group[0]]] = tables.lone_greek[ord(text[kept[group[0]]])]
        group = []
    return forms


def _is_latin(forms: list[str], kept: list[int], number: int) -> bool:
    """Whether the ``number``-th kept character reads as an ASCII letter."""
    if not 0 <= number < len(kept):
        return False
    form = forms[kept[number]]
    return form.isascii() and form.isalpha()


def pinyin_forms(word: str) -> tuple[str, ...]:
    """The normal forms of a Chinese word's pinyin spellings, matched for a word listed with ``pinyin``: the whole
    toneless pinyin of its most likely reading (pypinyin, which reads phrases: 银行 → ``yinhang``), ü both as
    typed (``v``) and as shown without its dots (``u``). Tone marks, spaces and symbols between the letters are
    skipped like everywhere (``fǎ lún-gōng``). Initials alone (``flg``) are not matched.

    Only words of :data:`PINYIN_MIN_CHARS` or more Chinese characters, whose spelling has
    :data:`PINYIN_MIN_LETTERS` or more letters: shorter ASCII runs occur by chance in ordinary text (spaces are
    skipped, so ``a yi`` reads ``ayi``). Any other word has none (``()``).
    """
    normal = normalise_word(word)
    if len(normal) < PINYIN_MIN_CHARS or not all(_is_han(char) for char in normal):
        return ()
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(normal, style=Style.NORMAL)
    spelling = "".join(syllables)
    if len(syllables) != len(normal) or not (spelling.isascii() and spelling.isalpha()):
        return ()  # a character pypinyin does not know
    if len(spelling) < PINYIN_MIN_LETTERS:
        return ()
    return tuple(dict.fromkeys((spelling, spelling.replace("v", "u"))))


def _is_han(char: str) -> bool:
    return any(ord(char) in block for block in _IDEOGRAPH_BLOCKS)


def _forms_of(entry: WordEntry) -> tuple[str, ...]:
    """Every normal form an entry is matched in: its own, then its pinyin spellings if it asks for them."""
    normal = normalise_word(entry.word)
    forms: tuple[str, ...] = (normal,) if normal else ()
    if entry.pinyin:
        forms += tuple(form for form in pinyin_forms(entry.word) if form != normal)
    return forms


# -- building ----------------------------------------------------------------------------------------


class _Key(NamedTuple):
    """The automaton's value for one normal form: the entry that won it."""

    length: int  # in normal-form characters
    word: str
    category: str
    action: str
    strength: int  # ACTION_STRENGTH of the action (0 for "allow")
    form: str  # the normal form: keeps the two pinyin spellings of one word (``lv``/``lu``) distinct keys


def _check_entry(entry: WordEntry) -> None:
    """Reject an entry whose action the engine does not know, naming the word."""
    if entry.action not in _ENTRY_RANK:
        raise ValueError(f"unknown action {entry.action!r} for word {entry.word!r}")


def _merge_entries(entries: Iterable[WordEntry]) -> dict[str, _Key]:
    """One key per normal form: the highest-ranked entry, the first one entered on a tie.

    Words whose normal form is empty (only symbols, say) are skipped: they could never be matched
    without matching everywhere. A word listed with ``pinyin`` also competes for its pinyin forms.
    """
    keys: dict[str, _Key] = {}
    for entry in entries:
        _check_entry(entry)
        for normal in _forms_of(entry):
            current = keys.get(normal)
            if current is None or _ENTRY_RANK[entry.action] > _ENTRY_RANK[current.action]:
                strength = ACTION_STRENGTH.get(entry.action, 0)
                keys[normal] = _Key(len(normal), entry.word, entry.category, entry.action, strength, normal)
    return keys


def _assign_codes(normal_words: Iterable[str]) -> dict[str, str]:
    """A two-unit code for each character of the words, the most frequent first."""
    frequency = Counter(char for word in normal_words for char in word)
    return {
        char: chr(_CODE_HI_START + rank // _CODE_BASE) + chr(_CODE_LO_START + rank % _CODE_BASE)
        for rank, (char, _) in enumerate(frequency.most_common())
    }


def _encode(normal: str, codes: Mapping[str, str]) -> str:
    """The dense code of a normal-form text."""
    return "".join([codes.get(char, _FILLER) for char in normal])


def _code_table(codes: Mapping[str, str], tables: _Tables) -> list[str]:
    """The per-engine translate table: code point → code (NUL if skipped, filler if unknown)."""
    table = [_FILLER] * _TABLE_END
    for code_point in tables.skipped:
        table[code_point] = _SKIP
    for code_point in tables.expansions:
        table[code_point] = _SEVERAL
    for char, code in codes.items():
        if ord(char) < _TABLE_END:
            table[ord(char)] = code
        for code_point in tables.variants.get(char, ()):
            table[code_point] = code
    for code_point in (*tables.lone_greek, *tables.reorderable):  # their reading depends on the text around them
        if code_point < _TABLE_END:
            table[code_point] = _SEVERAL
    return table


def _build_automaton(keys: Mapping[str, _Key], codes: Mapping[str, str]) -> ahocorasick.Automaton:
    """The automaton over the encoded keys, inserted in code order (most frequent child first)."""
    encoded = {_encode(normal, codes): key for normal, key in keys.items()}
    automaton = ahocorasick.Automaton()
    automaton.add_word(_FILLER_KEY, None)
    for code in sorted(encoded):
        automaton.add_word(code, encoded[code])
    automaton.make_automaton()
    return automaton


# -- screening ---------------------------------------------------------------------------------------

#: Result actions by strength, the inverse of :data:`ACTION_STRENGTH`.
_ACTIONS_BY_STRENGTH = tuple(sorted(ACTION_STRENGTH, key=ACTION_STRENGTH.__getitem__))

Locate = Callable[[int], int]
"""Maps a normal-form character position to the position of the original character it came from."""


def _skip_locator(marked: str) -> Locate:
    """The :data:`Locate` of a text translated without expansions (``marked``, NULs still in).

    Each NUL is one skipped original character and every two other units one kept character, so a
    normal-form position moves right by the number of NULs before it: one per boundary between the
    NUL-separated pieces, found by bisecting the pieces' cumulative lengths.
    """
    if _SKIP not in marked:
        return _same_position
    ends = list(accumulate(map(len, marked.split(_SKIP))))
    return lambda position: position + bisect_right(ends, position * _UNITS_PER_CHAR)


def _same_position(position: int) -> int:
    """The :data:`Locate` of a text in which nothing was skipped."""
    return position


def _unit_span(end: int, key: _Key) -> tuple[int, int]:
    """The span, in code units, of a match ending at unit ``end`` (inclusive, as pyahocorasick reports it)."""
    return end + 1 - key.length * _UNITS_PER_CHAR, end + 1


def _without_allowed(found: list[tuple[int, _Key]]) -> list[tuple[int, _Key]]:
    """Drop allow-word matches and every match lying inside one (``found``: ``(end unit, key)``)."""
    allowed = [_unit_span(end, key) for end, key in found if key.action == ALLOW]
    if not allowed:
        return found
    return [(end, key) for end, key in found if key.action != ALLOW and not _inside(_unit_span(end, key), allowed)]


def _match_order(match: tuple[int, _Key]) -> tuple[int, int]:
    """Matches sort by end, then by start (the longer first), as pyahocorasick reports them."""
    return match[0], -match[1].length


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """Whether ``span`` lies entirely inside one of ``spans``."""
    return any(start <= span[0] and span[1] <= end for start, end in spans)


def _frozen(cls: type[_Frozen], fields: dict[str, Any]) -> _Frozen:
    """``cls(**fields)`` for a frozen dataclass without slots, built twice as fast.

    A frozen dataclass's ``__init__`` calls ``object.__setattr__`` once per field (~0.6 µs for a
    hit); setting the instance dictionary in one call gives an equal object in half the time, which
    counts when a lexicon full of one-character words makes hits common.
    """
    instance = object.__new__(cls)
    object.__setattr__(instance, "__dict__", fields)
    return instance


def _spread_spans(first: int, stop: int, locate: Locate) -> list[tuple[int, int]]:
    """One original span per matched character of normal-form positions ``first:stop``, for a match with
    skipped characters inside: those keep showing between the masked ones."""
    return [(locate(position), locate(position) + 1) for position in range(first, stop)]


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with every character inside ``spans`` replaced by :data:`MASK_CHAR`."""
    pieces: list[str] = []
    done = 0
    for start, end in sorted(spans):
        start = max(start, done)
        if end > start:
            pieces += (text[done:start], MASK_CHAR * (end - start))
            done = end
    pieces.append(text[done:])
    return "".join(pieces)


class ScreeningEngine:
    """Screens texts against one built word list. Immutable, picklable, safe to share by threads.

    Build one with :func:`build_engine`; derive one with a few words changed, in milliseconds, with
    :meth:`changed`.
    """

    __slots__ = ("_automaton", "_codes", "_has_allowed", "_overlay", "_overlay_keys", "_retired", "_table",
                 "version", "word_count")
    version: str  # given at build time
    word_count: int  # distinct normal forms, sensitive and allow-listed

    def __init__(
        self, automaton: ahocorasick.Automaton, codes: Mapping[str, str], version: str, word_count: int,
        has_allowed: bool | None = None,
    ) -> None:
        """Wrap a built automaton and its character codes (see :func:`build_engine`)."""
        self.version = version
        self.word_count = word_count
        self._automaton = automaton
        self._codes = dict(codes)
        self._table = _code_table(codes, _tables())
        if has_allowed is None:
            has_allowed = any(key is not None and key.action == ALLOW for key in automaton.values())
        self._has_allowed = has_allowed
        self._overlay: ahocorasick.Automaton | None = None  # the words changed since the build, if any
        self._overlay_keys: dict[str, _Key] = {}
        self._retired: frozenset[_Key] = frozenset()  # the build's keys that changed since

    def __repr__(self) -> str:
        """Say which list this is, for logs."""
        return f"<ScreeningEngine version={self.version!r} words={self.word_count} changed={self.changes}>"

    @property
    def changes(self) -> int:
        """How many normal forms differ from the built automaton (0 for a fresh build)."""
        return len(self._retired) + len(self._overlay_keys)

    def __getstate__(self) -> tuple[Any, ...]:
        """Pickle the automaton, the codes and the changes; the 1.6 MB translate table is rebuilt on arrival."""
        return self._automaton, self._codes, self.version, self.word_count, self._overlay_keys, self._retired

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        """Restore from :meth:`__getstate__`."""
        automaton, codes, version, word_count, overlay_keys, retired = state
        self.__init__(automaton, codes, version, word_count)  # type: ignore[misc]  # restoring a pickled engine
        self._use_changes(overlay_keys, retired)

    def changed(self, removed: Iterable[str | WordEntry], added: Iterable[WordEntry], version: str) -> ScreeningEngine:
        """A new engine with the normal forms of ``removed`` words dropped, then ``added`` entries put in (an
        added entry replaces whatever this engine held for its normal form), labelled ``version``.

        Pinyin forms (:func:`pinyin_forms`) are shared property: an added entry's pinyin form leaves a key that
        another word holds at least as strongly alone, and a removed entry (given as a :class:`WordEntry`) drops
        its pinyin forms only where its own key holds them. A removed word's pinyin form that another listed word
        also spells comes back at the next full build.

        The built automaton is shared, not copied: the changes go into a second, small automaton, and the big
        one's matches for changed words are dropped. That takes milliseconds for a few words (a full build of
        50k words takes ~0.4 s), at a small cost per screened text until the next :func:`build_engine`.
        """
        added = list(added)
        removed = [WordEntry(item, ALLOW) if isinstance(item, str) else item for item in removed]
        overlay_keys = dict(self._overlay_keys)
        retired = set(self._retired)
        codes = dict(self._codes)
        new_chars = {char for entry in added for form in _forms_of(entry) for char in form if char not in codes}
        rank = len(codes)
        for char in sorted(new_chars):
            codes[char] = chr(_CODE_HI_START + rank // _CODE_BASE) + chr(_CODE_LO_START + rank % _CODE_BASE)
            rank += 1
        added_keys = _merge_entries(added)
        changing = {entry.word for entry in (*added, *removed)}  # type: ignore[union-attr]  # as above
        dropped = []
        for entry in removed:
            own, *spellings = _forms_of(entry) or ("",)  # type: ignore[arg-type]  # as above
            dropped.append(own)
            for form in spellings:
                held = self._held(form, overlay_keys, retired, codes)
                if held is not None and held.word == entry.word:  # type: ignore[union-attr]  # removed words come as WordEntry here (the docstring)
                    dropped.append(form)
        own_forms = {normalise_word(entry.word) for entry in added}
        for form in [form for form in added_keys if form not in own_forms]:
            held = self._held(form, overlay_keys, retired, codes)
            if held is not None and held.word not in changing and \
                    _ENTRY_RANK[held.action] >= _ENTRY_RANK[added_keys[form].action]:
                del added_keys[form]
        for normal in dropped + list(added_keys):
            overlay_keys.pop(normal, None)
            built = self._automaton.get(_encode(normal, codes), None) if normal else None
            if built is not None:
                retired.add(built)
        overlay_keys.update(added_keys)
        engine = object.__new__(ScreeningEngine)
        engine.version = version
        engine._automaton = self._automaton
        engine._codes = codes
        engine._table = self._table if not new_chars else _code_table(codes, _tables())
        engine._has_allowed = self._has_allowed
        engine._use_changes(overlay_keys, frozenset(retired))
        return engine

    def _held(self, form: str, overlay_keys: dict[str, _Key], retired: set[_Key],
              codes: Mapping[str, str]) -> _Key | None:
        """The key this engine (with ``overlay_keys`` and ``retired`` so far) matches ``form`` with, if any."""
        if form in overlay_keys:
            return overlay_keys[form]
        built = self._automaton.get(_encode(form, codes), None)
        return None if built is None or built in retired else built

    def _use_changes(self, overlay_keys: dict[str, _Key], retired: frozenset[_Key]) -> None:
        self._overlay_keys = overlay_keys
        self._retired = retired
        self._overlay = _build_automaton(overlay_keys, self._codes) if overlay_keys or retired else None
        self._has_allowed = self._has_allowed or any(key.action == ALLOW for key in overlay_keys.values())
        self.word_count = len(self._automaton) - 1 - len(retired) + len(overlay_keys)  # - 1: the filler key

    def screen(self, text: str) -> ScreenResult:
        """Decide what to do with ``text``: hits, the strongest action, the text to deliver."""
        marked = text.translate(self._table)
        normal = marked.replace(_SKIP, "")
        kept = len(text) - (len(marked) - len(normal))
        if len(normal) != _UNITS_PER_CHAR * kept:
            return self._screen_unusual(text)  # some character became several, or has no slot
        found = list(self._automaton.iter(normal))
        if self._overlay is not None:
            found = self._with_changes(found, normal)
        if not found:
            return _frozen(ScreenResult, {"action": "pass", "text": text, "hits": ()})
        return self._decide(text, found, _skip_locator(marked), one_to_one=True)

    def _with_changes(self, found: list[tuple[int, _Key]], code: str) -> list[tuple[int, _Key]]:
        """The built automaton's matches minus the changed words', plus the overlay's, in (end, start) order."""
        retired = self._retired
        found = [match for match in found if match[1] not in retired]
        found += self._overlay.iter(code)  # type: ignore[union-attr]  # screen() checked it
        found.sort(key=_match_order)
        return found

    def _screen_unusual(self, text: str) -> ScreenResult:
        """Screen character by character: slower, but right for any character. A text whose display order
        differs from its stored order is matched in both orders (see :mod:`hub.bidi`)."""
        char_codes = self._codes_of(text)
        units: list[str] = []
        index: list[int] = []
        orders: list[Iterable[int]] = [range(len(text))]
        if needs_reordering(text):
            orders.append(display_order(text))
        for number, order in enumerate(orders):
            if number:
                units.append(_ORDER_BREAK)
                index.append(-1)
            for position in order:
                code = char_codes[position]
                if code != _SKIP:
                    units.append(code)
                    index += [position] * (len(code) // _UNITS_PER_CHAR)
        code = "".join(units)
        found = list(self._automaton.iter(code))
        if self._overlay is not None:
            found = self._with_changes(found, code)
        result = self._decide(text, found, index.__getitem__, one_to_one=False)
        return result if len(orders) == 1 else _distinct_hits(result)

    def _codes_of(self, text: str) -> list[str]:
        """The code of each character of ``text`` (:data:`_SKIP` for a skipped one), including those beyond the
        table and those whose reading depends on their neighbours."""
        codes = [self._table[ord(char)] if ord(char) < _TABLE_END else _SEVERAL for char in text]
        if _SEVERAL not in codes:
            return codes
        forms = _contextual_forms(text, _tables())
        return [code if code != _SEVERAL else _encode(form, self._codes) if form else _SKIP
                for code, form in zip(codes, forms, strict=True)]

    def _decide(self, text: str, found: list[tuple[int, _Key]], locate: Locate, one_to_one: bool) -> ScreenResult:
        """The result for ``text`` given its matches (``(end unit, key)``, in end order); ``one_to_one`` says that
        every normal-form character came from a character of its own (nothing expanded).

        This loop runs once per hit, and a lexicon full of one-character words makes hits common: keys are
        unpacked in the loop header and hits built with :func:`_frozen`.
        """
        if self._has_allowed:
            found = _without_allowed(found)
        hits = []
        masked: list[tuple[int, int]] = []
        strongest = 0
        for unit_end, (length, word, category, action, strength, _) in found:
            stop = (unit_end + 1) // _UNITS_PER_CHAR
            first = stop - length
            if one_to_one:
                start, end = locate(first), locate(stop - 1) + 1
            else:  # a match in display order may run backwards through the text
                positions = [locate(position) for position in range(first, stop)]
                start, end = min(positions), max(positions) + 1
            hits.append(_frozen(Hit, {"word": word, "category": category, "action": action, "start": start,
                                      "end": end}))
            strongest = max(strongest, strength)
            if action == "mask":
                if one_to_one and end - start == length:  # no skipped character inside: one span
                    masked.append((start, end))
                else:
                    masked += _spread_spans(first, stop, locate)
        action = _ACTIONS_BY_STRENGTH[strongest]
        if action != "block" and masked:
            text = _mask(text, masked)
        return _frozen(ScreenResult, {"action": action, "text": text, "hits": tuple(hits)})


def _distinct_hits(result: ScreenResult) -> ScreenResult:
    """``result`` with each hit once, in (end, start) order: a word shown in the stored order too is matched in
    both orders."""
    hits = sorted({(hit.end, hit.start, hit.word): hit for hit in result.hits}.values(),
                  key=lambda hit: (hit.end, hit.start))
    return ScreenResult(result.action, result.text, tuple(hits))


def build_engine(entries: Iterable[WordEntry], version: str = "") -> ScreeningEngine:
    """Build an engine from word entries (sensitive and allow-listed words together).

    Entries are normalised like texts; entries sharing a normal form collapse into one, the
    strongest action winning (first entry on a tie; an "allow" entry beats all, see
    :func:`_merge_entries`). Raises :class:`ValueError` on an unknown action.
    """
    keys = _merge_entries(entries)
    codes = _assign_codes(keys)
    has_allowed = any(key.action == ALLOW for key in keys.values())
    return ScreeningEngine(_build_automaton(keys, codes), codes, version, len(keys), has_allowed)
