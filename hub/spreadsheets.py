"""Every .xlsx workbook the hub reads or writes goes through here.

Reading (``read_workbook``): a workbook is a zip of XML parts, and both layers can be bombs (a 1.5 MB file whose
shared strings expand to 1 GB, 46 KB of 5 million empty rows, an XML entity bomb). So, in order: the zip's own
directory is checked (entry count, each part's and the total uncompressed size, the compression ratio) before
anything is inflated; the shared strings are counted as they stream by (count and total characters) before
openpyxl loads them; rows and cells are counted while the first sheet is read, stopping at the first limit; and
DTDs and entities are refused (defusedxml, which openpyxl uses when it is installed, and our own passes parse with
it too). All of it runs in a fresh worker process (``WORKER``) with a memory rlimit and a time limit: a thread
would keep the event loop free but not the hub's memory, which CPython never hands back after a big parse.

Writing (``workbook_bytes``): every string cell is written as text (a value starting with ``=``, ``+``, ``-``,
``@``, a tab or a CR also gets Excel's quote prefix, so it stays text when edited), and characters that XML or
openpyxl refuse are dropped, so no stored value can make an export fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import pickle
import re
import struct
import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hub.errors import HubError

log = logging.getLogger(__name__)
MiB = 1024 * 1024
#: Values a row may hold once read: what openpyxl gives for a cell.
Row = tuple[Any, ...]


class InvalidFile(HubError):
    code, status, message = "invalid_file", 400, "不是有效的 .xlsx 文件"


class WorkbookTooLarge(HubError):
    """A workbook over one of ``WorkbookLimits``; ``details.limit`` names it, ``details.max`` its value."""

    code, status, message = "too_large", 400, "工作簿超出限制"


@dataclass(frozen=True)
class WorkbookLimits:
    """What one workbook may hold. The defaults fit the largest legitimate import (60,000 signing rows of 11
    columns: a 30 MB sheet part at a ratio of 10, 120 MB of memory to parse) with room to spare."""

    max_rows: int = 200_001  #: non-blank rows of the first sheet, header included
    max_columns: int = 16  #: columns kept of each row (the rest are ignored)
    max_entries: int = 256  #: files in the zip (a workbook has about ten)
    max_part_bytes: int = 64 * MiB  #: uncompressed size of any one part (worksheets, shared strings)
    max_total_bytes: int = 160 * MiB  #: uncompressed size of all parts together
    max_ratio: int = 100  #: uncompressed / compressed size of a part (real sheets: 5-20)
    ratio_floor_bytes: int = MiB  #: parts smaller than this are not held to the ratio
    max_shared_strings: int = 1_000_000  #: entries of the shared-string table
    max_shared_chars: int = 16_000_000  #: characters of all shared strings together
    max_sheet_rows: int = 1_048_576  #: highest row number of the sheet, blank rows included (Excel's own limit)
    max_cells: int = 4_000_000  #: cells read, blank ones included
    worker_memory_bytes: int = 512 * MiB  #: address-space limit of the worker process (60,000 rows: ~200 MiB)
    worker_timeout_secs: float = 120.0  #: wall time of the worker before it is killed


# -- the checks, run inside the worker ---------------------------------------------------------------------------

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 65535


def _too_large(limit: str, value: int | float, message: str) -> WorkbookTooLarge:
    return WorkbookTooLarge(message, limit=limit, max=value)


def count_entries(data: bytes) -> int:
    """The entry count from the zip's end record, read before ``zipfile`` builds one object per entry."""
    start = data.rfind(_EOCD, max(0, len(data) - _EOCD_SIZE - _MAX_COMMENT))
    if start < 0 or len(data) - start < _EOCD_SIZE:
        raise InvalidFile(reason="not_xlsx")
    _, _, _, _, total, *_ = struct.unpack("<4s4H2LH", data[start:start + _EOCD_SIZE])
    return int(total)  # 0xFFFF: a zip64 archive, far over any limit here


