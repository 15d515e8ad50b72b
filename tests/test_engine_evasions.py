"""Screening sees through bidirectional controls and look-alike letters (issue 7), masks the right characters, and
changes nothing on ordinary dialogue text.

python-bidi (the Rust ``unicode-bidi`` crate, a test-only dependency) is the reference for the display order.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from bidi import get_display

from hub.bidi import display_order, needs_reordering
from hub.screening import WordEntry, build_engine, normalise_word
from tests.support import require_or_skip
from tests.test_screening_engine import LEXICON_DIR, SHARED_DATA, assert_masked, engine_of

DATA = Path(__file__).parent / "data"
DIALOGUES = SHARED_DATA / "medical-dialogue" / "internal-medicine-sample.csv"
RLO, RLE, RLI, PDF, PDI, RLM, LRM, ALM = "\u202e", "\u202b", "\u2067", "\u202c", "\u2069", "\u200f", "\u200e", "\u061c"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


# -- display order -----------------------------------------------------------------------------------------------


def shown(text: str) -> str:
    """The letters and digits of ``text`` as displayed, by our order."""
    return "".join(text[position] for position in display_order(text) if text[position].isalnum())


def shown_by_reference(text: str) -> str:
    return "".join(char for char in get_display(text) if char.isalnum())


@pytest.mark.parametrize("text", [
    f"{RLO}功轮法", f"前{RLO}功轮法{PDF}后", f"{RLM}法{RLM}轮{RLM}功", f"{RLM}功{RLM}轮{RLM}法", "שלום 法轮功 abc",
    f"{RLI}功轮法{PDI}", f"{RLE}功轮法", "ا法 ا轮 ا功", f"{RLO}功轮法123{PDF}", f"abc{RLO}dcba{PDF}", f"{RLO}123 456",
    f"{ALM}功{ALM}轮{ALM}法", f"{RLO}功{RLO}轮法{PDF}{PDF}",
])
def test_display_order_agrees_with_the_reference(text: str) -> None:
    assert shown(text) == shown_by_reference(text)


def test_display_order_agrees_with_the_reference_on_random_texts() -> None:
    rng = random.Random(1)
    alphabet = [*"法轮功ab1２٣ש ا,.-+$%\n", *BIDI_CONTROLS]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 16)))
        assert shown(text) == shown_by_reference(text), repr(text)


def test_only_right_to_left_content_needs_reordering() -> None:
    assert not needs_reordering("医生您好，我最近头疼 abc 123 \u202a\u202d\u2066\u200e")
    for char in (RLO, RLE, RLI, RLM, ALM, "ש", "ا"):
        assert needs_reordering(f"您好{char}")


# -- bidirectional evasions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "positions"), [
    (f"{RLO}功轮法", {1, 2, 3}),  # shows 法轮功
    (f"请看{RLO}功轮法{PDF}吧", {3, 4, 5}),
    (f"{RLO}功*轮 法{PDF}", {1, 3, 5}),  # skipped characters inside stay
    (f"{RLM}功{RLM}轮{RLM}法", {1, 3, 5}),  # right-to-left marks alone reorder the runs
    (f"{ALM}功{ALM}轮{ALM}法", {1, 3, 5}),
    (f"ا功{RLM}轮{RLM}法", {1, 3, 5}),  # so do right-to-left letters, starting a right-to-left paragraph
    (f"法{LRM}轮\u202a功\u202c", {0, 2, 4}),  # controls in a text shown in order are skipped as before
    (f"{RLI}法轮功{PDI}", {1, 2, 3}),  # an isolate shows Chinese in stored order: matched there
    (f"{RLO}gnulaf{PDF}", {1, 2, 3, 4, 5, 6}),
])
def test_a_word_shown_by_bidi_controls_is_caught_and_masked(text: str, positions: set[int]) -> None:
    engine = engine_of(("法轮功", "mask", "p"), ("falung", "mask", "p"))
    result = engine.screen(text)
    assert result.action == "mask", text
    (hit,) = result.hits
    assert (hit.start, hit.end) == (min(positions), max(positions) + 1)
    assert_masked(text, result.text, positions)


def test_reversed_characters_without_reordering_are_not_the_word() -> None:
    engine = engine_of(("法轮功", "block"))
    assert engine.screen("功轮法").action == "pass"
    assert engine.screen(f"{RLE}功轮法").action == "pass"  # an embedding does not reverse Chinese characters
    assert engine.screen(f"{RLI}功轮法{PDI}").action == "pass"


def test_a_word_in_both_orders_is_reported_once() -> None:
    engine = engine_of(("法轮功", "mask"), ("大法", "alert"))
    result = engine.screen(f"法轮功 שלום {RLO}功轮法{PDF} 大法")
    assert [(hit.word, hit.start, hit.end) for hit in result.hits] == [
        ("法轮功", 0, 3), ("法轮功", 10, 13), ("大法", 15, 17)]
    assert result.action == "alert"


def test_an_allowed_word_shown_reversed_is_allowed() -> None:
    engine = engine_of(("大法", "block"), ("大法官", "allow"))
    assert engine.screen(f"{RLO}官法大{PDF}判决").action == "pass"
    assert engine.screen(f"{RLO}法大{PDF}判决").action == "block"


# -- look-alike letters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "word"), [
    ("fаlun", "falun"),  # Cyrillic а
    ("ѕех", "sex"),  # all Cyrillic
    ("ΒΟΑ", "boa"),  # Greek capitals
    ("ВОА", "boa"),  # Cyrillic capitals read as B, O, A
    ("раураl", "paypal"),  # Cyrillic р, а, у among Latin
    ("gοοgle", "google"),  # Greek omicron among Latin
    ("ıqq", "iqq"),  # dotless i
    ("ɑ片", "a片"),  # Latin alpha next to Chinese
    ("а片", "a片"),  # Cyrillic а next to Chinese: Cyrillic letters are no Chinese medical notation
])
def test_look_alike_letters_read_as_latin(written: str, word: str) -> None:
    assert normalise_word(written) == normalise_word(word)
    text = f"请加{written}谢谢"
    result = engine_of((word, "mask", "c")).screen(text)
    (hit,) = result.hits
    assert (hit.start, hit.end) == (2, 2 + len(written))
    assert_masked(text, result.text, set(range(2, 2 + len(written))))


def test_a_listed_word_in_look_alikes_meets_its_latin_spelling() -> None:
    engine = engine_of(("ѕех", "block"))
    assert engine.screen("no sex here").action == "block"
    assert engine.screen("SEX").action == "block"


def test_a_lone_greek_letter_stays_greek() -> None:
    """Medical text writes α受体, γ干扰素, α-IFN, γGT: a Greek letter beside Chinese or starting an abbreviation is no
    Latin letter. Inside a Latin word, or with other look-alikes, it reads as Latin."""
    engine = engine_of(("a受体", "block"), ("y", "block"), ("ygt", "block"), ("a", "block"), ("aifn", "block"),
                       ("google", "mask"), ("pop", "mask"))
    for text in ("α受体阻滞剂", "可引导产生γ干扰素", "β2受体", "必选α-IFN", "γGT 偏高", "αβ", "α"):
        assert engine.screen(text).action == "pass", text
    result = engine.screen("上gο.οgle搜ΡΟΡ")
    assert [(hit.word, hit.start, hit.end) for hit in result.hits] == [("google", 1, 8), ("pop", 9, 12)]
    assert result.text == "上**.****搜***"


def test_ascii_and_chinese_are_untouched() -> None:
    ascii_text = "".join(chr(code) for code in range(0x20, 0x7F))
    assert normalise_word(ascii_text) == normalise_word(ascii_text.lower())
    assert normalise_word("l1I0Ornm") == "l1i0ornm"  # ASCII look-alikes stay apart
    assert normalise_word("口ロ一ー工エ力カ") == "口ロ一ー工エ力カ"


# -- ordinary text ----------------------------------------------------------------------------------------------


def dialogue_texts() -> list[str]:
    if require_or_skip(f"the shared dialogues at {DIALOGUES}", DIALOGUES.is_file(), "set HUB_SHARED_DATA",
                       otherwise="the lexicon sample"):
        with DIALOGUES.open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
        return [row["ask"] for row in rows] + [row["answer"] for row in rows]
    return [line for line in (DATA / "lexicon-sample.txt").read_text("utf-8").splitlines() if line]


def lexicon_entries() -> list[WordEntry]:
    """The whole real lexicon when the shared data is there, else the sample; with every single Latin letter that
    a look-alike could turn into."""
    real = require_or_skip(f"the shared lexicon at {LEXICON_DIR}", LEXICON_DIR.is_dir(), "set HUB_SHARED_DATA",
                           otherwise="the lexicon sample")
    paths = sorted(LEXICON_DIR.glob("*.txt")) if real else [DATA / "lexicon-sample.txt"]
    words = {line.strip() for path in paths for line in path.read_text("utf-8").splitlines() if line.strip()}
    return [WordEntry(word, "mask", "c") for word in sorted(words | set("abcdefghijklmnopqrstuvwxyz"))]


def test_no_hit_on_the_greek_letters_of_the_real_dialogues() -> None:
    """The dialogues write Greek letters among Chinese (α受体, γ干扰素, β, μ, θ, δ) and no right-to-left text: no hit
    covers a Greek letter, and the one Cyrillic letter, in ``е抗原`` (HBeAg), reads as the ``e`` it stands for."""
    engine = build_engine(lexicon_entries())
    greek = 0
    for text in dialogue_texts():
        if not any("\u0370" <= char < "\u0400" for char in text):
            continue
        greek += 1
        for hit in engine.screen(text).hits:
            assert not any("\u0370" <= char < "\u0400" for char in text[hit.start:hit.end]), (hit, text)
    assert greek or not DIALOGUES.is_file()
    assert normalise_word("е抗原") == "e抗原"
