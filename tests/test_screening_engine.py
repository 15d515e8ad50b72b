"""Unit tests of the screening engine (``hub/screening.py``): normal form, matching, mapping back, decisions.

``tests/data/lexicon-sample.txt`` is every 170th distinct word of the MIT-licensed Sensitive-lexicon
(github.com/Konsheng/Sensitive-lexicon, licence in ``tests/data/LICENSE-sensitive-lexicon``). The test of the
whole lexicon reads it from the shared data directory (``HUB_SHARED_DATA``, default ``../shared/data``) and is
skipped when it is not there (failed under CI).
"""

from __future__ import annotations

import pickle
import random
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pytest

from hub.screening import (
    ScreeningEngine,
    ScreenResult,
    WordEntry,
    build_engine,
    normalise_word,
)
from tests.support import SHARED_DATA, require_or_skip

DATA = Path(__file__).parent / "data"
LEXICON_DIR = SHARED_DATA / "sensitive-lexicon" / "Vocabulary"
SKIPPED_FILLERS = ["*", " ", ".", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u3000", "，", "😀",
                   "\n"]


def engine_of(*entries: tuple[str, str] | tuple[str, str, str], version: str = "t") -> ScreeningEngine:
    return build_engine([WordEntry(*entry) for entry in entries], version=version)


def sample_words() -> list[str]:
    return [line.strip() for line in (DATA / "lexicon-sample.txt").read_text("utf-8").splitlines() if line.strip()]


def reference_index(text: str) -> list[int]:
    """Normal-form position → original position, computed one character at a time (independent of the engine's
    whole-text path)."""
    return [position for position, char in enumerate(text) for _ in normalise_word(char)]


def reference_hits(text: str, words: Iterable[str]) -> set[tuple[str, int, int]]:
    """Every (normal form, start, end) occurrence in original offsets, by plain substring search."""
    normal = "".join(normalise_word(char) for char in text)
    index = reference_index(text)
    found = set()
    for word in {normalise_word(word) for word in words} - {""}:
        at = normal.find(word)
        while at >= 0:
            found.add((word, index[at], index[at + len(word) - 1] + 1))
            at = normal.find(word, at + 1)
    return found


def hit_set(result: ScreenResult) -> set[tuple[str, int, int]]:
    return {(normalise_word(hit.word), hit.start, hit.end) for hit in result.hits}


def matched_positions(text: str, start: int, end: int) -> set[int]:
    """The original positions inside start:end whose characters are not skipped."""
    return {position for position in range(start, end) if normalise_word(text[position])}


def assert_masked(original: str, masked: str, positions: set[int]) -> None:
    assert len(masked) == len(original)
    for position, (before, after) in enumerate(zip(original, masked, strict=True)):
        assert after == ("*" if position in positions else before), (position, before, after)


# -- normal form ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "plain"),
    [
        ("ＡＢＣ１２３", "abc123"),
        ("AbC", "abc"),
        ("敏感詞", "敏感词"),
        ("頭髮後面", "头发后面"),
        ("①②③", "123"),
        ("⑴⑵⑶", "123"),
        ("⒈⒉⒊", "123"),
        ("❶❷❸", "123"),
        ("⑩", "10"),
        ("Ⓕⓐⓛⓤⓝ", "falun"),
        ("fàlúngōng", "falungong"),
        ("STRAẞE", "strasse"),
        ("敏*感*词", "敏感词"),
        ("敏 感 词", "敏感词"),
        ("敏.感.词", "敏感词"),
        ("敏\u200b感\u200c词\u200d", "敏感词"),
        ("敏\u2060感\ufeff词\u00ad", "敏感词"),
        ("敏\U000e0041感\U000e0020词", "敏感词"),
        ("敏\u0301感\u20dd词", "敏感词"),
        ("敏😀感👍🏽词", "敏感词"),
        ("敏\u3164感\uffa0词", "敏感词"),
        ("敏\u2800感\ue000词", "敏感词"),
    ],
)
def test_normal_form_sees_through(written: str, plain: str) -> None:
    assert normalise_word(written) == normalise_word(plain)
    result = engine_of((plain, "block", "c")).screen(f"前{written}后")
    assert result.action == "block"
    assert [(hit.start, hit.end) for hit in result.hits] == [(1, 1 + len(written.rstrip("\u200d\u00ad")))]


