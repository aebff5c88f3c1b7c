"""Hashes that identify a demo's code for the result cache and for trust.

* :func:`trust_hash` is sha256 of exactly the text the user read and approved.
* :func:`code_hash` also covers the modules of the demo's folder that it
  imports (``from common import softmax``), transitively, so that changing
  ``common.py`` makes the cached outputs of every demo using it stale.
* :func:`cache_key` adds the Python and NumPy versions: the same code under
  another NumPy may print other numbers.

Standard library only; NumPy's version is read from its installed metadata,
without importing it.
"""

from __future__ import annotations

import ast
import hashlib
import platform
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path


def trust_hash(code: str) -> str:
    """sha256 (hex) of the code's UTF-8 text."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def imported_names(code: str) -> set[str]:
    """Top-level module names imported anywhere in ``code`` (absolute imports only).

    Code that does not parse imports nothing (running it will report the
    SyntaxError).
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def local_modules(code: str, folders: Sequence[Path]) -> dict[str, str]:
    """The ``name -> source`` of modules in ``folders`` that ``code`` imports, transitively.

    A name is looked up as ``name.py`` in the folders in order, as the child's
    ``sys.path`` does.
    """
    found: dict[str, str] = {}
    queue = sorted(imported_names(code))
    while queue:
        name = queue.pop()
        if name in found:
            continue
        for folder in folders:
            candidate = folder / f"{name}.py"
            if candidate.is_file():
                try:
                    text = candidate.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    break
                found[name] = text
                queue.extend(sorted(imported_names(text) - found.keys()))
                break
    return found


def code_hash(code: str, folders: Sequence[Path] = ()) -> str:
    """sha256 (hex) over the demo's code and the local modules it imports."""
    digest = hashlib.sha256()
    digest.update(b"demo\0" + code.encode("utf-8", "surrogatepass"))
    for name, text in sorted(local_modules(code, folders).items()):
        digest.update(b"\0module\0" + name.encode() + b"\0" + text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@lru_cache(maxsize=1)
def runtime_versions() -> tuple[str, str]:
    """(Python version, NumPy version) of the interpreter that runs demos (``sys.executable``)."""
    try:
        numpy_version = metadata.version("numpy")
    except metadata.PackageNotFoundError:
        numpy_version = "none"
    return platform.python_version(), numpy_version


def cache_key(code_hash_: str, python_version: str, numpy_version: str) -> str:
    """sha256 (hex) of the code hash and the versions: the unique key of a cached result."""
    text = f"{code_hash_}\npython {python_version}\nnumpy {numpy_version}"
    return hashlib.sha256(text.encode()).hexdigest()
