"""Study notes (.md, .txt) as journal posts with their tasks and definition-style lines.

Pure text processing, no database: :func:`parse_note` splits a file into
dated posts (:mod:`studylog.interchange.note_dates` finds the headers), and
finds in each post

* **tasks**: ``- [ ]`` / ``- [x]`` items anywhere, the items under a line
  such as ``TODO``, ``TODO list`` or ``할 일``, and ``TODO: ...`` lines;
* **definitions** that could become cards (the user accepts or rejects them):
  ``term : definition`` (the definition may start on the next lines),
  ``term::definition``, ``Q:``/``A:`` pairs, markdown definition lists
  (``term`` then ``: definition``), cloze lines with ``{{c1::...}}``,
  ``term - definition``, "X이란?" followed by its answer, and glossary items
  (a term followed by its definition) in a list separated by lone ``-`` lines.

The text is kept faithfully: the posts of a file, joined, give back the file
(newlines normalised to ``\\n``). The rules and their limits are described in
``docs/import.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from studylog.interchange.note_dates import FoundDate, header_date, to_aware
from studylog.studyday import StudyCalendar

MAX_TERM_CHARS = 50
MAX_TERM_WORDS = 6
MAX_LOOKAHEAD_BLANKS = 4  # blank lines allowed between "term :" and its definition
MAX_DEFINITION_LINES = 20


@dataclass(frozen=True)
class NoteTask:
    """A task found in a note; ``line`` is 1-based in the file.

    ``due`` and ``done_on`` come from Obsidian Tasks markers at the end of the
    item (``📅 2024-08-20``, ``✅ 2024-08-17``), which the markdown export writes.
    """

    text: str
    done: bool
    line: int
    due: date | None = None
    done_on: date | None = None


@dataclass(frozen=True)
class NoteDefinition:
    """A definition-style passage that could become a card.

    ``kind`` is ``basic`` or ``cloze`` (then ``front`` holds ``{{cN::...}}``);
    ``rule`` names the pattern that found it; ``line`` is 1-based in the file.
    """

    front: str
    back: str
    kind: str
    rule: str
    line: int


@dataclass(frozen=True)
class NotePost:
    """One dated post of a note file.

    Attributes:
        day: the study day it belongs to.
        moment: aware UTC time of the post when the header had a time, else None.
        text: the post's exact text (a slice of the file).
        first_line: 1-based line where the post starts.
        date_source: ``header`` (a dated line), ``front-matter``, ``file-name``,
            ``option`` (``--date``) or ``modified`` (the file's modification day).
        tasks, definitions: what was found in the post.
    """

    day: date
    moment: datetime | None
    text: str
    first_line: int
    date_source: str
    tasks: list[NoteTask] = field(default_factory=list)
    definitions: list[NoteDefinition] = field(default_factory=list)


# --- line classes ---------------------------------------------------------------------

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_BULLET = re.compile(r"^(?P<indent>\s*)(?P<mark>[-*+•●◦▪]|\d{1,3}[.)])\s+(?P<text>.*)$")
_CHECKBOX = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\[(?P<mark>[ xX✓✔])\]\s+(?P<text>\S.*)$")
_SEPARATOR = re.compile(r"^\s*([-*_—–])\s*$")
_TODO_WORDS = {
    "todo", "todos", "to do", "to-do", "todo list", "to do list", "to-do list", "tasks",
    "할 일", "할일", "할 일 목록", "할일 목록", "해야 할 일", "해야할 일", "해야할일",
    "내일 할 일", "내일 할일", "오늘 할 일", "오늘 할일",
}  # fmt: skip
_TODO_INLINE = re.compile(r"^\s*(?:[-*+]\s+)?(?:todo|할\s?일)\s*[:：]\s*(?P<text>\S.*)$", re.I)
_FRONT_MATTER_DATE = re.compile(r"^(?:date|created|날짜)\s*:\s*(?P<value>.+)$", re.I)


def _is_blank(line: str) -> bool:
    return not line.strip()  # str.strip() also removes the no-break spaces blogs leave


def _plain(line: str) -> str:
    """A line without heading marks, emphasis and trailing colon, lower-cased."""
    text = _HEADING.sub("", line).strip()
    text = text.strip("*_`").strip().rstrip(":：").strip().strip("*_`").strip()
    return text.lower()


def _is_todo_heading(line: str) -> bool:
    return _plain(line) in _TODO_WORDS


# --- splitting into posts ---------------------------------------------------------------


def _code_mask(lines: list[str]) -> list[bool]:
    """True for lines inside fenced code blocks (their fences included)."""
    mask, inside, fence = [], False, ""
    for line in lines:
        match = _FENCE.match(line)
        if match and (not inside or match.group(1) == fence):
            mask.append(True)
            inside, fence = (not inside), match.group(1)
            continue
        mask.append(inside)
    return mask


def _front_matter_end(lines: list[str]) -> int:
    """Index of the closing ``---`` of YAML front matter at the top, or -1."""
    if not lines or lines[0].strip() != "---":
        return -1
    for i in range(1, min(len(lines), 60)):
        if lines[i].strip() in ("---", "..."):
            return i
    return -1


def front_matter_date(lines: list[str]) -> FoundDate | None:
    """``date:`` / ``created:`` from YAML front matter at the top of a note."""
    from studylog.interchange.note_dates import find_date

    end = _front_matter_end(lines)
    for line in lines[1:end] if end > 0 else ():
        match = _FRONT_MATTER_DATE.match(line.strip())
        if match:
            found = find_date(match["value"].strip().strip("'\""))
            if found:
                return found
    return None


def _header_lines(lines: list[str], code: list[bool]) -> list[tuple[int, FoundDate]]:
    headers = []
    start = _front_matter_end(lines) + 1
    for i in range(start, len(lines)):
        if code[i]:
            continue
        found = header_date(lines[i])
        if found is not None:
            headers.append((i, found))
    # A run of dated lines with nothing between them is a list of dates, not posts:
    # only the last of such a run dates what follows.
    kept = []
    for n, (i, found) in enumerate(headers):
        following = headers[n + 1][0] if n + 1 < len(headers) else len(lines)
        if any(not _is_blank(lines[k]) for k in range(i + 1, following)):
            kept.append((i, found))
    return kept


def _title_start(lines: list[str], header: int, floor: int, *, category: bool = False) -> int:
    """Where a post whose dated line is ``header`` starts: its title lines just above count.

    Markdown headings directly above (blank lines between allowed) belong to the
    post, as does one short plain line (a blog copy's title above the byline).
    With ``category`` (the file's first post has one), a second short plain line
    above the title is the post's category line (``딥러닝`` above each title of a
    blog listing) and belongs to the post it heads.
    """
    i = header
    start = header
    plain_taken = 0
    heading_taken = False
    while True:
        j = i - 1
        while j > floor and _is_blank(lines[j]):
            j -= 1
        if j <= floor:
            return start
        line = lines[j]
        if _HEADING.match(line) and header_date(line) is None:
            start = i = j
            heading_taken = True
            continue
        if not heading_taken and plain_taken < (2 if category else 1) and _is_title_line(line):
            start = i = j
            plain_taken += 1
            continue
        return start


def _is_title_line(line: str) -> bool:
    """A short plain line that is not a sentence: a post's title or category line."""
    return (
        len(line.strip()) <= 80
        and not _BULLET.match(line)
        and not line.rstrip().endswith((".", "다", "요"))
    )


def _first_post_has_category(lines: list[str], header: int) -> bool:
    """True when two title-like lines stand above the first dated line (category, title)."""
    above = [line for line in lines[:header] if not _is_blank(line)]
    return len(above) >= 2 and all(_is_title_line(line) for line in above[-2:])


def split_posts(lines: list[str]) -> list[tuple[int, int, FoundDate | None]]:
    """``(start, end, header date)`` line ranges of the posts; one undated range if no header."""
    code = _code_mask(lines)
    headers = _header_lines(lines, code)
    if not headers:
        return [(0, len(lines), None)]
    category = _first_post_has_category(lines, headers[0][0])
    starts = [0]
    for n, (i, _found) in enumerate(headers[1:], start=1):
        starts.append(_title_start(lines, i, headers[n - 1][0], category=category))
    ends = [*starts[1:], len(lines)]
    return [(s, e, found) for s, e, (_i, found) in zip(starts, ends, headers, strict=True)]


# --- tasks ------------------------------------------------------------------------------


def find_tasks(lines: list[str], offset: int = 0, code: list[bool] | None = None) -> list[NoteTask]:
    """Checkbox items, items under a TODO heading, and ``TODO: ...`` lines.

    ``offset`` is the 0-based index of ``lines[0]`` in the file (for line numbers).
    """
    code = code or [False] * len(lines)
    tasks: list[NoteTask] = []
    taken: set[int] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        if code[i]:
            i += 1
            continue
        if _is_todo_heading(line):
            items, i = _items_under(lines, i + 1, code)
            for k in items:
                text, done = _item_text(lines[k])
                if text:
                    tasks.append(NoteTask(text, done, offset + k + 1))
                    taken.add(k)
            continue
        inline = _TODO_INLINE.match(line)
        if inline and not _CHECKBOX.match(line):
            tasks.append(NoteTask(inline["text"].strip(), False, offset + i + 1))
            taken.add(i)
        i += 1
    for k, line in enumerate(lines):
        if k in taken or code[k]:
            continue
        box = _CHECKBOX.match(line)
        if box:
            tasks.append(NoteTask(box["text"].strip(), box["mark"] != " ", offset + k + 1))
    tasks.sort(key=lambda t: t.line)
    return [_with_markers(t) for t in tasks]


_TASK_MARKER = re.compile(r"\s*(?P<mark>📅|✅|⏳|🛫|➕)\s*(?P<day>\d{4}-\d{2}-\d{2})\s*$")


def _with_markers(task: NoteTask) -> NoteTask:
    """Take Obsidian Tasks' trailing date markers off the text into ``due``/``done_on``."""
    text, due, done_on = task.text, None, None
    while match := _TASK_MARKER.search(text):
        try:
            day = date.fromisoformat(match["day"])
        except ValueError:
            break
        if match["mark"] == "📅":
            due = day
        elif match["mark"] == "✅":
            done_on = day
        text = text[: match.start()].rstrip()
    if not text:
        return task
    return NoteTask(text, task.done or done_on is not None, task.line, due, done_on)


def _items_under(lines: list[str], start: int, code: list[bool]) -> tuple[list[int], int]:
    """Indices of the items after a TODO heading, and the index to continue from.

    With bullets: every list item until the first other line (blank lines
    between items allowed). Without bullets: the lines up to the next blank line.
    """
    k = start
    while k < len(lines) and _is_blank(lines[k]):
        k += 1
    if k >= len(lines) or code[k] or _HEADING.match(lines[k]):
        return [], k
    items: list[int] = []
    if _BULLET.match(lines[k]):
        while k < len(lines):
            if _is_blank(lines[k]):
                k += 1
                continue
            bullet = _BULLET.match(lines[k])
            if bullet is None or code[k] or _SEPARATOR.match(lines[k]):
                break
            items.append(k)
            k += 1
        return items, k
    while k < len(lines) and not _is_blank(lines[k]) and not _HEADING.match(lines[k]):
        if len(lines[k].strip()) <= 100:
            items.append(k)
        k += 1
    return items, k


def _item_text(line: str) -> tuple[str, bool]:
    box = _CHECKBOX.match(line)
    if box:
        return box["text"].strip(), box["mark"] != " "
    bullet = _BULLET.match(line)
    text = bullet["text"] if bullet else line
    return text.strip(), False


# --- definitions ------------------------------------------------------------------------

_STOP_TERMS = {
    "출처", "참고", "참고자료", "참고 자료", "링크", "예", "예시", "예를 들어", "예제", "ex", "eg",
    "e.g", "주의", "note", "노트", "tip", "팁", "source", "sources", "ref", "reference",
    "references", "url", "link", "date", "날짜", "시간", "time", "tags", "tag", "태그", "title",
    "제목", "author", "작성자", "작성일", "category", "카테고리", "todo", "to do", "할 일", "할일",
    "결과", "result", "output", "input", "입력", "출력", "요약", "summary", "느낀점", "느낀 점",
    "느낀것", "회고", "댓글", "comments", "comment", "공감", "http", "https", "q", "a",
    "질문", "답", "정답", "답변", "문제", "created", "updated", "aliases",
}  # fmt: skip
_CLOZE = re.compile(r"\{\{c\d+::")
_QUESTION = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?:Q|질문|문제)(?:\*\*)?\s*[:：]\s*(?P<text>.*)$"
)
_ANSWER = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?:A|답|답변|정답)(?:\*\*)?\s*[:：]\s*(?P<text>.*)$"
)
_DOUBLE_COLON = re.compile(r"^\s*(?:[-*+]\s+)?(?P<term>[^:`]+?)\s*:{2,3}\s*(?P<def>\S.*)$")
_CODE_PATH = re.compile(r"^[A-Za-z_][\w.]*$")
_DEFLIST = re.compile(r"^:\s+(?P<def>\S.*)$")
_WHAT_IS = re.compile(
    r"^\s*(?:[-*+]\s+)?(?P<q>(?P<term>\S.{0,40}?)\s*(?:이란|란)\s*(?:무엇(?:인가|일까)?)?\s*\?"
    r"|(?:what\s+is|what\s+are)\s+(?P<eterm>.{1,40}?)\s*\?)\s*$",
    re.IGNORECASE,
)
_WORD = re.compile(r"^[A-Za-z0-9가-힣][A-Za-z0-9가-힣.+#_/-]*$")
# Last syllables of Korean particles and verb endings: a word ending in one of
# these is part of a sentence, not of a term ("기존의", "원하는", "RNN이나").
_PARTICLE_ENDINGS = set("은는이가을를의에와과도만로서고며면다요한된할인란지게여해던든나랑께")
_PAREN_TERM = re.compile(r"^(?P<term>[^()\n]{1,60}?\s*\([^()\n]{1,60}\))\s+(?P<def>\S.*)$")


