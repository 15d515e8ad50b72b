"""The vendored front-end libraries: each package of ``static/vendor/VERSIONS`` is there at its pinned version, with
its licence, under a folder named for the version (``make vendor`` refreshes them from npm)."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"


def pinned() -> list[tuple[str, str, list[str]]]:
    lines = (STATIC / "vendor" / "VERSIONS").read_text(encoding="utf-8").splitlines()
    return [(name, version, files) for name, version, *files in
            (line.split() for line in lines if line.strip() and not line.startswith("#"))]


def folder(name: str, version: str) -> Path:
    return STATIC / "vendor" / f"{name.replace('@', '').replace('/', '-')}-{version}"


def test_every_pinned_file_is_vendored_with_its_licence() -> None:
    packages = pinned()
    assert {name for name, _, _ in packages} >= {"vue", "element-plus", "echarts", "vant"}
    for name, version, files in packages:
        assert "LICENSE" in files, name
        for file in files:
            path = folder(name, version) / file
            assert path.is_file() and path.stat().st_size > 0, path


def test_only_the_pinned_versions_are_vendored() -> None:
    expected = {folder(name, version).name for name, version, _ in pinned()}
    present = {p.name for p in (STATIC / "vendor").iterdir() if p.is_dir()}
    assert present == expected


def test_the_files_are_of_the_pinned_version() -> None:
    """The bundles name their own version: a file copied from another release is caught."""
    for name, version, files in pinned():
        scripts = [f for f in files if f.endswith(".js") and "locale" not in f]
        for file in scripts:
            text = (folder(name, version) / file).read_text(encoding="utf-8", errors="replace")
            assert f'"{version}"' in text or f"v{version}" in text or f"{version}" in text[:400], (name, file)
