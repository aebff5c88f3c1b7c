"""Reading users' text files: UTF-8 (with or without BOM), or CP949 as Korean Windows saves it."""

from __future__ import annotations

from pathlib import Path

from studylog.errors import InvalidInputError

ENCODINGS = ("utf-8-sig", "cp949")


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode ``data``; return (text with ``\\n`` newlines, encoding used).

    Korean Excel and Notepad on Windows save CP949 (EUC-KR extended) by
    default, so that is tried after UTF-8.

    Raises:
        InvalidInputError: binary data, or text in neither encoding.
    """
    if b"\x00" in data[:8192]:
        raise InvalidInputError(f"{name}: not a text file (it contains NUL bytes)")
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text.replace("\r\n", "\n").replace("\r", "\n"), encoding
    raise InvalidInputError(f"{name}: not UTF-8 or CP949 text")


def read_text(path: Path) -> tuple[str, str]:
    """Read and :func:`decode` a file.

    Raises:
        InvalidInputError: unreadable or not text.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    return decode(data, path.name)