def _term_ok(term: str) -> bool:
    term = term.strip()
    if not 2 <= len(term) <= MAX_TERM_CHARS or len(term.split()) > MAX_TERM_WORDS:
        return False
    if not any(ch.isalpha() for ch in term):
        return False
    if term.endswith((".", "!", "?", "。", ",")) or ". " in term or "://" in term:
        return False
    return _plain(term) not in _STOP_TERMS


def _strip_bullet(line: str) -> str:
    bullet = _BULLET.match(line)
    return bullet["text"] if bullet else line.strip()


def _clean_term(term: str) -> str:
    return term.strip().strip("*_`").strip()


def colon_split(line: str) -> tuple[str, str] | None:
    """``term : definition`` -> (term, definition); the definition may be empty.

    The colon is the first one with white space on either side (``K: key``,
    ``GRU :``) that is not part of a URL (``http://``) or a time (``19:22``).
    """
    text = _strip_bullet(line)
    if _HEADING.match(line) or _CLOZE.search(text):
        return None
    for match in re.finditer(r"[:：]", text):
        # Look at the neighbours only: slicing the text at every colon would
        # make a long line of times ("오후 3:00 ...") quadratic.
        i = match.start()
        prev, following = text[i - 1 : i], text[i + 1 : i + 3]
        if following.startswith("//") or (prev.isdigit() and following[:1].isdigit()):
            continue
        if following.startswith((":", "：")) or prev in (":", "："):
            return None  # "::" is the double-colon rule's
        if not (prev == " " or i + 1 == len(text) or following.startswith((" ", "\t"))):
            continue
        term = _clean_term(text[:i])
        return (term, text[i + 1 :].strip()) if _term_ok(term) else None
    return None


