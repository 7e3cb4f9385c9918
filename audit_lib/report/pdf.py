"""Drawing primitives for the compliance report: an fpdf2 document with the bundled Unicode font, a
"page X of Y" footer and a fast table that wraps long cells at spaces and punctuation and repeats its header.

No character is dropped silently: every text passes through `ReportPDF.clean`, which prints control, bidi and
invisible characters as escapes (``\\t``, ``\\u202e``) and characters the font has no glyph for as
``\\u{FF1D}``, so that ``=1+1``, ``＝1+1`` and a tab before ``=1+1`` print differently.

No word is broken inside a table cell: lines break after a space, a slash, a comma, a semicolon or a bar. A
column whose longest word does not fit takes width from columns that have some to spare; when the words of all
columns do not fit side by side, the other punctuation (``.``, ``_``, ``@``, ``:``, ``=``...) becomes a break
point too, then the table's type shrinks. Only a single word wider than the whole page at the smallest type (a
hash, a base64 blob) is ever cut, and its cut is marked."""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from audit_lib.render.textsafe import visible

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
CHART_FONT = "DejaVu Sans Condensed"  # the same face, under the name the chart renderer is given
ELLIPSIS = "…"
CUT = "↩"  # marks a word cut because nothing else would fit (a line continues on the next)
GREY = (110, 110, 110)
RULE = (200, 200, 200)
HEAD_FILL = (228, 232, 238)
SPAN_FILL = (238, 242, 247)
ZEBRA = (247, 248, 250)
ACCENT = (24, 70, 120)
MIN_SIZE = 5.0  # smallest type a table shrinks to

# Break points: after a space, "/", ",", ";" or "|"
_TOKENS = [
    re.compile(r"[^ /,;|]*[ /,;|]?"),
    # then after any punctuation as well
    re.compile(r"[^ /,;|\-._:=@&?+\\)\]}>]*[ /,;|\-._:=@&?+\\)\]}>]?"),
]


def tokens(text: str, level: int = 0) -> list[str]:
    """`text` as the pieces a line may not break inside, each with the break character that ends it: at `level` 0
    only spaces and a few separators break, from 1 on any punctuation (at 2 a word wider than the line is then cut,
    see `ReportPDF.wrap`)."""
    return [t for t in _TOKENS[min(level, len(_TOKENS) - 1)].findall(text) if t]


@dataclass(frozen=True)
class Span:
    """A table row that spans every column: a group heading (`text`, bold) with an optional `detail` line."""

    text: str
    detail: str = ""


