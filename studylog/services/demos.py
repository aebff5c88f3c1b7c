"""Concept demos: listing them, running them, the result cache and trust.

* **Code.** A concept's demo is either user-written code stored with the
  concept (``demo_code``) or a file of the pack (``demo``, a name in
  ``content/demos/``). A demo file the user wrote can be run by path.
* **Cache.** Every run is stored (:class:`~studylog.storage.demo_models.DemoResult`)
  under a key over the code and the Python and NumPy versions. :func:`cached`
  answers at once with the last result and whether it is *stale* (the code or
  the versions changed since). Running is always explicit: :func:`run`
  reuses a result only when asked to (``use_cache=True``) and only a fresh
  ``ok`` one.
* **Trust.** Pack code and the user's own code run on request. Code that came
  in through an import (``origin == "import"``) runs only after the user has
  read and approved it once (:func:`approve`, recorded by sha256 of the code),
  like Jupyter's notebook trust.

The demo runs outside any database session: a run takes up to the timeout,
and no lock is held meanwhile; its result is stored in one short write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from studylog.demo import cache as hashing
from studylog.demo import sandbox
from studylog.demo.limits import Limits
from studylog.demo.runner import RunResult, run_code, run_file
from studylog.errors import InvalidInputError, NotFoundError, StudylogError
from studylog.paths import content_dir
from studylog.storage.demo_models import DemoResult, TrustedCode
from studylog.storage.engine import Database
from studylog.storage.models import Concept
from studylog.studyday import utcnow


class UntrustedCodeError(StudylogError):
    """Imported demo code that the user has not approved yet."""


def pack_demos_dir() -> Path:
    """The pack's demo folder (``content/demos``); its modules are importable by every demo."""
    return content_dir() / "demos"


@dataclass(frozen=True)
class DemoSource:
    """A demo's code, resolved, with what is needed to run, cache and trust it.

    Attributes:
        slug: the concept, or None for a file run by path.
        title: the concept's title, or the file name.
        origin: ``pack``, ``user``, ``import`` (the concept's), or ``file``.
        code: the source text.
        path: the file the code is read from (pack demo or PATH), None for
            code stored in the database.
        name: the file name the child runs (shown in tracebacks).
        search_paths: folders put on the child's sys.path.
        trusted: whether it may run without approval.
        trust_hash: sha256 of ``code`` (what :func:`approve` records).
        code_hash: sha256 of ``code`` and the local modules it imports.
    """

    slug: str | None
    title: str
    origin: str
    code: str
    path: Path | None
    name: str
    search_paths: tuple[Path, ...]
    trusted: bool
    trust_hash: str
    code_hash: str

    @property
    def cache_key(self) -> str:
        return hashing.cache_key(self.code_hash, *hashing.runtime_versions())


@dataclass(frozen=True)
class DemoRun:
    """A result to show: fresh from a run or from the cache.

    ``stale`` is True when the result belongs to other code or other Python
    or NumPy versions than the current ones; ``stale_reason`` then says
    ``"code changed"`` or ``"Python/NumPy version changed"``.
    """

    slug: str | None
    result: RunResult
    ran_at: datetime
    cached: bool
    stale: bool
    stale_reason: str | None
    python_version: str
    numpy_version: str

    def to_json(self) -> dict:
        """The result's JSON (``status``, ``duration_ms``, ``outputs``...) plus cache fields."""
        data = self.result.to_json()
        data.update(
            slug=self.slug,
            ran_at=self.ran_at.isoformat(),
            cached=self.cached,
            stale=self.stale,
        )
        return data


@dataclass(frozen=True)
class DemoEntry:
    """A line of the demo list."""

    slug: str
    title: str
    origin: str
    demo: str | None
    trusted: bool
    last_status: str | None
    last_duration_ms: int | None
    stale: bool | None
    ran_at: datetime | None


# --- resolving code ---------------------------------------------------------


