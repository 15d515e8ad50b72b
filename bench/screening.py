"""Benchmark of the sensitive-word screening engine: ``python -m bench.screening`` from the repository root.

Input, read at run time from ``$HUB_SHARED_DATA`` (default ``../shared/data``): the whole Sensitive-lexicon
(``sensitive-lexicon/Vocabulary/*.txt``: distinct stripped words, category = file stem, action by category, see
``ACTION_BY_CATEGORY``) and the ``ask`` and ``answer`` texts of ``medical-dialogue/internal-medicine-sample.csv``.

It measures (a) the full ``ScreeningEngine.screen`` path, (b) pyahocorasick alone over already-normalised text in
several representations, (c) ahocorasick-rs alone over the normalised text (the reference; a bench-only dependency,
imported lazily) and (d) a pure-Python dict-of-dicts trie, plus build time, memory and the per-message latency of
(a). Throughput counts characters and UTF-8 bytes of the *original* text. Each figure is the best of ``REPEATS``
runs; the matchers take turns within each round, so that other processes' load falls on all of them alike, and
every run gets fresh copies of its strings (no run profits from a UTF-8 form CPython caches on a string). All
matchers must report the same hits, or the run exits with status 1.
"""

from __future__ import annotations

import csv
import gc
import os
import pickle
import platform
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import ahocorasick

from hub.bidi import needs_reordering
from hub.screening import (
    _SEVERAL,
    ScreeningEngine,
    WordEntry,
    _encode,
    _look_alike_letters,
    _tables,
    build_engine,
    normalise_word,
)

REPEATS = 7
LATENCY_ROUNDS = 20
MB = 1_000_000
#: The lexicon's files carry no action; the benchmark gives each category one, so that all three code paths
#: (block: text kept; mask and alert: text masked) run. Categories not listed are "mask".
ACTION_BY_CATEGORY = {
    **dict.fromkeys(["反动词库", "政治类型", "暴恐词库", "涉枪涉爆", "色情类型", "色情词库", "新思想启蒙", "贪腐词库"],
                    "block"),
    **dict.fromkeys(["非法网址", "广告类型", "COVID-19词库", "民生词库"], "alert"),
}
TARGET_SHARE_OF_RS = 0.40
TARGET_TIMES_TRIE = 3.0
TARGET_P99_US = 50.0
TARGET_BUILD_S = 2.0

Span = tuple[int, int, int, str]  # text number, start, end, normal form
Made = TypeVar("Made")
ROOT = Path(__file__).resolve().parent.parent


# -- input ----------------------------------------------------------------------------------------------------------


def shared_data() -> Path:
    """Where the lexicon and the dialogues are (``$HUB_SHARED_DATA``, as the tests find them)."""
    from hub.testing import shared_data_dir

    return shared_data_dir()


def load_lexicon(root: Path) -> list[WordEntry]:
    """Distinct stripped words of every Vocabulary file, in file-name order; the first file naming a word wins."""
    entries: dict[str, WordEntry] = {}
    for path in sorted((root / "sensitive-lexicon" / "Vocabulary").glob("*.txt")):
        action = ACTION_BY_CATEGORY.get(path.stem, "mask")
        for line in path.read_text("utf-8").splitlines():
            word = line.strip()
            if word and word not in entries:
                entries[word] = WordEntry(word, action, path.stem)
    return list(entries.values())


