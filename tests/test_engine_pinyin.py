"""Words listed with ``pinyin`` are also caught spelled in pinyin (issue 7); the derived engine still screens like
a fresh build."""

from __future__ import annotations

import pickle
import random

import pytest

from hub.screening import ScreeningEngine, WordEntry, build_engine, normalise_word, pinyin_forms
from tests.test_engine_evasions import dialogue_texts
from tests.test_screening_engine import assert_masked, sample_words


def pinyin_engine(*entries: WordEntry) -> ScreeningEngine:
    return build_engine(entries, version="t")


@pytest.mark.parametrize("text", ["falungong", "FALUNGONG", "fa lun gong", "fǎ lún gōng", "Fa-Lun-Gong",
                                  "f.a.l.u.n.g.o.n.g", "ｆａｌｕｎｇｏｎｇ", "fаlungоng"])  # the last: Cyrillic а, о
def test_a_pinyin_word_is_caught_in_pinyin(text: str) -> None:
    engine = pinyin_engine(WordEntry("法轮功", "mask", "p", pinyin=True))
    written = f"我练{text}。"
    result = engine.screen(written)
    (hit,) = result.hits
    assert (hit.word, hit.category, hit.start, hit.end) == ("法轮功", "p", 2, 2 + len(text))
    assert_masked(written, result.text, {2 + offset for offset, char in enumerate(text) if normalise_word(char)})


def test_only_words_listed_with_pinyin_are_caught_in_pinyin() -> None:
    engine = pinyin_engine(WordEntry("法轮功", "block"), WordEntry("六四", "block", pinyin=True))
    assert engine.screen("falungong").action == "pass"
    assert engine.screen("liu si").action == "block"
    assert engine.screen("法轮功").action == "block"


def test_u_umlaut_both_as_typed_and_as_shown() -> None:
    engine = pinyin_engine(WordEntry("绿色女人", "mask", pinyin=True))
    assert pinyin_forms("绿色女人") == ("lvsenvren", "lusenuren")
    for text in ("lvsenvren", "lüsènǚrén", "lu se nu ren"):
        assert engine.screen(text).action == "mask", text


def test_short_words_initials_and_non_chinese_words_get_no_pinyin() -> None:
    assert pinyin_forms("法") == ()  # one character
    assert pinyin_forms("阿姨") == ()  # ayi: three letters occur by chance
    assert pinyin_forms("法lun") == ()  # not all Chinese
    assert pinyin_forms("sex") == ()
    engine = pinyin_engine(WordEntry("法轮功", "block", pinyin=True), WordEntry("阿姨", "block", pinyin=True))
    for text in ("flg", "falun", "fa lun", "a yi", "gongfalun"):
        assert engine.screen(text).action == "pass", text


def test_phrases_read_as_phrases() -> None:
    assert pinyin_forms("银行行长") == ("yinhanghangzhang",)


def test_a_pinyin_form_never_weakens_a_listed_word() -> None:
    """The pinyin competes with the listed words like any normal form: the stronger action wins, an allow-word
    wins all."""
    engine = pinyin_engine(WordEntry("falungong", "block", "ascii"), WordEntry("法轮功", "mask", "p", pinyin=True))
    (hit,) = engine.screen("falungong").hits
    assert (hit.word, hit.action) == ("falungong", "block")
    engine = pinyin_engine(WordEntry("法轮功", "block", pinyin=True), WordEntry("falungong", "allow"))
    assert engine.screen("falungong").action == "pass"
    assert engine.screen("法轮功").action == "block"


def test_no_pinyin_hits_on_the_real_dialogues() -> None:
    """Every Chinese word of the lexicon sample listed with pinyin: the dialogues get the same hits."""
    entries = [WordEntry(word, "mask", "c") for word in sample_words()]
    plain = build_engine(entries)
    flagged = build_engine([WordEntry(e.word, e.action, e.category, pinyin=True) for e in entries])
    assert flagged.word_count > plain.word_count
    for text in dialogue_texts():
        assert flagged.screen(text) == plain.screen(text), text


def test_a_changed_engine_with_pinyin_words_screens_like_a_fresh_build() -> None:
    rng = random.Random(3)
    words = sample_words()
    chinese = [word for word in words if pinyin_forms(word)]
    listed = {word: WordEntry(word, rng.choice(("block", "mask", "alert")), "c", pinyin=word in chinese[::2])
              for word in words}
    engine = build_engine(listed.values(), version="1")
    spelled = [form for word in chinese for form in pinyin_forms(word)]
    texts = [f"您好{a}，{b}谢谢 {c} {d}" for a, b, c, d in zip(words, words[5:], spelled, spelled[3:], strict=False)]
    texts += ["falungong 法轮功 ｆａ ｌｕｎ", "liusi 六四", "\u202e功轮法", "gοοgle", "lvsenvren lusenuren",
              "mao ze dong"]
    changes = [
        ([listed[word] for word in rng.sample(chinese[::2], 10)], []),  # pinyin words removed
        ([], [WordEntry(word, "block", "c2", pinyin=True) for word in rng.sample(chinese[1::2], 10)]),  # flag set
        ([], [WordEntry("法轮功", "mask", "p", pinyin=True), WordEntry("六四", "block", pinyin=True),
              WordEntry("绿色女人", "alert", pinyin=True)]),  # new words
        ([WordEntry("法轮功", "mask", "p", pinyin=True)], [WordEntry("法轮功", "block", "p")]),  # flag cleared
        (["六四"], [WordEntry("liusi", "alert")]),  # removed by word, its pinyin added as a word
        ([], [WordEntry("lusenuren", "block")]),  # one of a word's two spellings taken by a stronger word
        ([], [WordEntry("毛泽东", "mask", pinyin=True), WordEntry("maozedong", "block")]),
        ([WordEntry("毛泽东", "mask", pinyin=True)], []),  # its pinyin held by the other word: stays
    ]
    for version, (removed, added) in enumerate(changes, start=2):
        for entry in removed:
            listed.pop(entry if isinstance(entry, str) else entry.word, None)
        for entry in added:
            listed.pop(entry.word, None)
            listed[entry.word] = entry
        engine = engine.changed(removed, added, str(version))
        fresh = build_engine(listed.values(), version=str(version))
        assert (engine.version, engine.word_count) == (fresh.version, fresh.word_count)
        for text in texts:
            assert engine.screen(text) == fresh.screen(text), (version, text)
    copy = pickle.loads(pickle.dumps(engine))
    assert [copy.screen(text) for text in texts] == [engine.screen(text) for text in texts]