def _pack_file(name: str, slug: str) -> Path:
    folder = pack_demos_dir()
    if not name.endswith(".py") or Path(name).name != name or name.startswith("."):
        raise InvalidInputError(
            f"concept {slug!r}: demo {name!r} must be a file name in {folder} (like lstm.py)"
        )
    path = folder / name
    if not path.is_file():
        raise NotFoundError(f"concept {slug!r}: its demo file {path} does not exist")
    return path


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read the demo file {path}: {exc}") from None


def _approved(session: Session, digest: str) -> bool:
    return session.get(TrustedCode, digest) is not None


def _source_of(session: Session, concept: Concept) -> DemoSource:
    slug = concept.slug
    if concept.demo_code and concept.demo_code.strip():
        code = concept.demo_code
        path = None
        name = f"{slug}.py"
        search = (pack_demos_dir(),)
        digest = hashing.trust_hash(code)
        trusted = concept.origin != "import" or _approved(session, digest)
    elif concept.demo:
        path = _pack_file(concept.demo, slug)
        code = _read(path)
        name = path.name
        search = (path.parent,)
        digest = hashing.trust_hash(code)
        trusted = True  # the pack's own file, whoever links to it
    else:
        raise NotFoundError(f"concept {slug!r} has no demo")
    return DemoSource(
        slug=slug,
        title=concept.title,
        origin=concept.origin,
        code=code,
        path=path,
        name=name,
        search_paths=search,
        trusted=trusted,
        trust_hash=digest,
        code_hash=hashing.code_hash(code, search),
    )


def _concept(session: Session, slug: str) -> Concept:
    concept = session.scalar(select(Concept).where(Concept.slug == slug))
    if concept is None:
        raise NotFoundError(f"no concept with slug {slug!r}")
    return concept


def resolve(db: Database, slug: str) -> DemoSource:
    """The demo code of concept ``slug``.

    Raises:
        NotFoundError: no such concept, it has no demo, or its file is missing.
        InvalidInputError: its ``demo`` is not a plain ``*.py`` name of the pack.
    """
    with db.read() as session:
        return _source_of(session, _concept(session, slug))