def load_dialogues(root: Path) -> tuple[list[str], list[str]]:
    """The ``ask`` and ``answer`` texts of the dialogue sample."""
    with (root / "medical-dialogue" / "internal-medicine-sample.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return [row["ask"] for row in rows], [row["answer"] for row in rows]


def fresh(texts: Iterable[str]) -> list[str]:
    """Equal but new string objects, without any cached UTF-8 form."""
    return [text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass") for text in texts]


# -- measuring ------------------------------------------------------------------------------------------------------


@dataclass
class Throughput:
    """The best run of one matcher over the corpus."""

    name: str
    seconds: float
    hits: int
    chars: int
    utf8_bytes: int

    @property
    def chars_per_s(self) -> float:
        return self.chars / self.seconds

    def line(self) -> str:
        hits = f", {self.hits} hits" if self.hits else ""
        return (f"  {self.name:<46} {self.chars_per_s / 1e6:6.2f} M chars/s  {self.utf8_bytes / self.seconds / MB:6.2f}"
                f" MB/s  ({self.seconds * 1000:6.1f} ms{hits})")


@dataclass
class Job:
    """One matcher to time: ``run`` takes a list of texts and returns the number of hits."""

    name: str
    run: Callable[[list[str]], int]
    inputs: Sequence[str]


def measure_jobs(jobs: Sequence[Job], originals: Sequence[str]) -> list[Throughput]:
    """Best wall time of each job over ``REPEATS`` rounds in which the jobs take turns."""
    best = [float("inf")] * len(jobs)
    hits = [0] * len(jobs)
    for _ in range(REPEATS):
        for number, job in enumerate(jobs):
            batch = fresh(job.inputs)
            started = time.perf_counter()
            hits[number] = job.run(batch)
            best[number] = min(best[number], time.perf_counter() - started)
    chars, data = sum(map(len, originals)), sum(len(text.encode("utf-8")) for text in originals)
    return [Throughput(job.name, seconds, found, chars, data)
            for job, seconds, found in zip(jobs, best, hits, strict=True)]


def latencies_us(engine: ScreeningEngine, messages: Sequence[str], clock: Callable[[], int]) -> list[float]:
    """Per-call latency of ``screen`` for each message, over ``LATENCY_ROUNDS`` rounds, by ``clock`` (µs)."""
    samples = []
    for _ in range(LATENCY_ROUNDS):
        for message in fresh(messages):
            started = clock()
            engine.screen(message)
            samples.append((clock() - started) / 1000)
    return samples


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(make: Callable[[], Made]) -> tuple[Made, float]:
    """What ``make()`` returns and how long it took."""
    started = time.perf_counter()
    made = make()
    return made, time.perf_counter() - started


def timed_build(entries: list[WordEntry]) -> tuple[ScreeningEngine, float]:
    """A built engine and how long building it took."""
    return timed(lambda: build_engine(entries, version="bench"))


def traced_bytes(make: Callable[[], Made]) -> tuple[Made, int]:
    """What ``make()`` returns and the Python-heap bytes it keeps (tracemalloc; pyahocorasick allocates there)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    made = make()
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return made, kept


def rss_bytes() -> int:
    """Resident set size now (Linux), 0 elsewhere."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


# -- the matchers ---------------------------------------------------------------------------------------------------


def run_engine(engine: ScreeningEngine) -> Callable[[list[str]], int]:
    """(a): the whole screening path."""
    def run(texts: list[str]) -> int:
        return sum(len(engine.screen(text).hits) for text in texts)
    return run


def run_translate(engine: ScreeningEngine) -> Callable[[list[str]], int]:
    """(a)'s first stage alone: the translate into the dense code and the removal of skipped characters."""
    table = engine._table  # the bench looks inside the engine

    def run(texts: list[str]) -> int:
        for text in texts:
            text.translate(table).replace("\x00", "")
        return 0  # finds nothing: not a matcher
    return run


def run_pyahocorasick(automaton: ahocorasick.Automaton) -> Callable[[list[str]], int]:
    """(b): pyahocorasick over pre-converted text (the engine automaton's phantom key is never found)."""
    def run(texts: list[str]) -> int:
        return sum(len(list(automaton.iter(text))) for text in texts)
    return run


def plain_automaton(keys: Iterable[tuple[str, str]]) -> ahocorasick.Automaton:
    """A pyahocorasick automaton over (representation, normal form) pairs, in the given order."""
    automaton = ahocorasick.Automaton()
    for key, normal in keys:
        automaton.add_word(key, normal)
    automaton.make_automaton()
    return automaton


def dense_code(engine: ScreeningEngine, normal: str) -> str:
    """A normal-form text in the engine's dense code (two units per character)."""
    return _encode(normal, engine._codes)


def utf8_as_latin1(text: str) -> str:
    """UTF-8 bytes of ``text`` held in a latin-1 string: the other byte representation measured."""
    return text.encode("utf-8").decode("latin-1")


def utf8_automaton(normal_keys: Iterable[str]) -> ahocorasick.Automaton:
    """UTF-8 keys inserted most-frequent-byte first (each node then lists its likely children first)."""
    encoded = {utf8_as_latin1(key): key for key in normal_keys}
    frequency = Counter(byte for key in encoded for byte in key)
    ranks = {ord(byte): chr(rank) for rank, (byte, _) in enumerate(frequency.most_common())}
    return plain_automaton((key, encoded[key]) for key in sorted(encoded, key=lambda key: key.translate(ranks)))


def rs_matcher(normal_keys: Sequence[str]) -> Callable[[list[str]], int]:
    """(c): ahocorasick-rs, overlapping matches (MatchKind.Standard), over normalised text."""
    import ahocorasick_rs  # a bench-only dependency

    matcher = ahocorasick_rs.AhoCorasick(list(normal_keys), matchkind=ahocorasick_rs.MatchKind.Standard)

    def run(texts: list[str]) -> int:
        return sum(len(matcher.find_matches_as_indexes(text, overlapping=True)) for text in texts)
    return run


END = ""  # a key of the dict trie that no character can be


def dict_trie(normal_keys: Iterable[str]) -> dict[str, Any]:
    """The common pure-Python filter: a dict of dicts, the word stored under ``END`` where one ends."""
    root: dict[str, Any] = {}
    for key in normal_keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[END] = key
    return root


def trie_matches(root: dict[str, Any], text: str) -> list[tuple[int, int, str]]:
    """All (start, end, word) matches: walk the trie from every position as far as it goes."""
    found = []
    for start in range(len(text)):
        node = root
        for end in range(start, len(text)):
            node = node.get(text[end])
            if node is None:
                break
            if END in node:
                found.append((start, end + 1, node[END]))
    return found


def run_trie(root: dict[str, Any]) -> Callable[[list[str]], int]:
    """(d): the dict trie over normalised text."""
    def run(texts: list[str]) -> int:
        return sum(len(trie_matches(root, text)) for text in texts)
    return run


@dataclass
class Matchers:
    """Everything measured, built over the same distinct normal forms."""

    engine: ScreeningEngine
    normal_keys: list[str]
    utf8: ahocorasick.Automaton
    plain: ahocorasick.Automaton
    trie: dict[str, Any]
    trie_build_s: float


def build_matchers(engine: ScreeningEngine, entries: list[WordEntry]) -> Matchers:
    normal_keys = sorted({normalise_word(entry.word) for entry in entries} - {""})
    trie, trie_build_s = timed(lambda: dict_trie(normal_keys))
    return Matchers(engine, normal_keys, utf8_automaton(normal_keys),
                    plain_automaton((key, key) for key in normal_keys), trie, trie_build_s)


def jobs_for(matchers: Matchers, texts: list[str], normals: list[str]) -> list[Job]:
    """(a) and its first two stages, (b) in three representations, (c) and (d)."""
    engine = matchers.engine
    codes = [text.translate(engine._table).replace("\x00", "") for text in texts]
    return [
        Job("(a) ScreeningEngine.screen, whole path", run_engine(engine), texts),
        Job("(a) stage 1: translate to the dense code", run_translate(engine), texts),
        Job("(a) stage 2: the automaton", run_pyahocorasick(engine._automaton), codes),
        Job("(b) pyahocorasick, dense 2-unit code (engine's)", run_pyahocorasick(engine._automaton),
            [dense_code(engine, normal) for normal in normals]),
        Job("(b) pyahocorasick, UTF-8 bytes as latin-1", run_pyahocorasick(matchers.utf8),
            [utf8_as_latin1(normal) for normal in normals]),
        Job("(b) pyahocorasick, plain characters", run_pyahocorasick(matchers.plain), normals),
        Job("(c) ahocorasick-rs (reference)", rs_matcher(matchers.normal_keys), normals),
        Job("(d) dict-of-dicts trie, pure Python", run_trie(matchers.trie), normals),
    ]


# -- cross-check ----------------------------------------------------------------------------------------------------


def source_index(text: str) -> list[int]:
    """Normal-form position → original position, one character at a time (independently of the engine)."""
    return [position for position, char in enumerate(text) for _ in normalise_word(char)]


def spans_from_engine(engine: ScreeningEngine, originals: Sequence[str]) -> set[Span]:
    """(a)'s hits, already in original offsets."""
    return {
        (number, hit.start, hit.end, normalise_word(hit.word))
        for number, text in enumerate(originals)
        for hit in engine.screen(text).hits
    }


def spans_from_dense(engine: ScreeningEngine, normals: Sequence[str], originals: Sequence[str]) -> set[Span]:
    """(b)'s hits (the engine's dense code) in original offsets."""
    spans = set()
    for number, (normal, original) in enumerate(zip(normals, originals, strict=True)):
        index = source_index(original)
        for end, key in engine._automaton.iter(dense_code(engine, normal)):
            stop = (end + 1) // 2
            spans.add((number, index[stop - key.length], index[stop - 1] + 1, normalise_word(key.word)))
    return spans


def spans_from_utf8(automaton: ahocorasick.Automaton, normals: Sequence[str], originals: Sequence[str]) -> set[Span]:
    """(b)'s hits (UTF-8 representation) in original offsets."""
    spans = set()
    for number, (normal, original) in enumerate(zip(normals, originals, strict=True)):
        index = source_index(original)
        data = normal.encode("utf-8")
        for end, key in automaton.iter(utf8_as_latin1(normal)):
            stop = len(data[: end + 1].decode("utf-8"))
            spans.add((number, index[stop - len(key)], index[stop - 1] + 1, key))
    return spans


def spans_from_rs(normal_keys: Sequence[str], normals: Sequence[str], originals: Sequence[str]) -> set[Span]:
    """(c)'s hits in original offsets."""
    import ahocorasick_rs

    matcher = ahocorasick_rs.AhoCorasick(list(normal_keys), matchkind=ahocorasick_rs.MatchKind.Standard)
    spans = set()
    for number, (normal, original) in enumerate(zip(normals, originals, strict=True)):
        index = source_index(original)
        for key, start, end in matcher.find_matches_as_indexes(normal, overlapping=True):
            spans.add((number, index[start], index[end - 1] + 1, normal_keys[key]))
    return spans


def spans_from_trie(root: dict[str, Any], normals: Sequence[str], originals: Sequence[str]) -> set[Span]:
    """(d)'s hits in original offsets."""
    spans = set()
    for number, (normal, original) in enumerate(zip(normals, originals, strict=True)):
        index = source_index(original)
        spans.update((number, index[start], index[end - 1] + 1, key) for start, end, key in trie_matches(root, normal))
    return spans


def check_hits(matchers: Matchers, texts: list[str], normals: list[str]) -> bool:
    """Print each matcher's hits (as a set of original spans) and whether they all agree."""
    print("cross-check: the same hits, in original offsets")
    named_spans = {
        "(a) engine": spans_from_engine(matchers.engine, texts),
        "(b) pyahocorasick, dense code": spans_from_dense(matchers.engine, normals, texts),
        "(b) pyahocorasick, UTF-8": spans_from_utf8(matchers.utf8, normals, texts),
        "(c) ahocorasick-rs": spans_from_rs(matchers.normal_keys, normals, texts),
        "(d) dict trie": spans_from_trie(matchers.trie, normals, texts),
    }
    reference_name, reference = next(iter(named_spans.items()))
    for name, spans in named_spans.items():
        agreement = "same" if spans == reference else f"DIFFERENT from {reference_name}"
        print(f"  {name:<46} {len(spans):>7} hits  {agreement}")
    return all(spans == reference for spans in named_spans.values())


# -- report ---------------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    """The 1-minute load average: other processes on the machine make every figure slower."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_setup(entries: list[WordEntry], engine: ScreeningEngine, texts: list[str], normals: list[str]) -> None:
    actions = Counter(entry.action for entry in entries)
    print("setup")
    print(f"  machine      {os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.release()}, "
          f"load average {load_average()} at start")
    libraries = ", ".join(f"{name} {version_of(name)}" for name in ("pyahocorasick", "ahocorasick-rs", "opencc"))
    print(f"  python       {sys.version.split()[0]} ({platform.python_implementation()}), {libraries}")
    print(f"  lexicon      {len(entries)} distinct words ({', '.join(f'{n} {a}' for a, n in actions.most_common())}),"
          f" {engine.word_count} distinct normal forms")
    print(f"  corpus       {len(texts)} texts (ask + answer), {sum(map(len, texts))} chars, "
          f"{sum(len(t.encode('utf-8')) for t in texts) / MB:.2f} MB UTF-8, {sum(map(len, normals))} normal-form chars")
    print(f"  method       best of {REPEATS} rounds, matchers taking turns, fresh string copies per run; latency: "
          f"{LATENCY_ROUNDS} rounds of every ask text, one perf_counter_ns pair per call")


def print_build(entries: list[WordEntry], cold: tuple[float, int]) -> ScreeningEngine:
    """Report the first (cold) build, time later builds, and weigh an engine and the shared tables."""
    warm = min(timed_build(entries)[1] for _ in range(REPEATS))
    engine, engine_bytes = traced_bytes(lambda: build_engine(entries, version="bench"))
    _tables.cache_clear()
    _, table_bytes = traced_bytes(_tables)
    seconds, rss_growth = cold
    pickled, dump_s = timed(lambda: pickle.dumps(engine))
    _, load_s = timed(lambda: pickle.loads(pickled))
    print("build (whole lexicon)")
    print(f"  first build in a process  {seconds:6.2f} s  (with the per-process character tables)   "
          f"target < {TARGET_BUILD_S:.0f} s: {verdict(seconds < TARGET_BUILD_S)}")
    print(f"  later builds              {warm:6.2f} s  (best of {REPEATS})")
    print(f"  engine memory             {engine_bytes / MB:6.1f} MB  (tracemalloc: automaton, keys, translate table)")
    print(f"  shared character tables   {table_bytes / MB:6.1f} MB  (tracemalloc; once per process)")
    print(f"  RSS growth, first build   {rss_growth / MB:6.1f} MB  (engine + tables + allocator slack; includes "
          "importing OpenCC)")
    print(f"  pickled engine            {len(pickled) / MB:6.1f} MB  (dumps {dump_s * 1000:.0f} ms, "
          f"loads {load_s * 1000:.0f} ms with the tables cached)")
    return engine


def print_latency(engine: ScreeningEngine, asks: list[str]) -> float:
    """Wall-clock latency per call, each ask text being one chat message; then the same percentiles over each
    message's fastest call, which shows the engine's own cost with the interruptions by other processes left out."""
    samples = latencies_us(engine, asks, time.perf_counter_ns)
    fastest = [min(samples[number::len(asks)]) for number in range(len(asks))]
    p99 = percentile(samples, 0.99)
    print(f"  (a) per chat message ({LATENCY_ROUNDS} x {len(asks)} calls): p50 {percentile(samples, 0.50):.1f} µs, "
          f"p99 {p99:.1f} µs, p99.9 {percentile(samples, 0.999):.1f} µs, mean {statistics.fmean(samples):.1f} µs")
    print(f"      each message's fastest of {LATENCY_ROUNDS}: p50 {percentile(fastest, 0.50):.1f} µs, "
          f"p99 {percentile(fastest, 0.99):.1f} µs, max {max(fastest):.1f} µs")
    return p99


@dataclass
class Figures:
    """The figures the targets are about."""

    full: Throughput
    fastest_b: Throughput
    rs: Throughput
    trie: Throughput
    p99_us: float


def measure(matchers: Matchers, asks: list[str], texts: list[str], normals: list[str]) -> Figures:
    """Print (a)-(d), where (a)'s time goes, and (a)'s latency per chat message."""
    full, translate, match, *pyaho, rs, trie = measure_jobs(jobs_for(matchers, texts, normals), texts)
    print("throughput (original chars and UTF-8 bytes per second)")
    for result in (full, translate, match, *pyaho, rs, trie):
        print(result.line())
    rest = full.seconds - translate.seconds - match.seconds
    with_hits = sum(1 for text in texts if matchers.engine.screen(text).hits)
    print(f"  (a) the rest (mapping back, deciding, masking, result objects): {rest * 1000:.0f} ms; {full.hits} hits "
          f"in {with_hits} of {len(texts)} texts")
    p99 = print_latency(matchers.engine, asks)
    fastest = max(pyaho, key=lambda result: result.chars_per_s)
    print(f"  (d) trie build {matchers.trie_build_s:.2f} s;  fastest (b): {fastest.name[4:]}")
    return Figures(full, fastest, rs, trie, p99)


def print_ratios(figures: Figures, agree: bool) -> None:
    share = figures.full.chars_per_s / figures.rs.chars_per_s
    times = figures.full.chars_per_s / figures.trie.chars_per_s
    print("ratios and targets")
    print(f"  (a)/(c) = {share:.0%}   target >= {TARGET_SHARE_OF_RS:.0%}: {verdict(share >= TARGET_SHARE_OF_RS)}")
    print(f"  (a)/(d) = {times:.1f}x   target >= {TARGET_TIMES_TRIE:.0f}x: {verdict(times >= TARGET_TIMES_TRIE)}")
    print(f"  p99 per chat message {figures.p99_us:.1f} µs   target < {TARGET_P99_US:.0f} µs: "
          f"{verdict(figures.p99_us < TARGET_P99_US)}")
    print(f"  hits agree across (a)-(d): {'yes' if agree else 'NO'}")


def print_hit_density(entries: list[WordEntry], texts: list[str], normals: list[str]) -> None:
    """Supplement: (a) against (c) when the one-character words (一, 出, 毒 … most of the hits) are left out."""
    longer = [entry for entry in entries if len(normalise_word(entry.word)) > 1]
    engine = build_engine(longer, version="bench-longer")
    keys = sorted({normalise_word(entry.word) for entry in longer})
    full, rs = measure_jobs([Job("(a) whole path, words of 2+ characters", run_engine(engine), texts),
                             Job("(c) ahocorasick-rs, words of 2+ characters", rs_matcher(keys), normals)], texts)
    print("supplement: the same corpus without the one-character words")
    print(full.line())
    print(rs.line())
    print(f"  (a)/(c) = {full.chars_per_s / rs.chars_per_s:.0%}")


def print_derived(engine: ScreeningEngine, entries: list[WordEntry], texts: list[str]) -> None:
    """Supplement: deriving an engine with a few words changed (what a hub does on each change) against a full
    build, and what carrying the changes costs the whole path until the next full build."""
    print("supplement: a change to the words (ScreeningEngine.changed, against build_engine above)")
    derived = engine
    for count in (1, 100, 1000):
        removed = [entry.word for entry in entries[:count]]
        added = [WordEntry(f"新增词{n}号", "block", "bench") for n in range(count)]
        derived, seconds = timed(lambda: engine.changed(removed, added, "bench-derived"))  # noqa: B023
        print(f"  {count:5d} words removed and {count:5d} added  {seconds * 1000:7.1f} ms")
    full, changed = measure_jobs([Job("(a) whole path, fresh build", run_engine(engine), texts),
                                  Job("(a) whole path, 2,000 words changed", run_engine(derived), texts)], texts)
    print(full.line())
    print(changed.line())


def print_evasions(engine: ScreeningEngine, entries: list[WordEntry], texts: list[str]) -> None:
    """Supplement: what seeing through look-alike letters, bidi reordering and pinyin costs. Cyrillic and Latin
    look-alikes are in the per-character table (no cost); Greek look-alikes and right-to-left content send a text
    to the character-by-character path, and pinyin adds keys."""
    print("supplement: evasions (look-alikes, bidi, pinyin)")
    _, look_s = timed(_look_alike_letters)
    print(f"  look-alike table from the confusables data   {look_s * 1000:6.1f} ms  (part of the first build)")
    slow = [text for text in texts if _SEVERAL in text.translate(engine._table)]
    print(f"  texts on the character path: {len(slow)} of {len(texts)} "
          f"({sum(1 for text in texts if needs_reordering(text))} with right-to-left content)")
    cyrillic = [text.replace("a", "а").replace("o", "о").replace("e", "е") for text in texts]  # Cyrillic look-alikes
    bidi = ["\u202e" + text for text in texts]  # every text under a right-to-left override
    greek = [text + " ο" for text in texts]  # every text with a Greek look-alike
    flagged = [WordEntry(entry.word, entry.action, entry.category, pinyin=True) for entry in entries]
    pinyin_engine, pinyin_s = timed(lambda: build_engine(flagged, version="bench-pinyin"))
    print(f"  build with every word listed with pinyin    {pinyin_s:6.2f} s  ({pinyin_engine.word_count} normal forms, "
          f"{engine.word_count} without)")
    results = measure_jobs([
        Job("(a) whole path, the corpus as it is", run_engine(engine), texts),
        Job("(a) whole path, a, o, e written in Cyrillic", run_engine(engine), cyrillic),
        Job("(a) whole path, a Greek look-alike in every text", run_engine(engine), greek),
        Job("(a) whole path, every text under U+202E", run_engine(engine), bidi),
        Job("(a) whole path, every word listed with pinyin", run_engine(pinyin_engine), texts),
    ], texts)
    for result in results:
        print(result.line())


def main() -> int:
    global REPEATS, LATENCY_ROUNDS
    if "--quick" in sys.argv[1:]:  # a shorter run: fewer rounds, the same figures (noisier)
        REPEATS, LATENCY_ROUNDS = 2, 3
    root = shared_data()
    entries = load_lexicon(root)
    asks, answers = load_dialogues(root)
    texts = asks + answers
    rss_before = rss_bytes()
    engine, cold_s = timed_build(entries)  # first thing: the only build that pays for the character tables
    cold = (cold_s, rss_bytes() - rss_before)
    normals = [normalise_word(text) for text in texts]
    print_setup(entries, engine, texts, normals)
    matchers = build_matchers(print_build(entries, cold), entries)

    figures = measure(matchers, asks, texts, normals)
    agree = check_hits(matchers, texts, normals)
    agree &= len({figures.full.hits, figures.fastest_b.hits, figures.rs.hits, figures.trie.hits}) == 1
    print_ratios(figures, agree)
    print_hit_density(entries, texts, normals)
    print_derived(matchers.engine, entries, texts)
    print_evasions(matchers.engine, entries, texts)
    print(f"load average {load_average()} at the end")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