def _is_term_word(word: str) -> bool:
    if not _WORD.match(word):
        return False
    last = word[-1]
    return not ("가" <= last <= "힣" and last in _PARTICLE_ENDINGS)


def gloss_split(line: str) -> tuple[str, str] | None:
    """A term followed by its definition without a separator, or None.

    Either a term with a parenthesised gloss (``Neural Turing Machine(NTM) RNN이나 ...``)
    or up to four words before the first word that carries a Korean particle or
    ending (``양방향 LSTM 기존의 lstm 외에 ...``).
    """
    text = _strip_bullet(line)
    paren = _PAREN_TERM.match(text)
    if paren and _term_ok(paren["term"].split("(")[0]) and len(paren["def"]) >= 10:
        return paren["term"].strip(), paren["def"].strip()
    words = text.split()
    n = 0
    while n < len(words) and n < 5 and _is_term_word(words[n]):
        n += 1
    if n == 0 or n > 4 or n == len(words):
        return None
    first_def = words[n]
    if not (_WORD.match(first_def) and any("가" <= ch <= "힣" for ch in first_def)):
        return None
    term, definition = " ".join(words[:n]), " ".join(words[n:])
    return (term, definition) if _term_ok(term) and len(definition) >= 10 else None


def dash_split(line: str) -> tuple[str, str] | None:
    """``Output Gate - 그대로 ...`` -> (term, definition) for a term of up to four plain words."""
    text = _strip_bullet(line)
    match = re.match(r"^(?P<term>[^-]+?)\s+-(?!>)\s*(?P<def>\S.*)$", text)
    if not match:
        return None
    words = match["term"].split()
    if not 1 <= len(words) <= 4 or not all(_is_term_word(w) for w in words):
        return None
    term, definition = match["term"].strip(), match["def"].strip()
    return (term, definition) if _term_ok(term) and len(definition) >= 10 else None