def test_normal_form_is_idempotent_and_per_character() -> None:
    """Per character, except the Greek look-alikes, which read as Latin only next to a Latin letter (each is kept
    apart here by a Chinese character)."""
    every_char = "".join(chr(code) for code in range(0x30000) if not 0xD800 <= code < 0xE000)
    normal = normalise_word(every_char)
    assert normalise_word(normal) == normal
    apart = "中".join(every_char)
    assert normalise_word(apart) == "中".join(normalise_word(char) for char in every_char)


def test_normal_form_of_only_symbols_is_empty() -> None:
    assert normalise_word("！？。…　*-_/\\\u200b😀\ufeff") == ""
    assert normalise_word("") == ""


def test_chinese_numerals_are_letters_not_digits() -> None:
    assert normalise_word("一二三") == "一二三"


# -- matching and mapping back ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("filler", SKIPPED_FILLERS)
def test_masking_replaces_exactly_the_matched_characters(filler: str) -> None:
    word = "敏感词"
    text = f"请勿说{filler.join(word)}哦{filler}"
    result = engine_of((word, "mask", "c")).screen(text)
    start = text.index(word[0])
    end = text.index(word[-1]) + 1
    assert [(hit.word, hit.start, hit.end) for hit in result.hits] == [(word, start, end)]
    assert result.action == "mask"
    assert_masked(text, result.text, {text.index(char) for char in word})


def test_masking_counts_one_star_per_original_character() -> None:
    text = "打ＱＱ号①②③"
    result = engine_of(("qq", "mask"), ("123", "mask")).screen(text)
    assert result.text == "打**号***"


def test_a_character_that_becomes_several_maps_back_to_itself() -> None:
    text = "第⑩号敏*感*词"
    result = engine_of(("10", "mask"), ("敏感词", "mask")).screen(text)
    assert hit_set(result) == {("10", 1, 2), ("敏感词", 3, 8)}
    assert_masked(text, result.text, {1, 3, 5, 7})


def test_masking_next_to_an_expanded_character_keeps_skipped_ones() -> None:
    text = "⑩.5号"
    result = engine_of(("105", "mask")).screen(text)
    assert hit_set(result) == {("105", 0, 3)}
    assert result.text == "*.*号"


@pytest.mark.parametrize(
    "text",
    [
        "敏😀感词",
        "敏\U0001f468\u200d\U0001f469\u200d\U0001f467感词",
        "敏\ud83d感词",  # a lone surrogate, as a broken client may send
        "敏\u0301感词",
        "e\u0301敏感词🇨🇳",
        "𠀀敏感词𠀀",  # a CJK Extension B character (outside the Basic Multilingual Plane) is kept
    ],
)
def test_astral_surrogate_and_combining_characters_map_right(text: str) -> None:
    result = engine_of(("敏感词", "mask")).screen(text)
    (hit,) = result.hits
    assert text[hit.start] == "敏" and text[hit.end - 1] == "词"
    assert_masked(text, result.text, matched_positions(text, hit.start, hit.end))


def test_words_with_ascii_letters() -> None:
    engine = engine_of(("QQ", "alert", "ad"), ("Falun Gong", "block", "p"))
    assert engine.screen("加我ｑｑ").action == "alert"
    assert engine.screen("加我Q.q").action == "alert"
    assert engine.screen("FALUNGONG").action == "block"
    assert engine.screen("ｆａｌｕｎ－ｇｏｎｇ").action == "block"
    assert engine.screen("加我微信").action == "pass"


def test_overlapping_hits_are_all_reported() -> None:
    engine = engine_of(("中华", "mask", "a"), ("华人", "alert", "b"), ("中华人民", "block", "c"), ("人民", "mask", "d"))
    result = engine.screen("中华人民共和国")
    assert hit_set(result) == {("中华", 0, 2), ("华人", 1, 3), ("中华人民", 0, 4), ("人民", 2, 4)}
    assert result.action == "block"
    assert result.text == "中华人民共和国"


def test_hits_come_in_end_then_start_order() -> None:
    engine = engine_of(("中华", "mask"), ("华人", "mask"), ("中华人民", "mask"), ("人民", "mask"), ("民", "mask"))
    hits = engine.screen("中华人民共和国，人民").hits
    assert [(hit.end, hit.start) for hit in hits] == sorted((hit.end, hit.start) for hit in hits)


def test_same_word_twice() -> None:
    result = engine_of(("毒品", "mask")).screen("毒品，毒-品")
    assert [(hit.start, hit.end) for hit in result.hits] == [(0, 2), (3, 6)]
    assert result.text == "**，*-*"