def source_for_file(path: str | Path) -> DemoSource:
    """A demo file the user wrote, run by path (trusted: it is the user's own file).

    Raises:
        NotFoundError: no such file.
        InvalidInputError: not a ``.py`` file, or unreadable.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise NotFoundError(f"no demo file at {file}")
    if file.suffix != ".py":
        raise InvalidInputError(f"{file} is not a Python file (.py)")
    code = _read(file)
    search = (file.parent, pack_demos_dir())
    return DemoSource(
        slug=None,
        title=file.name,
        origin="file",
        code=code,
        path=file,
        name=file.name,
        search_paths=search,
        trusted=True,
        trust_hash=hashing.trust_hash(code),
        code_hash=hashing.code_hash(code, search),
    )


# --- cache --------------------------------------------------------------------


def _staleness(
    code_hash: str, python_version: str, numpy_version: str, source: DemoSource | None
) -> tuple[bool, str | None]:
    """(stale, reason) of a stored result against the current code and versions."""
    if source is None or code_hash != source.code_hash:
        return True, "code changed"
    if (python_version, numpy_version) != hashing.runtime_versions():
        return True, "Python/NumPy version changed"
    return False, None


def _as_run(row: DemoResult, source: DemoSource | None, cached: bool) -> DemoRun:
    stale, reason = _staleness(row.code_hash, row.python_version, row.numpy_version, source)
    result = RunResult(
        status=row.status,
        duration_ms=row.duration_ms,
        outputs=list(row.outputs or []),
        error=row.error,
        traceback=row.traceback,
        limit=row.limit_hit,
        truncated=row.truncated,
    )
    return DemoRun(
        slug=row.concept_slug,
        result=result,
        ran_at=row.ran_at,
        cached=cached,
        stale=stale,
        stale_reason=reason,
        python_version=row.python_version,
        numpy_version=row.numpy_version,
    )


def _latest(session: Session, source: DemoSource) -> DemoResult | None:
    query = select(DemoResult)
    if source.slug is not None:
        query = query.where(DemoResult.concept_slug == source.slug)
    else:
        query = query.where(
            DemoResult.concept_slug.is_(None), DemoResult.source_path == str(source.path)
        )
    return session.scalar(query.order_by(DemoResult.ran_at.desc(), DemoResult.id.desc()).limit(1))


def cached_for(db: Database, source: DemoSource) -> DemoRun | None:
    """The last stored result of ``source`` (its concept, or its file path), or None."""
    with db.read() as session:
        row = _latest(session, source)
        return None if row is None else _as_run(row, source, cached=True)


def cached(db: Database, slug: str) -> DemoRun | None:
    """The last stored result of concept ``slug``'s demo, marked stale if the code changed.

    Fast: reads one row and hashes the code; never runs anything. A result
    whose code can no longer be resolved (file gone) is returned as stale.

    Raises:
        NotFoundError: no concept with that slug.
    """
    with db.read() as session:
        concept = _concept(session, slug)
        row = session.scalar(
            select(DemoResult)
            .where(DemoResult.concept_slug == slug)
            .order_by(DemoResult.ran_at.desc(), DemoResult.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        try:
            source = _source_of(session, concept)
        except StudylogError:
            source = None
        return _as_run(row, source, cached=True)


def _store(db: Database, source: DemoSource, result: RunResult, now: datetime) -> DemoRun:
    python_version, numpy_version = hashing.runtime_versions()
    key = hashing.cache_key(source.code_hash, python_version, numpy_version)
    with db.write() as session:
        # One entry per concept (or file): the newest. Older code's results
        # would only ever be shown as stale, so they are replaced.
        session.execute(delete(DemoResult).where(DemoResult.key == key))
        if source.slug is not None:
            session.execute(delete(DemoResult).where(DemoResult.concept_slug == source.slug))
        else:
            session.execute(
                delete(DemoResult).where(
                    DemoResult.concept_slug.is_(None),
                    DemoResult.source_path == str(source.path),
                )
            )
        row = DemoResult(
            key=key,
            concept_slug=source.slug,
            source_path=str(source.path) if source.path is not None else None,
            code_hash=source.code_hash,
            python_version=python_version,
            numpy_version=numpy_version,
            status=result.status,
            duration_ms=result.duration_ms,
            outputs=result.outputs,
            error=result.error,
            traceback=result.traceback,
            limit_hit=result.limit,
            truncated=result.truncated,
            ran_at=now,
        )
        session.add(row)
        session.flush()
        stored = _as_run(row, source, cached=False)
    # Not stored: what isolation this run had (for the warning shown after it).
    stored.result.sandbox = result.sandbox
    stored.result.cpu_ms = result.cpu_ms
    return stored


# --- trust --------------------------------------------------------------------


def is_trusted(db: Database, slug: str) -> bool:
    """Whether concept ``slug``'s demo may run without asking (pack, user, or approved code)."""
    return resolve(db, slug).trusted


def approve(
    db: Database, slug: str, *, expected_hash: str | None = None, now: datetime | None = None
) -> str:
    """Record that the user read and approved concept ``slug``'s current demo code.

    Returns the approved code's sha256. Approval is by hash: if an import
    later changes the code, it needs approving again. Pass the
    ``trust_hash`` of the :class:`DemoSource` that was shown as
    ``expected_hash``, so that code changed in between is not approved unseen.

    Raises:
        InvalidInputError: the code changed since it was shown.
    """
    source = resolve(db, slug)
    if expected_hash is not None and expected_hash != source.trust_hash:
        raise InvalidInputError(
            f"the demo code of {slug!r} changed while it was shown; nothing was approved"
        )
    with db.write() as session:
        if session.get(TrustedCode, source.trust_hash) is None:
            session.add(TrustedCode(code_hash=source.trust_hash, approved_at=now or utcnow()))
    return source.trust_hash


# --- running ------------------------------------------------------------------


def sandbox_notice(result: RunResult) -> str | None:
    """The one-line warning to show, once per process, when a run had no kernel sandbox."""
    if result.sandbox != "none":
        return None
    return sandbox.fallback_notice(sandbox.detect())


def private_folders(db: Database) -> list[Path]:
    """Folders code run by studylog must never see: the database's and the default data folder."""
    from studylog.paths import default_db_path

    folders = [default_db_path().parent]
    if db.path is not None:
        folders.append(db.path.resolve().parent)
    return folders