def check_archive(data: bytes, limits: WorkbookLimits) -> zipfile.ZipFile:
    """The zip, once its directory is within the limits (no part is inflated here). ``zipfile`` stops
    inflating a part at its declared size, so the declared sizes are the real bounds."""
    entries = count_entries(data)
    if entries > limits.max_entries:
        raise _too_large("max_entries", limits.max_entries, f"工作簿最多 {limits.max_entries} 个部件")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InvalidFile(reason="not_xlsx") from None
    total = 0
    for info in archive.infolist():
        if info.file_size > limits.max_part_bytes:
            raise _too_large("max_part_bytes", limits.max_part_bytes,
                             f"工作簿部件解压后不能超过 {limits.max_part_bytes // MiB} MiB")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise _too_large("max_total_bytes", limits.max_total_bytes,
                             f"工作簿解压后不能超过 {limits.max_total_bytes // MiB} MiB")
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(1, info.compress_size):
            raise _too_large("max_ratio", limits.max_ratio, f"工作簿部件压缩比不能超过 {limits.max_ratio}")
    return archive


def shared_strings_parts(archive: zipfile.ZipFile) -> list[str]:
    """The parts that may hold shared strings: any named like them, and the one openpyxl loads, which is the part
    ``[Content_Types].xml`` gives the shared-strings type, whatever it is called (``xl/s.xml`` is as good)."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
    from openpyxl.xml.functions import fromstring  # openpyxl reads this part with it next anyway

    names = [n for n in archive.namelist() if n.lower().endswith("sharedstrings.xml")]
    declared = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES))).find(SHARED_STRINGS)
    if declared is not None:
        names.append(declared.PartName[1:])  # as openpyxl opens it
    return list(dict.fromkeys(names))


def check_shared_strings(archive: zipfile.ZipFile, limits: WorkbookLimits) -> None:
    """Count the shared strings as they stream by, keeping none, before openpyxl loads them all."""
    from defusedxml.ElementTree import iterparse

    for name in shared_strings_parts(archive):
        count = chars = 0
        with archive.open(name) as source:
            events = iterparse(source, events=("start", "end"), forbid_dtd=True)
            _, root = next(events)
            for event, node in events:
                if event != "end":
                    continue
                if node.tag.endswith("}t") or node.tag == "t":
                    chars += len(node.text or "")
                    if chars > limits.max_shared_chars:
                        raise _too_large("max_shared_chars", limits.max_shared_chars,
                                         f"共享字符串总长度不能超过 {limits.max_shared_chars} 字")
                elif node.tag.endswith("}si") or node.tag == "si":
                    count += 1
                    if count > limits.max_shared_strings:
                        raise _too_large("max_shared_strings", limits.max_shared_strings,
                                         f"共享字符串不能超过 {limits.max_shared_strings} 个")
                    root.clear()  # what was counted is dropped


def iter_sheet_rows(data: bytes, limits: WorkbookLimits, first: int | None = None) -> Iterator[tuple[int, Row]]:
    """(row number, values) of each non-blank row of the first sheet, counting rows and cells as they come;
    only the ``first`` ones when given (the rest of the sheet is not parsed)."""
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser  # what openpyxl's read-only sheets use

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        if not book.worksheets:
            return
        sheet = book.worksheets[0]
        cells = rows = 0
        with book._archive.open(sheet._worksheet_path) as source:
            parser = WorkSheetParser(source, sheet._shared_strings, data_only=False, epoch=book.epoch,
                                     date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
            for number, found in parser.parse():
                if number > limits.max_sheet_rows:
                    raise _too_large("max_sheet_rows", limits.max_sheet_rows,
                                     f"工作表最多 {limits.max_sheet_rows} 行")
                cells += len(found)
                if cells > limits.max_cells:
                    raise _too_large("max_cells", limits.max_cells, f"工作表最多 {limits.max_cells} 个单元格")
                values = [None] * limits.max_columns
                for cell in found:
                    if 1 <= cell["column"] <= limits.max_columns:
                        values[cell["column"] - 1] = cell["value"]
                if all(v in (None, "") for v in values):
                    continue
                rows += 1
                if rows > limits.max_rows:
                    raise _too_large("max_rows", limits.max_rows, f"工作表最多 {limits.max_rows} 行数据")
                yield number, tuple(values)
                if rows == first:
                    return
    finally:
        book.close()


def parse_workbook(data: bytes, limits: WorkbookLimits, first: int | None = None) -> list[tuple[int, Row]]:
    """Every check, then the rows: the worker's whole job (also callable in-process, e.g. from a test)."""
    from defusedxml import DefusedXmlException
    from openpyxl import DEFUSEDXML
    from openpyxl.utils.exceptions import InvalidFileException

    if not DEFUSEDXML:  # openpyxl would expand entities: never parse a workbook that way
        raise RuntimeError("openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set?)")
    archive = check_archive(data, limits)
    try:
        check_shared_strings(archive, limits)
        return list(iter_sheet_rows(data, limits, first))
    except HubError:
        raise
    except (DefusedXmlException, zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError,
            EOFError, SyntaxError, TypeError, IndexError, AttributeError) as exc:
        # A broken file fails in any of openpyxl's layers, which wrap what they caught (an entity, say).
        if any(isinstance(e, DefusedXmlException) for e in _causes(exc)):
            raise InvalidFile("工作簿含有 XML 实体或 DTD，已拒绝", reason="xml_dtd") from None
        raise InvalidFile(reason="not_xlsx") from None


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