def test_long_text() -> None:
    rng = random.Random(7)
    filler = "今天天气很好我们去医院看病吧。"
    words = ["敏感词", "违禁品"]
    parts: list[str] = []
    expected: list[tuple[str, int, int]] = []
    length = 0
    while length < 64 * 1024:
        chunk = filler[: rng.randrange(1, len(filler))]
        word = rng.choice(words)
        parts += (chunk, word)
        expected.append((word, length + len(chunk), length + len(chunk) + len(word)))
        length += len(chunk) + len(word)
    text = "".join(parts)
    result = engine_of(*[(word, "mask") for word in words]).screen(text)
    assert [(hit.word, hit.start, hit.end) for hit in result.hits] == expected
    assert_masked(text, result.text, {p for _, start, end in expected for p in range(start, end)})


def test_matches_agree_with_a_plain_substring_search_on_the_lexicon_sample() -> None:
    words = sample_words()
    engine = build_engine([WordEntry(word, "alert", "sample") for word in words])
    rng = random.Random(11)
    for _ in range(200):
        picked = rng.sample(words, 3)
        pieces = ["医生您好，", picked[0], "我最近头疼", picked[1].upper(), "怎么办？", picked[2], "谢谢"]
        text = "".join(rng.choice(["", "", "*", " ", "\u200b"]).join(piece) for piece in pieces)
        assert hit_set(engine.screen(text)) == reference_hits(text, words), text


# -- decisions ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "strongest"),
    [
        (["mask"], "mask"),
        (["alert"], "alert"),
        (["block"], "block"),
        (["mask", "alert"], "alert"),
        (["alert", "mask", "block"], "block"),
        (["mask", "mask"], "mask"),
    ],
)
def test_strongest_action_wins(actions: list[str], strongest: str) -> None:
    words = ["甲乙", "丙丁", "戊己"][: len(actions)]
    engine = build_engine([WordEntry(word, action) for word, action in zip(words, actions, strict=True)])
    text = "，".join(words)
    result = engine.screen(text)
    assert result.action == strongest
    if strongest == "block":
        assert result.text == text
    else:
        mask_words = [word for word, action in zip(words, actions, strict=True) if action == "mask"]
        masked = {text.index(word) + offset for word in mask_words for offset in range(len(word))}
        assert_masked(text, result.text, masked)


def test_alert_with_mask_words_still_masks() -> None:
    result = engine_of(("毒品", "mask"), ("出售", "alert")).screen("出售毒品")
    assert (result.action, result.text) == ("alert", "出售**")


def test_pass_returns_the_text_unchanged() -> None:
    text = "医生您好，我最近头疼。"
    result = engine_of(("敏感词", "block")).screen(text)
    assert result == ScreenResult("pass", text, ())


@pytest.mark.parametrize("text", ["", "！？。…　*-_/\u200b😀\ufeff"])
def test_empty_text_and_only_symbols_pass(text: str) -> None:
    result = engine_of(("敏感词", "block")).screen(text)
    assert result == ScreenResult("pass", text, ())


def test_allow_listed_word_cancels_hits_inside_it() -> None:
    engine = engine_of(("大法", "block", "p"), ("大法官", "allow"))
    assert engine.screen("大法官判决").action == "pass"
    assert engine.screen("大 法 官判决").action == "pass"
    assert engine.screen("大法師").action == "block"
    result = engine.screen("大法官说大法好")
    assert [(hit.word, hit.start, hit.end) for hit in result.hits] == [("大法", 4, 6)]


def test_allow_listed_word_must_contain_the_hit() -> None:
    result = engine_of(("大法", "block"), ("法官", "allow")).screen("大法官")
    assert result.action == "block"
    assert [(hit.start, hit.end) for hit in result.hits] == [(0, 2)]


def test_an_engine_of_only_allowed_words_passes_everything() -> None:
    engine = engine_of(("大法官", "allow"))
    assert engine.screen("大法官").action == "pass"


# -- building --------------------------------------------------------------------------------------------------------


def test_word_that_normalises_to_empty_is_skipped() -> None:
    engine = engine_of(("***", "block"), ("  ", "block"), ("😀", "block"), ("敏感词", "mask"))
    assert engine.word_count == 1
    assert engine.screen("*** 😀").action == "pass"


def test_duplicates_after_normalisation_keep_the_strongest_action() -> None:
    engine = engine_of(("敏感词", "mask", "a"), ("敏感詞", "block", "b"), ("敏 感 词", "alert", "c"))
    assert engine.word_count == 1
    (hit,) = engine.screen("敏感词").hits
    assert (hit.word, hit.category, hit.action) == ("敏感詞", "b", "block")