def run_source(
    db: Database,
    source: DemoSource,
    *,
    limits: Limits | None = None,
    use_cache: bool = False,
    now: datetime | None = None,
) -> DemoRun:
    """Run ``source`` (or, with ``use_cache``, reuse its fresh ``ok`` result) and store the result.

    Raises:
        UntrustedCodeError: imported code that has not been approved.
    """
    if not source.trusted:
        raise UntrustedCodeError(
            f"the demo of {source.slug!r} came from an import and has not been approved; "
            f"read it and approve it with: studylog demo approve {source.slug}"
        )
    if use_cache:
        previous = cached_for(db, source)
        if previous is not None and not previous.stale and previous.result.ok:
            return previous
    hidden = private_folders(db)
    if source.path is not None:
        extra = [p for p in source.search_paths if p != source.path.parent]
        result = run_file(source.path, limits=limits, paths=extra, hidden=hidden)
    else:
        result = run_code(
            source.code,
            name=source.name,
            limits=limits,
            paths=list(source.search_paths),
            hidden=hidden,
        )
    return _store(db, source, result, now or utcnow())


def run(
    db: Database,
    slug: str,
    *,
    limits: Limits | None = None,
    use_cache: bool = False,
    now: datetime | None = None,
) -> DemoRun:
    """Run concept ``slug``'s demo in a limited child process and store the result.

    Takes up to ``limits.timeout_s`` (default 10 s); call it from a worker
    thread in the app. Statuses ``error``, ``timeout`` and ``limit`` are
    results, not exceptions.

    Raises:
        NotFoundError, InvalidInputError: see :func:`resolve`.
        UntrustedCodeError: imported code that has not been approved.
    """
    return run_source(db, resolve(db, slug), limits=limits, use_cache=use_cache, now=now)


def run_path(
    db: Database,
    path: str | Path,
    *,
    limits: Limits | None = None,
    use_cache: bool = False,
    now: datetime | None = None,
) -> DemoRun:
    """Run a demo file the user wrote (its folder and the pack's on sys.path); store the result."""
    return run_source(db, source_for_file(path), limits=limits, use_cache=use_cache, now=now)


# --- listing ------------------------------------------------------------------


def list_demos(db: Database) -> list[DemoEntry]:
    """Concepts with a demo (pack file or own code), by slug, with their last result."""
    entries: list[DemoEntry] = []
    with db.read() as session:
        concepts = session.scalars(
            select(Concept)
            .where((Concept.demo.is_not(None)) | (Concept.demo_code.is_not(None)))
            .order_by(Concept.slug)
        ).all()
        # Only the small columns: outputs may be up to the cap (1 MiB) each.
        latest = {
            row.concept_slug: row
            for row in session.execute(
                select(
                    DemoResult.concept_slug,
                    DemoResult.code_hash,
                    DemoResult.python_version,
                    DemoResult.numpy_version,
                    DemoResult.status,
                    DemoResult.duration_ms,
                    DemoResult.ran_at,
                )
                .where(DemoResult.concept_slug.is_not(None))
                .order_by(DemoResult.ran_at, DemoResult.id)
            )
        }
        for concept in concepts:
            try:
                source = _source_of(session, concept)
            except NotFoundError:
                if not concept.demo and not (concept.demo_code or "").strip():
                    continue
                source = None
            except StudylogError:
                source = None
            row = latest.get(concept.slug)
            stale = None
            if row is not None:
                stale, _ = _staleness(row.code_hash, row.python_version, row.numpy_version, source)
            entries.append(
                DemoEntry(
                    slug=concept.slug,
                    title=concept.title,
                    origin=concept.origin,
                    demo=concept.demo if not (concept.demo_code or "").strip() else None,
                    trusted=source.trusted if source is not None else concept.origin != "import",
                    last_status=row.status if row is not None else None,
                    last_duration_ms=row.duration_ms if row is not None else None,
                    stale=stale,
                    ran_at=row.ran_at if row is not None else None,
                )
            )
    return entries