@dataclass
class _Scan:
    lines: list[str]
    offset: int
    code: list[bool]
    skip: set[int]
    found: list[NoteDefinition] = field(default_factory=list)

    def usable(self, k: int) -> bool:
        return 0 <= k < len(self.lines) and not self.code[k] and k not in self.skip

    def add(self, front: str, back: str, rule: str, k: int, kind: str = "basic") -> None:
        self.found.append(
            NoteDefinition(front.strip(), back.strip(), kind, rule, self.offset + k + 1)
        )


def _paragraph_after(scan: _Scan, k: int, max_blanks: int) -> tuple[list[int], str]:
    """The lines of the paragraph that starts after line ``k`` (skipping up to ``max_blanks``)."""
    lines = scan.lines
    j, blanks = k + 1, 0
    while j < len(lines) and _is_blank(lines[j]) and blanks < max_blanks:
        j, blanks = j + 1, blanks + 1
    taken: list[int] = []
    while (
        j < len(lines)
        and scan.usable(j)
        and not _is_blank(lines[j])
        and not _HEADING.match(lines[j])
        and len(taken) < MAX_DEFINITION_LINES
    ):
        if taken and _accepted_colon(lines[j]):
            break
        taken.append(j)
        j += 1
    return taken, "\n".join(lines[t].strip() for t in taken)