def test_duplicates_of_equal_strength_keep_the_first() -> None:
    (hit,) = engine_of(("ＱＱ", "alert", "first"), ("qq", "alert", "second")).screen("qq").hits
    assert (hit.word, hit.category) == ("ＱＱ", "first")


def test_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="nuke"):
        engine_of(("敏感词", "nuke"))


def test_empty_engine_passes_everything() -> None:
    engine = build_engine([], version="0")
    assert (engine.version, engine.word_count) == ("0", 0)
    assert engine.screen("敏感词").action == "pass"


def test_pickling_round_trip() -> None:
    words = sample_words()
    engine = build_engine([WordEntry(word, "mask", "sample") for word in words], version="42")
    copy = pickle.loads(pickle.dumps(engine))
    assert (copy.version, copy.word_count) == ("42", engine.word_count)
    for word in words[::7]:
        text = f"您好{word}，谢谢{word.upper()}"
        assert copy.screen(text) == engine.screen(text)


def test_a_changed_engine_screens_like_a_fresh_build() -> None:
    """Words removed, added, re-actioned, allow-listed and written in characters the build never saw: the
    derived engine must give exactly what a full build of the final list gives, hit for hit."""
    rng = random.Random(7)
    words = sample_words()
    actions = ("block", "mask", "alert")
    listed = {word: WordEntry(word, rng.choice(actions), "c") for word in words}
    engine = build_engine(listed.values(), version="1")
    texts = [f"您好{a}，{b}谢谢{c}" for a, b, c in zip(words, words[5:], words[11:], strict=False)][:300]
    texts += ["他说大法官说大法好", "这里有違禁內容和新词汇", "𠀋𠀋生僻字词"]
    changes = [
        ([rng.choice(words) for _ in range(30)], []),  # removed
        ([], [WordEntry(word, "block" if listed[word].action != "block" else "mask", "c2")
              for word in rng.sample(words, 30)]),  # new actions for known words
        ([], [WordEntry("違禁內容", "block", "新"), WordEntry("新词汇", "mask"), WordEntry("𠀋𠀋", "alert"),
              WordEntry("大法", "block"), WordEntry("大法官", "allow")]),  # unseen characters, an allow word
        (["新词汇", rng.choice(words)], [WordEntry(rng.choice(words), "alert")]),
    ]
    for version, (removed, added) in enumerate(changes, start=2):
        for word in removed:
            listed.pop(word, None)
        for entry in added:
            listed[entry.word] = entry
        engine = engine.changed(removed, added, str(version))
        fresh = build_engine(listed.values(), version=str(version))
        assert (engine.version, engine.word_count) == (fresh.version, fresh.word_count)
        assert engine.changes > 0
        for text in texts:
            assert engine.screen(text) == fresh.screen(text), text
    copy = pickle.loads(pickle.dumps(engine))
    assert (copy.version, copy.word_count, copy.changes) == (engine.version, engine.word_count, engine.changes)
    assert [copy.screen(text) for text in texts] == [engine.screen(text) for text in texts]
    assert [(hit.start, hit.end) for hit in engine.screen("大法官说大法好").hits] == [(4, 6)]
    assert build_engine([], version="0").changes == 0


def test_screen_is_safe_from_several_threads() -> None:
    engine = build_engine([WordEntry(word, "mask") for word in sample_words()])
    texts = [f"第{n}条：{word}。" for n, word in enumerate(sample_words())]
    expected = [engine.screen(text) for text in texts]
    failures: list[int] = []

    def screen_all() -> None:
        for _ in range(20):
            if [engine.screen(text) for text in texts] != expected:
                failures.append(1)

    threads = [threading.Thread(target=screen_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def test_the_whole_real_lexicon() -> None:
    require_or_skip(f"the shared lexicon at {LEXICON_DIR}", LEXICON_DIR.is_dir(), "set HUB_SHARED_DATA")
    entries = [
        WordEntry(line.strip(), "block", path.stem)
        for path in sorted(LEXICON_DIR.glob("*.txt"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    engine = build_engine(entries, version="full")
    assert engine.word_count == len({normalise_word(entry.word) for entry in entries} - {""})
    known = next(e for e in entries if len(e.word) >= 4 and normalise_word(e.word) == e.word and all(
        unicodedata.category(char) == "Lo" for char in e.word))
    text = "您好，" + "*".join(known.word) + "。"
    result = engine.screen(text)
    assert result.action == "block"
    assert (normalise_word(known.word), 3, 3 + 2 * len(known.word) - 1) in hit_set(result)