# -- the worker process --------------------------------------------------------------------------------------------

def _answer(result: Any) -> bytes:
    return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


# The worker runs this checkout's code: started in its root, which comes first on its path (``-c``).
WORKER = "import sys; from hub.spreadsheets import worker_main; sys.exit(worker_main())"
PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)


def worker_main() -> int:
    """``python -c WORKER MEMORY_BYTES``: limits itself, reads a pickled (data, limits, first) from stdin,
    writes ("ok", rows) or ("error", code, message, details) to stdout."""
    import resource

    memory = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    data, limits, first = pickle.loads(sys.stdin.buffer.read())  # from the hub that started us
    # The hub kills a worker past its time; this also ends one whose hub died meanwhile.
    seconds = int(limits["worker_timeout_secs"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    try:
        result: tuple = ("ok", parse_workbook(data, WorkbookLimits(**limits), first))
    except HubError as exc:
        result = ("error", exc.code, exc.message, exc.details)
    except MemoryError:
        result = ("error", "too_large", "工作簿解析所需内存超出限制",
                  {"limit": "worker_memory_bytes", "max": memory})
    sys.stdout.buffer.write(_answer(result))
    return 0


def _error(code: str, message: str, details: dict[str, Any]) -> HubError:
    return WorkbookTooLarge(message, **details) if code == "too_large" else InvalidFile(message, **details)


async def read_workbook(data: bytes, limits: WorkbookLimits, first: int | None = None) -> list[tuple[int, Row]]:
    """(row number, values padded to ``limits.max_columns``) of the non-blank rows of the first sheet (only the
    ``first`` ones when given), read in a worker process. Raises ``InvalidFile`` or ``WorkbookTooLarge``
    (400) naming what was wrong."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, str(limits.worker_memory_bytes), cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(_answer((data, asdict(limits), first))),
                                        limits.worker_timeout_secs)
    except TimeoutError:
        raise WorkbookTooLarge("工作簿解析超时", limit="worker_timeout_secs", max=limits.worker_timeout_secs) from None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    try:
        answer = pickle.loads(out)  # our own worker's answer: plain values it built
    except Exception:
        # The worker died without answering: out of memory where Python could not raise MemoryError, or killed.
        log.warning("workbook worker exited %s without an answer: %s", process.returncode, err[-2000:])
        raise WorkbookTooLarge("工作簿解析所需资源超出限制", limit="worker_memory_bytes",
                               max=limits.worker_memory_bytes) from None
    if answer[0] == "ok":
        return answer[1]
    raise _error(*answer[1:])


# -- writing -------------------------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/U+FFFF): openpyxl refuses
# the controls and the rest make a file Excel will not open.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: What makes Excel (or LibreOffice, or a CSV reader) start a formula (OWASP's CSV-injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS = 32767  # Excel's limit for one cell


def writable_text(value: str) -> str:
    """The text as it can be written: unwritable characters dropped, cut to a cell's length."""
    return _UNWRITABLE.sub("", value)[:MAX_CELL_CHARS]


@dataclass
class Sheet:
    """One sheet to write: its title, its rows and, optionally, column widths (in characters)."""

    title: str
    rows: Iterable[Sequence[Any]]
    widths: dict[str, float] | None = None


def _cell(sheet: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, str):
        return value
    text = writable_text(value)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # text, never a formula (openpyxl makes a str starting with "=" a formula)
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True  # as Excel stores a typed '=…: it stays text when someone edits the cell
    return cell


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    """An .xlsx of these sheets, every string written as text (see the module docstring)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for spec in sheets:
        sheet = book.create_sheet(spec.title)
        for column, width in (spec.widths or {}).items():
            sheet.column_dimensions[column].width = width
        for row in spec.rows:
            sheet.append([_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