def _accepted_colon(line: str) -> bool:
    split = colon_split(line)
    return split is not None and bool(split[1])


def _glossary_items(lines: list[str], code: list[bool]) -> set[int]:
    """First lines of items in a list separated by lone ``-`` lines (a term, then its definition)."""
    firsts: set[int] = set()
    for k, line in enumerate(lines):
        if code[k] or not _SEPARATOR.match(line):
            continue
        j = k + 1
        while j < len(lines) and _is_blank(lines[j]):
            j += 1
        if j < len(lines) and not _SEPARATOR.match(lines[j]) and not code[j]:
            firsts.add(j)
    return firsts


def find_definitions(
    lines: list[str], offset: int = 0, code: list[bool] | None = None, skip: Iterable[int] = ()
) -> list[NoteDefinition]:
    """Definition-style passages (see the module docstring); ``skip`` are task lines."""
    scan = _Scan(lines, offset, code or [False] * len(lines), set(skip))
    glossary = _glossary_items(lines, scan.code)
    k = 0
    while k < len(lines):
        if not scan.usable(k) or _is_blank(lines[k]) or header_date(lines[k]) is not None:
            k += 1
            continue
        k = _definition_at(scan, k, glossary)
    return scan.found


def _definition_at(scan: _Scan, k: int, glossary: set[int]) -> int:
    """Look for a definition starting at line ``k``; return the next line to look at."""
    lines, line = scan.lines, scan.lines[k]
    text = _strip_bullet(line)
    if _CLOZE.search(text):
        scan.add(text, "", "cloze", k, kind="cloze")
        return k + 1
    question = _QUESTION.match(line)
    if question:
        j = k + 1
        asked = [question["text"].strip()]
        while j < len(lines) and j - k <= 6 and scan.usable(j) and not _ANSWER.match(lines[j]):
            if not _is_blank(lines[j]):
                asked.append(lines[j].strip())
            j += 1
        answer = _ANSWER.match(lines[j]) if j < len(lines) and scan.usable(j) else None
        if answer and any(asked):
            taken, rest = _paragraph_after(scan, j, 0)
            back = "\n".join(p for p in (answer["text"].strip(), rest) if p)
            if back:
                scan.add("\n".join(a for a in asked if a), back, "qa", k)
                return (taken[-1] if taken else j) + 1
    double = _DOUBLE_COLON.match(line)
    if double and not (_CODE_PATH.match(double["term"]) and _CODE_PATH.match(double["def"][:1])):
        term = _clean_term(double["term"])
        if term and "`" not in line:
            scan.add(term, double["def"], "double-colon", k)
            return k + 1
    if k + 1 < len(lines) and scan.usable(k + 1) and _DEFLIST.match(lines[k + 1]):
        term = _clean_term(text)
        if _term_ok(term):
            defs, j = [], k + 1
            while j < len(lines) and scan.usable(j) and (m := _DEFLIST.match(lines[j])):
                defs.append(m["def"].strip())
                j += 1
            scan.add(term, "\n".join(defs), "deflist", k)
            return j
    split = colon_split(line)
    if split is not None:
        term, definition = split
        if definition:
            scan.add(term, definition, "colon", k)
            return k + 1
        taken, paragraph = _paragraph_after(scan, k, MAX_LOOKAHEAD_BLANKS)
        if paragraph:
            scan.add(term, paragraph, "colon", k)
            return taken[-1] + 1
        return k + 1
    what = _WHAT_IS.match(line)
    if what:
        taken, paragraph = _paragraph_after(scan, k, 1)
        if paragraph:
            scan.add(what["q"].strip(), paragraph, "question", k)
            return taken[-1] + 1
        return k + 1
    if k in glossary and not _BULLET.match(line):
        gloss = gloss_split(line)
        if gloss is not None:
            term, definition = gloss
            j = k + 1
            more = []
            while j < len(lines) and scan.usable(j) and not _SEPARATOR.match(lines[j]):
                if not _is_blank(lines[j]):
                    more.append(lines[j].strip())
                j += 1
            scan.add(term, "\n".join([definition, *more]), "gloss", k)
            return j
    dash = dash_split(line)
    if dash is not None:
        scan.add(dash[0], dash[1], "dash", k)
    return k + 1