class ReportPDF(FPDF):
    """A4 landscape document with a running header and a "page X of Y" footer on every page."""

    def __init__(self, running_title: str = "", footer_note: str = "") -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSansCondensed.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSansCondensed-Bold.ttf"))
        self.set_margins(12, 14, 12)
        self.set_auto_page_break(True, margin=14)
        self.running_title = running_title
        self.footer_note = footer_note
        self._widths: dict[tuple[str, str], dict[str, float]] = {}
        self._glyphs: dict[tuple[str, str], dict[str, str]] = {}
        self.c_margin = 0
        self.set_font(FONT, "", 9)

    # ------------------------------------------------------------ page furniture

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FONT, "", 7)
        self.set_text_color(*GREY)
        self.set_xy(self.l_margin, 6)
        self.cell(self.epw, 4, self.fit(self.running_title, self.epw), align="L")
        self.set_draw_color(*RULE)
        self.line(self.l_margin, 10.5, self.w - self.r_margin, 10.5)
        self.set_text_color(0, 0, 0)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "", 7)
        self.set_text_color(*GREY)
        half = self.epw / 2
        self.cell(half, 4, self.fit(self.footer_note, half), align="L")
        self.cell(half, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    # ------------------------------------------------------------ text cleaning, measuring and fitting

    def clean(self, text: str, multiline: bool = False) -> str:
        """`text` as it can be printed in the current font: control, bidi and invisible characters as
        escapes (newlines kept when `multiline`), characters without a glyph as ``\\u{1F600}``."""
        s = visible(text, keep="\n" if multiline else "")
        if s.isascii():
            return s
        key = (self.font_family, self.font_style)
        seen = self._glyphs.get(key)
        if seen is None:
            seen = self._glyphs[key] = {}
        cmap = self.current_font.cmap
        out = []
        for ch in s:
            if ch < "\x80":
                out.append(ch)
                continue
            rep = seen.get(ch)
            if rep is None:
                rep = seen[ch] = ch if ord(ch) in cmap else f"\\u{{{ord(ch):X}}}"
            out.append(rep)
        return "".join(out)

    def _char_widths(self) -> dict[str, float]:
        key = (self.font_family, self.font_style)
        table = self._widths.get(key)
        if table is None:
            table = self._widths[key] = {}
        return table

    def _char(self, table: dict[str, float], ch: str) -> float:
        w = table.get(ch)
        if w is None:  # width at a size of 1 user unit
            w = table[ch] = self.get_string_width(ch) / self.font_size
        return w

    def unit_width(self, text: str) -> float:
        """Width of `text` at a type size of 1 mm in the current face (character widths cached per face)."""
        table = self._char_widths()
        total = 0.0
        for ch in text:
            w = table.get(ch)
            total += w if w is not None else self._char(table, ch)
        return total

    def text_width(self, text: str) -> float:
        """Width of `text` in mm at the current font and size."""
        return self.unit_width(text) * self.font_size

    def fit(self, text: str, width: float) -> str:
        """`text` on one line of `width` mm, cut after its last whole word that fits, with an ellipsis."""
        lines = self.wrap(text, width, 1)
        return lines[0]

    def wrap(self, text: str, width: float, max_lines: int, multiline: bool = False, level: int = 0) -> list[str]:
        """`text` broken into at most `max_lines` lines of `width` mm, between the words of `tokens(level)`
        (a word wider than a whole line is cut, the cut marked with CUT); at its newlines when `multiline`,
        else they print as escapes. The last line ends with an ellipsis, after a whole word, when text remains."""
        text = self.clean(text, multiline)
        return self._wrap_clean(text, width / self.font_size, max_lines, level, multiline)

    def _wrap_clean(self, text: str, room: float, max_lines: int, level: int, multiline: bool = False) -> list[str]:
        """`wrap` of text already cleaned, `room` in units of the type size."""
        if not text:
            return [""]
        if "\n" not in text and self.unit_width(text) <= room:
            return [text]
        lines: list[str] = []
        more = False
        for para in (text.split("\n") if multiline else [text]):
            if len(lines) >= max_lines:
                more = True
                break
            cur, used = "", 0.0
            for tok in tokens(para, level):
                w = self.unit_width(tok)
                bare = w - (self.unit_width(" ") if tok.endswith(" ") else 0.0)
                if cur and used + bare > room + 1e-9:
                    lines.append(cur.rstrip(" "))
                    cur, used = "", 0.0
                    if len(lines) >= max_lines:
                        more = True
                        break
                if not cur and bare > room + 1e-9:  # one word wider than the line: cut it, and say so
                    pieces = self._cut(tok, room)
                    for piece in pieces[:-1]:
                        lines.append(piece)
                        if len(lines) >= max_lines:
                            more = True
                            break
                    if more:
                        break
                    tok = pieces[-1]
                    w = self.unit_width(tok)
                cur += tok
                used += w
            if more:
                break
            lines.append(cur.rstrip(" "))
        lines = lines[:max_lines]
        if more:
            lines[-1] = self._ellipsis(lines[-1], room, level)
        return lines or [""]

    def _cut(self, word: str, room: float) -> list[str]:
        """A word wider than `room` as pieces that fit, each but the last ending with CUT."""
        mark = self.unit_width(CUT)
        pieces, cur, used = [], "", 0.0
        for ch in word:
            w = self.unit_width(ch)
            if cur and used + w + mark > room:
                pieces.append(cur + CUT)
                cur, used = "", 0.0
            cur += ch
            used += w
        pieces.append(cur)
        return pieces

    def _ellipsis(self, line: str, room: float, level: int) -> str:
        """`line` shortened to whole words so that an ellipsis fits after it."""
        room -= self.unit_width(ELLIPSIS)
        words = tokens(line, level)
        while len(words) > 1 and self.unit_width("".join(words).rstrip(" ")) > room:
            words.pop()
        out = "".join(words).rstrip(" ")
        while out and self.unit_width(out) > room:  # a single word: cut (only for words wider than any column)
            out = out[:-1]
        return out + ELLIPSIS

    # ------------------------------------------------------------ blocks

    def heading(self, text: str, level: int = 1, keep: float = 0) -> None:
        """A section (1), sub-section (2) or group (3) heading, moved to the next page when it and `keep` mm
        after it would not fit on this one."""
        size = {1: 15, 2: 11.5, 3: 9.5}[level]
        need = {1: 30, 2: 20, 3: 14}[level] + keep
        if self.get_y() + need > self.page_break_trigger:
            self.add_page()
        if level == 1:
            self.start_section(text, level=0)
        elif level == 2:
            self.start_section(text, level=1)
        self.set_font(FONT, "B", size)
        self.set_text_color(*ACCENT) if level < 3 else self.set_text_color(0, 0, 0)
        self.ln(1 if level == 1 else 2)
        for line in self.wrap(text, self.epw, 4):
            self.cell(self.epw, size * 0.5, line, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1.5)
        self.set_font(FONT, "", 9)

    def para(self, text: str, size: float = 9, style: str = "", color: tuple[int, int, int] | None = None) -> None:
        """A paragraph, wrapped between words; its newlines break lines (log text in it must come through
        `visible` first)."""
        self.set_font(FONT, style, size)
        if color:
            self.set_text_color(*color)
        lh = size * 0.45
        for line in self.wrap(text, self.epw, 10_000, multiline=True):
            if self.get_y() + lh > self.page_break_trigger:
                self.add_page()
                self.set_font(FONT, style, size)
                if color:
                    self.set_text_color(*color)
            self.cell(self.epw, lh, line, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def key_values(self, rows: Sequence[tuple[str, str]], key_width: float = 45, size: float = 9) -> None:
        """Label: value lines; values wrap within the page and break at their newlines (log text in them must
        come through `visible` first)."""
        lh = size * 0.47
        for key, value in rows:
            self.set_font(FONT, "", size)
            lines = self.wrap(value, self.epw - key_width, 12, multiline=True)
            if self.get_y() + lh * len(lines) > self.page_break_trigger:
                self.add_page()
            y = self.get_y()
            self.set_font(FONT, "B", size)
            self.set_xy(self.l_margin, y)
            self.cell(key_width, lh, key)
            self.set_font(FONT, "", size)
            for j, line in enumerate(lines):
                self.set_xy(self.l_margin + key_width, y + j * lh)
                self.cell(self.epw - key_width, lh, line)
            self.set_xy(self.l_margin, y + lh * len(lines) + 0.6)

    def put(self, x: float, y: float, w: float, h: float, text: str, align: str = "L") -> None:
        """`text` (already cleaned and fitted) in the box at x, y of w x h mm, placed as `cell` places it: about
        four times faster than `cell`, which matters for tables of thousands of rows."""
        if align == "R":
            x += w - self.text_width(text)
        elif align == "C":
            x += (w - self.text_width(text)) / 2
        self.text(x, y + 0.5 * h + 0.3 * self.font_size, text)

    # ------------------------------------------------------------ tables

    def _need(self, texts: Sequence[str], level: int) -> float:
        """Width (in units of the type size) of the widest word among `texts`."""
        best = 0.0
        seen: set[str] = set()
        space = self.unit_width(" ")
        for text in texts:
            if text in seen:
                continue
            seen.add(text)
            if self.unit_width(text) <= best:  # a text narrower than the widest word found cannot hold a wider one
                continue
            for tok in tokens(text, level):
                w = self.unit_width(tok) - (space if tok.endswith(" ") else 0.0)
                if w > best:
                    best = w
        return best

    def _head_need(self, text: str, level: int, lines: int = 2) -> float:
        """Width (in units of the type size) a column heading needs to take at most `lines` lines."""
        width = max(self._need([text], level), self.unit_width(text) / lines)
        while len(self._wrap_clean(text, width, lines + 1, level)) > lines:
            width += 0.25
        return width

    def solve_widths(self, headers: Sequence[str], columns: Sequence[Sequence[str]], widths: Sequence[float],
                     size: float, pad: float, min_size: float = MIN_SIZE,
                     limits: Sequence[int] | None = None) -> tuple[list[float], float, list[int]]:
        """Column widths (mm), type size and break level per column such that no word of a cell or heading is
        wider than its column (and no one-line cell, `limits` 1, wider than its column): columns whose words do
        not fit take width from columns with room to spare, then punctuation becomes a break point, then the type
        shrinks down to `min_size`."""
        scale = self.epw / sum(widths)
        base = [w * scale for w in widths]
        ncol = len(base)
        limits = list(limits or [2] * ncol)
        levels = [0] * ncol
        needs: list[float] = []  # in units of the type size, without padding
        for c in range(ncol):
            self.set_font(FONT, "B", 1)
            head = self._head_need(headers[c], 0)
            self.set_font(FONT, "", 1)
            if limits[c] == 1:  # one line: the whole text is one word
                cell = max((self.unit_width(t) for t in set(columns[c])), default=0.0)
            else:
                cell = self._need(columns[c], 0)
            needs.append(max(head, cell))

        def total(sz: float) -> float:  # `sz` in points; widths in mm
            return sum(n * sz / self.k + 2 * pad for n in needs)

        # punctuation breaks, widest columns first, until the words fit side by side at this size
        order = sorted(range(ncol), key=lambda c: -needs[c])
        for c in order:
            if total(size) <= self.epw:
                break
            if limits[c] == 1:
                continue
            self.set_font(FONT, "B", 1)
            head = self._head_need(headers[c], 1)
            self.set_font(FONT, "", 1)
            finer = max(head, self._need(columns[c], 1))
            if finer < needs[c]:
                needs[c], levels[c] = finer, 1
        if total(size) > self.epw:  # still too wide: a smaller type
            size = max(min_size, size * (self.epw - 2 * pad * ncol) / (total(size) - 2 * pad * ncol))
        if total(size) > self.epw:  # words wider than the page at the smallest type: those columns may cut words
            for c in order:
                if total(size) <= self.epw:
                    break
                levels[c] = 2
                needs[c] = min(needs[c], (base[c] - 2 * pad) / (size / self.k))
        unit = size / self.k
        need_mm = [n * unit + 2 * pad + 0.2 for n in needs]  # a little over: rounding must not push a word out
        # what each column would like: its longest cell on one line (at most 1.6 times its share), not less than
        # its longest word; the room beyond the words goes to the columns in proportion to what they lack
        self.set_font(FONT, "", 1)
        natural = [max((self.unit_width(t) for t in set(col)), default=0.0) * unit + 2 * pad for col in columns]
        want = [max(need_mm[c], min(natural[c], base[c] * 1.6)) for c in range(ncol)]
        if sum(want) <= self.epw:
            left = self.epw - sum(want)
            hungry = [c for c in range(ncol) if natural[c] > want[c]] or list(range(ncol))
            share = sum(base[c] for c in hungry)
            return [want[c] + (left * base[c] / share if c in hungry else 0.0) for c in range(ncol)], size, levels
        # not room for every column's wish: the columns that lack least for their share get all they want while
        # the room lasts (times, names, paths on one line), the widest texts (details) share what is left
        out = list(need_mm)
        room = self.epw - sum(need_mm)
        order = sorted(range(ncol), key=lambda c: (want[c] - need_mm[c]) / base[c])
        for i, c in enumerate(order):
            extra = want[c] - need_mm[c]
            if extra <= room:
                out[c] += extra
                room -= extra
                continue
            rest = order[i:]
            lacking = sum(want[r] - need_mm[r] for r in rest)
            for r in rest:
                out[r] += room * (want[r] - need_mm[r]) / lacking if lacking else 0.0
            break
        return out, size, levels

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str] | Span], widths: Sequence[float], *,
              aligns: Sequence[str] | None = None, max_lines: Sequence[int] | int = 1, size: float = 7,
              multiline: Sequence[int] = (), min_size: float = MIN_SIZE) -> None:
        """A table whose header repeats on every page it spans. `widths` are relative (scaled to the page
        width, then adjusted so that no word is broken, see `solve_widths`); cell text wraps up to `max_lines`
        lines per column, then ends with an ellipsis. Newlines in cells print as escapes, except in the columns
        in `multiline`, where they break the line. A `Span` row is a group heading across the whole table; it
        is kept on the page of the row that follows it."""
        ncol = len(widths)
        aligns = list(aligns or ["L"] * ncol)
        limits = [max_lines] * ncol if isinstance(max_lines, int) else list(max_lines)
        pad = 1.0
        self.set_font(FONT, "", size)
        cleaned: list[list[str] | Span] = []
        columns: list[list[str]] = [[] for _ in range(ncol)]
        for row in rows:
            if isinstance(row, Span):
                cleaned.append(row)
                continue
            cells = []
            for c, value in enumerate(row):
                text = "" if value is None else self.clean(str(value), c in multiline)
                cells.append(text)
                if text:
                    columns[c].extend(text.split("\n") if c in multiline else [text])
            cleaned.append(cells)
        self.set_font(FONT, "B", size)
        heads = [self.clean(h) for h in headers]
        widths, size, levels = self.solve_widths(heads, columns, widths, size, pad, min_size, limits)
        lh = size * 0.42
        auto = self.auto_page_break
        self.set_auto_page_break(False, margin=self.b_margin)

        def draw_header() -> None:
            self.set_font(FONT, "B", size)
            cells = [self._wrap_clean(h, (w - 2 * pad) / (size / self.k), 3, levels[c]) for c, (h, w) in
                     enumerate(zip(heads, widths, strict=True))]
            h = lh * max(len(c) for c in cells) + 1.6
            y = self.get_y()
            self.set_fill_color(*HEAD_FILL)
            self.rect(self.l_margin, y, self.epw, h, style="F")
            x = self.l_margin
            for lines, w, a in zip(cells, widths, aligns, strict=True):
                for j, line in enumerate(lines):
                    self.set_xy(x + pad, y + 0.8 + j * lh)
                    self.cell(w - 2 * pad, lh, line, align=a)
                x += w
            self.set_xy(self.l_margin, y + h)
            self.set_font(FONT, "", size)
            self.set_draw_color(*RULE)

        def layout(row: list[str] | Span) -> tuple[list[list[str]], float]:
            if isinstance(row, Span):
                self.set_font(FONT, "B", size + 0.5)
                first = self.wrap(row.text, self.epw - 2 * pad, 3)
                self.set_font(FONT, "", size)
                rest = self.wrap(row.detail, self.epw - 2 * pad, 3) if row.detail else []
                return [first, rest], (size + 0.5) * 0.42 * len(first) + lh * len(rest) + 2.0
            unit = size / self.k
            cells = [self._wrap_clean(text, (widths[c] - 2 * pad) / unit, limits[c], levels[c], c in multiline)
                     if text else [""] for c, text in enumerate(row)]
            return cells, lh * max(len(c) for c in cells) + 1.2

        if self.get_y() + 4 * lh + 4 > self.page_break_trigger:
            self.add_page()
        draw_header()
        zebra = 0
        laid = [layout(r) for r in cleaned]
        for n, (row, (cells, h)) in enumerate(zip(cleaned, laid, strict=True)):
            after = laid[n + 1][1] if isinstance(row, Span) and n + 1 < len(laid) else 0.0
            if self.get_y() + h + after > self.page_break_trigger:
                self.add_page()
                draw_header()
            y = self.get_y()
            if isinstance(row, Span):
                self.set_fill_color(*SPAN_FILL)
                self.rect(self.l_margin, y, self.epw, h, style="F")
                self.set_font(FONT, "B", size + 0.5)
                yy = y + 1.0
                for line in cells[0]:
                    self.set_xy(self.l_margin + pad, yy)
                    self.cell(self.epw - 2 * pad, (size + 0.5) * 0.42, line)
                    yy += (size + 0.5) * 0.42
                self.set_font(FONT, "", size)
                self.set_text_color(*GREY)
                for line in cells[1]:
                    self.set_xy(self.l_margin + pad, yy)
                    self.cell(self.epw - 2 * pad, lh, line)
                    yy += lh
                self.set_text_color(0, 0, 0)
                zebra = 0
            else:
                if zebra % 2:
                    self.set_fill_color(*ZEBRA)
                    self.rect(self.l_margin, y, self.epw, h, style="F")
                zebra += 1
                x = self.l_margin
                for c in range(ncol):
                    for j, line in enumerate(cells[c]):
                        if line:
                            self.put(x + pad, y + 0.6 + j * lh, widths[c] - 2 * pad, lh, line, aligns[c])
                    x += widths[c]
            self.line(self.l_margin, y + h, self.l_margin + self.epw, y + h)
            self.set_xy(self.l_margin, y + h)
        self.set_auto_page_break(auto, margin=self.b_margin)
        self.set_font(FONT, "", 9)
        self.ln(3)


@functools.cache
def chart_font_dir() -> str:
    """A folder holding the report's face under the family name CHART_FONT alone, for the chart renderer
    (vl-convert matches fonts by their typographic family, which names the condensed face "DejaVu Sans" like
    the regular one). Made once per process from the bundled fonts, removed when the process ends."""
    from fontTools.ttLib import TTFont

    folder = tempfile.mkdtemp(prefix="audit-report-fonts-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for name in ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"):
        font = TTFont(str(FONT_DIR / name))
        table = font["name"]
        for record in list(table.names):
            if record.nameID in (16, 17):
                table.removeNames(nameID=record.nameID)
        table.setName(CHART_FONT, 1, 3, 1, 0x409)
        font["OS/2"].usWidthClass = 5  # matched for normal-width requests
        font.save(os.path.join(folder, name))
    return folder
