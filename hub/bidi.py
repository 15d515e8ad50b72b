"""The order in which a text is displayed: enough of the Unicode Bidirectional Algorithm (UAX #9) for screening.

A right-to-left override (``\\u202e功轮法``) shows its characters reversed, so the text reads ``法轮功`` on screen
while the stored characters never contain the word; right-to-left marks and letters move runs of Chinese around
the same way. :func:`display_order` gives the original positions in the order a reader sees them, left to right,
so the screening engine can also match what is shown.

Followed: paragraphs (P1–P3), explicit embeddings, overrides and isolates with the depth limit (X1–X9), the weak
types that decide numbers (W1–W7, over level runs), neutrals between strong types (N1, N2), implicit levels
(I1, I2) over isolating run sequences, and reordering (L2). Left out, since they move only characters that
screening skips (spaces, punctuation, brackets): bracket pairs (N0), trailing whitespace (L1) and mirroring (L4).

.. versionadded:: 0.2
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

#: Bidirectional classes whose presence can make the display order differ from the stored order. Without one of
#: them every paragraph is left to right at level 0 or 2, and nothing is reordered.
RTL_TRIGGERS = frozenset({"R", "AL", "RLE", "RLO", "RLI"})

_MAX_DEPTH = 125
_EMBEDDINGS = {"RLE": (True, None), "LRE": (False, None), "RLO": (True, "R"), "LRO": (False, "L")}
_ISOLATES = frozenset({"RLI", "LRI", "FSI"})
_REMOVED = frozenset({"RLE", "LRE", "RLO", "LRO", "PDF", "BN"})  # X9
_STRONG = frozenset({"L", "R", "AL"})
_NEUTRAL = frozenset({"B", "S", "WS", "ON", "RLI", "LRI", "FSI", "PDI"})


class _Entry(NamedTuple):
    level: int
    override: str | None
    isolate: bool


def needs_reordering(text: str) -> bool:
    """Whether the display order of ``text`` may differ from its stored order."""
    return any(unicodedata.bidirectional(char) in RTL_TRIGGERS for char in text)


def display_order(text: str) -> list[int]:
    """The positions of ``text``'s characters in display order (left to right), paragraph by paragraph.

    Characters removed by rule X9 (embedding controls, boundary neutrals) are left out.
    """
    classes = [unicodedata.bidirectional(char) or "L" for char in text]
    order: list[int] = []
    start = 0
    for end, kind in enumerate(classes):
        if kind == "B":
            order += _paragraph_order(classes, start, end + 1)
            start = end + 1
    if start < len(classes):
        order += _paragraph_order(classes, start, len(classes))
    return order


def _base_level(classes: list[str], start: int, end: int) -> int:
    """P2/P3: the direction of the first strong character outside isolates."""
    depth = 0
    for kind in classes[start:end]:
        if kind in _ISOLATES:
            depth += 1
        elif kind == "PDI" and depth:
            depth -= 1
        elif depth == 0 and kind in _STRONG:
            return 0 if kind == "L" else 1
    return 0


def _rtl_first_strong_isolates(classes: list[str], start: int, end: int) -> set[int]:
    """The positions of the FSIs of ``start:end`` whose first strong character (outside nested isolates, up to the
    matching PDI or the paragraph's end) is right to left (X5c). One pass: scanning each FSI's content on its own
    costs O(n²) for a text of unclosed FSIs, and every chat message with right-to-left content comes here."""
    open_isolates: list[int] = []  # positions of the isolates still open, innermost last
    decided: set[int] = set()  # those whose first strong character has been seen
    rtl: set[int] = set()
    for position in range(start, end):
        kind = classes[position]
        if kind in _ISOLATES:
            open_isolates.append(position)
        elif kind == "PDI" and open_isolates:
            open_isolates.pop()
        elif kind in _STRONG and open_isolates and open_isolates[-1] not in decided:
            decided.add(open_isolates[-1])
            if kind != "L" and classes[open_isolates[-1]] == "FSI":
                rtl.add(open_isolates[-1])
    return rtl


def _explicit_levels(classes: list[str], start: int, end: int, base: int) -> tuple[list[int], list[str]]:
    """X1–X8: each character's embedding level and its type after overrides (positions relative to ``start``)."""
    stack = [_Entry(base, None, False)]
    rtl_fsis = _rtl_first_strong_isolates(classes, start, end)
    overflow_isolates = overflow_embeddings = valid_isolates = 0
    levels: list[int] = []
    types: list[str] = []
    for position in range(start, end):
        kind = classes[position]
        top = stack[-1]
        if kind in _EMBEDDINGS or kind in _ISOLATES:
            if kind in _ISOLATES:
                levels.append(top.level)
                types.append(top.override or kind)
                rtl = kind == "RLI" or position in rtl_fsis
                override = None
            else:
                levels.append(top.level)
                types.append(kind)
                rtl, override = _EMBEDDINGS[kind]
            level = (top.level + 1) | 1 if rtl else (top.level + 2) & ~1
            if level <= _MAX_DEPTH and not overflow_isolates and not overflow_embeddings:
                stack.append(_Entry(level, override, kind in _ISOLATES))
                valid_isolates += kind in _ISOLATES
            elif kind in _ISOLATES:
                overflow_isolates += 1
            elif not overflow_isolates:
                overflow_embeddings += 1
            continue
        if kind == "PDI":
            if overflow_isolates:
                overflow_isolates -= 1
            elif valid_isolates:
                overflow_embeddings = 0
                while not stack[-1].isolate:
                    stack.pop()
                stack.pop()
                valid_isolates -= 1
            top = stack[-1]
        elif kind == "PDF":
            if overflow_isolates:
                pass
            elif overflow_embeddings:
                overflow_embeddings -= 1
            elif not top.isolate and len(stack) > 1:
                stack.pop()
        levels.append(base if kind == "B" else top.level)
        types.append(top.override if top.override and kind not in _REMOVED and kind != "B" else kind)
    return levels, types


def _resolve_run(types: list[str], level: int, sos: str, eos: str) -> list[int]:
    """W1–W7, N1–N2 and I1–I2 over one level run: the resolved level of each of its characters."""
    resolved = []
    previous = sos
    for kind in types:  # W1: a mark takes the type before it
        kind = ("ON" if previous in _ISOLATES or previous == "PDI" else previous) if kind == "NSM" else kind
        resolved.append(kind)
        previous = kind
    strong = sos
    for index, kind in enumerate(resolved):  # W2, W3
        if kind == "EN" and strong == "AL":
            resolved[index] = "AN"
        if kind in _STRONG:
            strong = kind
        if kind == "AL":
            resolved[index] = "R"
    for index in range(1, len(resolved) - 1):  # W4
        before, kind, after = resolved[index - 1: index + 2]
        if before == after and ((kind == "ES" and before == "EN") or (kind == "CS" and before in ("EN", "AN"))):
            resolved[index] = before
    _numbers_absorb_terminators(resolved)  # W5
    resolved = ["ON" if kind in ("ES", "ET", "CS") else kind for kind in resolved]  # W6
    strong = sos
    for index, kind in enumerate(resolved):  # W7
        if kind in ("L", "R"):
            strong = kind
        elif kind == "EN" and strong == "L":
            resolved[index] = "L"
    _resolve_neutrals(resolved, level, sos, eos)
    return [_implicit_level(kind, level) for kind in resolved]


def _numbers_absorb_terminators(resolved: list[str]) -> None:
    """W5: a sequence of European terminators next to a European number becomes part of it."""
    index = 0
    while index < len(resolved):
        if resolved[index] != "ET":
            index += 1
            continue
        stop = index
        while stop < len(resolved) and resolved[stop] == "ET":
            stop += 1
        if (index > 0 and resolved[index - 1] == "EN") or (stop < len(resolved) and resolved[stop] == "EN"):
            resolved[index:stop] = ["EN"] * (stop - index)
        index = stop


def _resolve_neutrals(resolved: list[str], level: int, sos: str, eos: str) -> None:
    """N1, N2: neutrals between two strong types of one direction take it (numbers count as R), the others the
    embedding direction."""
    embedding = "R" if level % 2 else "L"
    index = 0
    while index < len(resolved):
        if resolved[index] not in _NEUTRAL:
            index += 1
            continue
        stop = index
        while stop < len(resolved) and resolved[stop] in _NEUTRAL:
            stop += 1
        before = _direction(resolved[index - 1]) if index > 0 else sos
        after = _direction(resolved[stop]) if stop < len(resolved) else eos
        resolved[index:stop] = [before if before == after else embedding] * (stop - index)
        index = stop


def _direction(kind: str) -> str:
    return "L" if kind == "L" else "R"


def _implicit_level(kind: str, level: int) -> int:
    """I1, I2."""
    if level % 2 == 0:
        return level + (1 if kind == "R" else 2 if kind in ("AN", "EN") else 0)
    return level + (1 if kind in ("L", "EN", "AN") else 0)


def _paragraph_order(classes: list[str], start: int, end: int) -> list[int]:
    """The display order of one paragraph ``start:end`` (absolute positions)."""
    base = _base_level(classes, start, end)
    levels, types = _explicit_levels(classes, start, end, base)
    kept = [offset for offset in range(end - start) if classes[start + offset] not in _REMOVED]
    rank = {offset: number for number, offset in enumerate(kept)}  # kept.index, without a scan per sequence
    final: dict[int, int] = {}
    for sequence in _isolating_sequences(kept, levels, classes[start:end]):
        level = levels[sequence[0]]
        first, last = rank[sequence[0]], rank[sequence[-1]]
        before = levels[kept[first - 1]] if first else base
        after = levels[kept[last + 1]] if last + 1 < len(kept) and classes[start + sequence[-1]] not in _ISOLATES \
            else base
        sos = "R" if max(level, before) % 2 else "L"
        eos = "R" if max(level, after) % 2 else "L"
        for offset, resolved in zip(sequence, _resolve_run([types[o] for o in sequence], level, sos, eos),
                                    strict=True):
            final[offset] = resolved
    return [start + offset for offset in _reordered(kept, final)]


def _isolating_sequences(kept: list[int], levels: list[int], classes: list[str]) -> list[list[int]]:
    """BD13: the level runs, a run that ends with an isolate initiator joined to the one starting with its PDI."""
    runs: list[list[int]] = []
    for offset in kept:
        if runs and levels[runs[-1][-1]] == levels[offset]:
            runs[-1].append(offset)
        else:
            runs.append([offset])
    opened: list[list[int]] = []  # sequences waiting for the PDI of the isolate that ends them
    sequences: list[list[int]] = []
    for run in runs:
        if classes[run[0]] == "PDI" and opened:
            sequence = opened.pop()
            sequence += run
        else:
            sequence = list(run)
            sequences.append(sequence)
        if classes[run[-1]] in _ISOLATES:
            opened.append(sequence)
    return sequences


def _reordered(kept: list[int], final: dict[int, int]) -> list[int]:
    """L2: from the highest level to the lowest odd one, reverse every run at that level or higher."""
    order = list(kept)
    if not order:
        return order
    highest = max(final.values())
    lowest_odd = min((level for level in final.values() if level % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        index = 0
        while index < len(order):
            if final[order[index]] < level:
                index += 1
                continue
            stop = index
            while stop < len(order) and final[order[stop]] >= level:
                stop += 1
            order[index:stop] = order[index:stop][::-1]
            index = stop
    return order