# --- the whole file -------------------------------------------------------------------


def parse_note(
    text: str,
    *,
    calendar: StudyCalendar,
    fallback_day: date,
    fallback_source: str,
    name_day: date | None = None,
) -> list[NotePost]:
    """Split a note into dated posts with their tasks and definitions.

    Args:
        text: the file's text (newlines ``\\n``).
        calendar: study calendar; a header's local time is read in its zone and
            mapped to a study day (a post at 01:30 belongs to the day before).
        fallback_day: the day of a file without any date (``--date`` or the
            file's modification day), with ``fallback_source`` naming which.
        name_day: a date found in the file name, used before the fallback.

    Returns:
        The posts in file order; empty when the file has no text.
    """
    if not text.strip():
        return []
    lines = text.split("\n")
    code = _code_mask(lines)
    matter = front_matter_date(lines)
    posts = []
    for start, end, found in split_posts(lines):
        chunk = lines[start:end]
        body = "\n".join(chunk) + ("\n" if end < len(lines) else "")
        if not body.strip():
            continue
        if found is None and matter is not None:
            found, source = matter, "front-matter"
        elif found is not None:
            source = "header"
        else:
            source = None
        day, moment = _day_of(found, calendar) if found else (None, None)
        if day is None:
            day, source = (name_day, "file-name") if name_day else (fallback_day, fallback_source)
        sub_code = code[start:end]
        tasks = find_tasks(chunk, start, sub_code)
        task_lines = {t.line - start - 1 for t in tasks}
        todo_heads = {k for k, line in enumerate(chunk) if _is_todo_heading(line)}
        definitions = find_definitions(chunk, start, sub_code, task_lines | todo_heads)
        posts.append(NotePost(day, moment, body, start + 1, source or "header", tasks, definitions))
    return posts


def _day_of(found: FoundDate, calendar: StudyCalendar) -> tuple[date, datetime | None]:
    zone: tzinfo = calendar.zone
    aware = to_aware(found, zone)
    if aware is None:
        return found.day, None
    return calendar.day_of(aware), aware.astimezone(UTC)
