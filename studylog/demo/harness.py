"""The child side of the demo runner: run one demo file and stream its outputs.

Started by :mod:`studylog.demo.runner` as ``python -I harness.py CONFIG_JSON``
in a new session, with a temporary working directory and no stdin. It

1. sets the resource limits (RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, no core
   files) before anything heavy is imported, so NumPy is imported under them;
2. keeps the original stdout pipe as the private *protocol* channel
   (non-inheritable, so processes the demo starts cannot write to it) and
   points file descriptor 1 at stderr, which the parent reads as raw output;
3. replaces ``sys.stdout``/``sys.stderr`` with writers that turn printed text
   into ``text`` outputs, in order with the API's outputs;
4. loads the demo file, calls ``demo()``, and writes one JSON line per output
   (``{"output": {...}}``) and a final ``{"done": {...}}`` line;
5. leaves with ``os._exit`` so that threads the demo left running cannot keep
   the process alive.

Only the standard library and :mod:`studylog.demo.api` are imported here.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import json
import os
import resource
import signal
import sys
import time
from typing import Any

EXIT_CPU_LIMIT = 3  # exit code after SIGXCPU; the parent maps it to status "limit"
MAX_TRACEBACK_CHARS = 20_000
FLUSH_MARGIN_S = 0.2  # pending prints are sent this long before the wall-clock kill
_HARNESS_FILE = os.path.abspath(__file__)


class Channel:
    """The protocol pipe to the parent, with the output caps.

    What is sent is always a prefix of what the demo produced: the first
    output that does not fit (beyond ``max_outputs``, or ``max_bytes`` of
    JSON) closes the channel, except that a text output is cut to the room
    left. Everything after is dropped and counted; :meth:`finish` reports the
    counts in a final note.
    """

    def __init__(self, fd: int, max_bytes: int, max_outputs: int) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
        self.max_outputs = max_outputs
        self.sent_bytes = 0
        self.sent = 0
        self.dropped = 0
        self.dropped_bytes = 0
        self.closed = False
        self.owner = os.getpid()

    @property
    def full(self) -> bool:
        return self.closed or self.sent >= self.max_outputs or self.sent_bytes >= self.max_bytes

    @property
    def room(self) -> int:
        """Bytes of JSON that may still be sent."""
        return max(0, self.max_bytes - self.sent_bytes)

    def _write(self, line: bytes) -> None:
        if os.getpid() != self.owner:
            # A process the demo forked keeps the descriptor; only the
            # harness itself speaks the protocol.
            return
        view = memoryview(line)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def _drop(self, n_bytes: int) -> None:
        self.closed = True
        self.dropped += 1
        self.dropped_bytes += n_bytes

    def send(self, output: dict[str, Any]) -> None:
        line = _encode({"output": output})
        if self.full:
            self._drop(len(line))
            return
        if len(line) > self.room:
            if output.get("kind") != "text":
                self._drop(len(line))
                return
            line = self._cut_text(output, line)
            if line is None:
                return
        self._write(line)
        self.sent += 1
        self.sent_bytes += len(line)

    def _cut_text(self, output: dict[str, Any], line: bytes) -> bytes | None:
        """The text output shortened to fit the room left (closing the channel), or None."""
        text = output["text"]
        full_size = len(line)
        while text and len(line) > self.room:
            # Shrink in proportion (escapes and UTF-8 make bytes != characters).
            text = text[: int(len(text) * self.room / len(line) * 0.95)]
            line = _encode({"output": {**output, "text": text}})
        self.closed = True
        self.dropped_bytes += full_size - (len(line) if text else 0)
        if not text:
            self.dropped += 1
            return None
        return line

    def drop_text(self, n_bytes: int) -> None:
        self.dropped_bytes += n_bytes

    def finish(self, done: dict[str, Any]) -> None:
        """Send the note about dropped output (outside the caps) and the final line."""
        if self.dropped or self.dropped_bytes:
            note = (
                f"output capped at {self.sent} outputs / {self.sent_bytes} bytes: "
                f"{self.dropped} more outputs and {self.dropped_bytes} bytes were not kept"
            )
            self._write(_encode({"output": {"kind": "text", "text": note, "stream": "note"}}))
            done["truncated"] = {"outputs": self.dropped, "bytes": self.dropped_bytes}
        self._write(_encode({"done": done}))


def _json_default(obj: Any) -> Any:
    # NumPy scalars (np.int64, np.float32) and anything else a demo passes.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def _encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, default=_json_default, ensure_ascii=False) + "\n").encode(
        "utf-8", "surrogatepass"
    )


class Capture:
    """A ``sys.stdout``/``sys.stderr`` replacement that buffers text for the channel.

    Both streams share one pending buffer so that their order is kept: text
    of the other stream, an API output and the end of the run flush it.
    """

    CHUNK = 64 * 1024  # a long print loop becomes a few large text outputs

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.stream: str | None = None
        self.parts: list[str] = []
        self.size = 0
        # Near the wall-clock deadline a timer switches to sending every
        # print at once, so that what was printed before a timeout kill is kept.
        self.immediate = False
        self.busy = 0
        self.flush_due = False

    def deadline_near(self) -> None:
        """Signal handler: send what is pending now (or as soon as a write in progress ends)."""
        self.immediate = True
        if self.busy:
            self.flush_due = True
        else:
            self.flush_pending()

    def _leave(self) -> None:
        self.busy -= 1
        if self.flush_due and not self.busy:
            self.flush_due = False
            self.flush_pending()

    def writer(self, stream: str) -> _StreamWriter:
        return _StreamWriter(self, stream)

    def add(self, stream: str, text: str) -> int:
        if not text:
            return 0
        if self.channel.full:
            self.channel.drop_text(len(text.encode("utf-8", "surrogatepass")))
            return len(text)
        self.busy += 1
        try:
            if stream != self.stream:
                self._flush()
                self.stream = stream
            self.parts.append(text)
            self.size += len(text)
            if self.immediate or self.size >= min(self.CHUNK, self.channel.room):
                self._flush()
        finally:
            self._leave()
        return len(text)

    def send(self, output: dict[str, Any]) -> None:
        """An API output: the pending text first, then the output."""
        self.busy += 1
        try:
            self._flush()
            self.channel.send(output)
        finally:
            self._leave()

    def flush_pending(self) -> None:
        self.busy += 1
        try:
            self._flush()
        finally:
            self._leave()

    def _flush(self) -> None:
        if self.parts and self.stream is not None:
            text = "".join(self.parts)
            self.parts, self.size = [], 0
            self.channel.send({"kind": "text", "text": text, "stream": self.stream})
        self.parts, self.size = [], 0


class _StreamWriter(io.TextIOBase):
    def __init__(self, capture: Capture, stream: str) -> None:
        super().__init__()
        self._capture = capture
        self._stream = stream

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        return self._capture.add(self._stream, str(text))

    def flush(self) -> None:
        # print(..., flush=True) must not cut the text into many outputs.
        pass


def _set_limits(limits: dict[str, Any]) -> None:
    memory = int(limits["memory_bytes"])
    cpu = int(limits["cpu_s"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The soft CPU limit sends SIGXCPU (handled below); the hard one, 2 s
    # later, SIGKILL, for code stuck in C where no Python handler can run.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["file_bytes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Writing past RLIMIT_FSIZE then fails with OSError(EFBIG) in the demo
    # (a readable traceback) instead of killing the process with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _import_api() -> Any:
    """Import studylog.demo.api, registering the package from this file's location if needed."""
    try:
        from studylog.demo import api
    except ImportError:
        # Not installed (a source checkout): register only the `studylog`
        # package, so that the checkout's other folders stay unimportable.
        package_dir = os.path.dirname(os.path.dirname(_HARNESS_FILE))
        spec = importlib.util.spec_from_file_location(
            "studylog",
            os.path.join(package_dir, "__init__.py"),
            submodule_search_locations=[package_dir],
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["studylog"] = module
        spec.loader.exec_module(module)
        from studylog.demo import api
    return api


def _trimmed_traceback(exc: BaseException) -> str:
    """The traceback without the harness's and importlib's own frames."""
    tb = exc.__traceback__
    while tb is not None and (
        tb.tb_frame.f_code.co_filename == _HARNESS_FILE
        or tb.tb_frame.f_code.co_filename.startswith("<frozen importlib")
    ):
        tb = tb.tb_next
    import traceback  # only on failure: it costs a few ms to import

    text = "".join(traceback.format_exception(type(exc), exc, tb))
    if len(text) > MAX_TRACEBACK_CHARS:
        # The end names the exception and the innermost frames: keep it.
        text = "[... traceback shortened ...]\n" + text[-MAX_TRACEBACK_CHARS:]
    return text


class FreshSourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles from source every time: no ``__pycache__`` read or written.

    A ``.pyc`` is trusted when the source's mtime (whole seconds) and size
    match, so a demo edited within the same second to a same-size text would
    run stale bytecode; and the pack folder may be read-only. Demo modules
    are small, so compiling them costs about a millisecond.
    """

    def get_code(self, fullname: str) -> Any:
        return self.source_to_code(self.get_data(self.path), self.path)


class DemoFolderFinder:
    """Finds top-level ``name.py`` modules in the demo folders, loaded fresh.

    Placed just before the standard PathFinder, so it shadows what a
    ``sys.path`` entry in front would shadow (built-in modules win).
    """

    def __init__(self, folders: list[str]) -> None:
        self.folders = folders

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if path is not None or "." in name:
            return None
        for folder in self.folders:
            candidate = os.path.join(folder, name + ".py")
            if os.path.isfile(candidate):
                return importlib.util.spec_from_file_location(
                    name, candidate, loader=FreshSourceLoader(name, candidate)
                )
        return None

    @classmethod
    def install(cls, folders: list[str]) -> None:
        finder = cls(folders)
        position = next(
            (i for i, f in enumerate(sys.meta_path) if f is importlib.machinery.PathFinder),
            len(sys.meta_path),
        )
        sys.meta_path.insert(position, finder)


def _one_line(exc: BaseException) -> str:
    import traceback

    # The last line: "ValueError: ..." (a SyntaxError's first lines show the code).
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _load_and_run(demo_path: str, entry: str | None = "demo") -> None:
    spec = importlib.util.spec_from_file_location(
        "__demo__", demo_path, loader=FreshSourceLoader("__demo__", demo_path)
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {demo_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["__demo__"] = module
    spec.loader.exec_module(module)
    if entry is None:
        return  # a script: its top level was the whole run
    func = getattr(module, entry, None)
    if not callable(func):
        raise AttributeError(f"{os.path.basename(demo_path)} defines no {entry}() function")
    func()


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    limits = config["limits"]
    _set_limits(limits)
    # A reserve given back on MemoryError, so that reporting it can allocate.
    reserve = bytearray(256 * 1024)

    proto_fd = os.dup(1)  # os.dup gives a non-inheritable descriptor
    os.dup2(2, 1)  # file-level writes to stdout (C code, child processes) -> raw output
    channel = Channel(proto_fd, int(limits["max_output_bytes"]), int(limits["max_outputs"]))
    capture = Capture(channel)

    def on_xcpu(_signum: int, _frame: Any) -> None:
        capture.flush_pending()
        channel.finish({"status": "limit", "limit": "cpu", "error": "CPU time limit reached"})
        os._exit(EXIT_CPU_LIMIT)

    signal.signal(signal.SIGXCPU, on_xcpu)

    if config.get("wait"):  # started ahead (runner.prestart): warm up, then wait for the go
        _import_api()  # registers the studylog package, for preloads of its modules
        for module in config.get("preload") or ():
            try:
                importlib.import_module(module)  # under the limits, as the code's own import
            except ImportError:
                pass
        go = sys.stdin.buffer.readline()
        if not go:
            os._exit(0)  # discarded without a run
        config.update(json.loads(go))
    api = _import_api()
    api._caps.update(
        array_elements=int(limits["max_array_elements"]),
        line_points=int(limits["max_line_points"]),
        table_rows=int(limits["max_table_rows"]),
    )

    api._sink = capture.send
    # Shortly before the parent's wall-clock kill, send the pending prints
    # (and every later one at once).
    deadline = float(config.get("deadline") or time.monotonic() + float(limits["timeout_s"]))
    signal.signal(signal.SIGALRM, lambda _s, _f: capture.deadline_near())
    signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - FLUSH_MARGIN_S - time.monotonic()))
    # The demo's own folder (and the pack folder) come first, so that
    # `from common import softmax` finds the pack's module.
    folders = [str(p) for p in config["paths"]]
    sys.path[:0] = folders  # packages in those folders, and what demos expect to see
    DemoFolderFinder.install(folders)
    sys.stdout = capture.writer("stdout")
    sys.stderr = capture.writer("stderr")

    done: dict[str, Any]
    started = time.perf_counter()
    try:
        _load_and_run(config["demo"], config.get("entry", "demo"))
        done = {"status": "ok"}
    except MemoryError as exc:
        del reserve
        done = {
            "status": "limit",
            "limit": "memory",
            "error": f"MemoryError: {exc}" if str(exc) else "MemoryError",
            "traceback": _trimmed_traceback(exc),
        }
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are errors too
        done = {
            "status": "error",
            "error": _one_line(exc),
            "traceback": _trimmed_traceback(exc),
        }
    done["demo_ms"] = round((time.perf_counter() - started) * 1000, 3)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    done["cpu_ms"] = round((usage.ru_utime + usage.ru_stime) * 1000, 3)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        done["numpy"] = getattr(numpy, "__version__", None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0)
        capture.flush_pending()
        channel.finish(done)
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
