"""Hostile workbooks, built here (small on disk, huge once inflated): for the upload tests and for measuring."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{SML}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SML}.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="{SML}.sharedStrings+xml"/>
</Types>"""
ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="{MAIN}" xmlns:r="{DOC_REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{RELS}">
<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}"><sheetData>'
SHEET_TAIL = "</sheetData></worksheet>"
ONE_ROW = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
STRINGS_ONE = f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN}"><si><t>词</t></si></sst>'

Chunks = Callable[[], Iterator[str]]


def _once(text: str) -> Chunks:
    return lambda: iter([text])


def workbook(sheet: Chunks | None = None, strings: Chunks | None = None,
             extra: dict[str, Chunks] | None = None) -> bytes:
    """A minimal .xlsx whose sheet and shared strings are written chunk by chunk (never whole in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        parts: dict[str, Chunks] = {
            "[Content_Types].xml": _once(CONTENT_TYPES), "_rels/.rels": _once(ROOT_RELS),
            "xl/workbook.xml": _once(WORKBOOK), "xl/_rels/workbook.xml.rels": _once(WORKBOOK_RELS),
            "xl/worksheets/sheet1.xml": sheet or _once(SHEET_HEAD + ONE_ROW + SHEET_TAIL),
            "xl/sharedStrings.xml": strings or _once(STRINGS_ONE), **(extra or {})}
        for name, chunks in parts.items():
            with archive.open(name, "w") as part:
                for chunk in chunks():
                    part.write(chunk.encode())
    return out.getvalue()


def shared_strings_bomb(megabytes: int = 1024) -> bytes:
    """Shared strings that inflate to ``megabytes`` MB (1,024: the issue's 1 GB from ~1.5 MB)."""
    item = "<si><t>" + "炸" * 1000 + "</t></si>"  # 3,015 bytes

    def strings() -> Iterator[str]:
        yield f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN}">'
        block = item * 100
        for _ in range(megabytes * 1024 * 1024 // len(block.encode())):
            yield block
        yield "</sst>"

    return workbook(strings=strings)


def empty_rows_bomb(rows: int = 5_000_000) -> bytes:
    """A sheet of ``rows`` empty rows (5 million: 30 MB of XML in ~30 KB)."""
    def sheet() -> Iterator[str]:
        yield SHEET_HEAD + ONE_ROW
        for _ in range(rows // 10_000):
            yield "<row/>" * 10_000
        yield SHEET_TAIL

    return workbook(sheet=sheet)


def entity_bomb() -> bytes:
    """Billion laughs in the first sheet: 10 levels of 10 references."""
    entities = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [{entities}]>\n'
             f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&a9;</t></is></c>'
             f'</row></sheetData></worksheet>')
    return workbook(sheet=_once(sheet))


def ratio_bomb(megabytes: int = 60) -> bytes:
    """A part of zeros (under the per-part size limit, far over the ratio)."""
    def zeros() -> Iterator[str]:
        block = "0" * (1024 * 1024)
        for _ in range(megabytes):
            yield block

    return workbook(extra={"xl/media/filler.bin": zeros})


def many_cells(count: int) -> bytes:
    """One row of ``count`` empty cells: under every size limit when small, over the cell count when large."""
    def sheet() -> Iterator[str]:
        yield SHEET_HEAD + ONE_ROW + '<row r="2">'
        for _ in range(count // 1000):
            yield "<c/>" * 1000
        yield "</row>" + SHEET_TAIL

    return workbook(sheet=sheet)


NOT_A_ZIP = b"PK\x03\x04 this is not a zip at all" + b"x" * 100
