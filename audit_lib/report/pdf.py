"""Drawing primitives for the compliance report: an fpdf2 document with the bundled Unicode font, a
"page X of Y" footer and a fast table that wraps or truncates long cells and repeats its header.

No character is dropped silently: every text passes through `ReportPDF.clean`, which prints control, bidi and
invisible characters as escapes (``\\t``, ``\\u202e``) and characters the font has no glyph for as
``\\u{FF1D}``, so that ``=1+1``, ``＝1+1`` and a tab before ``=1+1`` print differently."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from audit_lib.textsafe import visible

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
ELLIPSIS = "…"
BREAK_AFTER = frozenset(" -/,;")  # a line may end after these characters
GREY = (110, 110, 110)
RULE = (200, 200, 200)
HEAD_FILL = (228, 232, 238)
ZEBRA = (247, 248, 250)
ACCENT = (24, 70, 120)


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

    def text_width(self, text: str) -> float:
        """Width of `text` in mm at the current font and size (character widths cached per font)."""
        table = self._char_widths()
        total = 0.0
        for ch in text:
            w = table.get(ch)
            total += w if w is not None else self._char(table, ch)
        return total * self.font_size

    def fit(self, text: str, width: float, keep_end: bool = False) -> str:
        """`text` on one line of `width` mm, cut with an ellipsis when it is too long (at the start when
        `keep_end`, which keeps a file name and line number readable)."""
        text = self.clean(text)
        if self.text_width(text) <= width:
            return text
        if keep_end:
            return ELLIPSIS + self.fit(text[::-1], width - self.text_width(ELLIPSIS))[::-1].lstrip(ELLIPSIS)
        table = self._char_widths()
        room = width / self.font_size - self._char(table, ELLIPSIS)
        used = 0.0
        for i, ch in enumerate(text):
            used += self._char(table, ch)
            if used > room:
                return text[:i].rstrip() + ELLIPSIS
        return text

    def wrap(self, text: str, width: float, max_lines: int, multiline: bool = False) -> list[str]:
        """`text` broken into at most `max_lines` lines of `width` mm (after a space, "-", "/", "," or ";" where
        possible, else anywhere; at its newlines when `multiline`, else they print as escapes);
        the last line ends with an ellipsis when text remains."""
        text = self.clean(text, multiline)
        table = self._char_widths()
        room = width / self.font_size
        lines: list[str] = []
        truncated = False
        for para in text.split("\n"):
            start, used, last_space = 0, 0.0, -1
            i = 0
            while i < len(para):
                ch = para[i]
                used += self._char(table, ch)
                if ch in BREAK_AFTER:
                    last_space = i
                if used > room and i > start:
                    cut = last_space + 1 if last_space > start else i
                    lines.append(para[start:cut].rstrip())
                    start, used, last_space, i = cut, 0.0, -1, cut
                    if len(lines) >= max_lines:
                        truncated = True
                        break
                    continue
                i += 1
            else:
                if len(lines) >= max_lines:
                    truncated = True
                else:
                    lines.append(para[start:])
            if truncated:
                break
        if truncated:
            last = lines[-1]
            while last and self.text_width(last + ELLIPSIS) > width:
                last = last[:-1]
            lines[-1] = last.rstrip() + ELLIPSIS
        return lines or [""]

    # ------------------------------------------------------------ blocks

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 15, 2: 11.5, 3: 9.5}[level]
        need = {1: 30, 2: 20, 3: 14}[level]
        if self.get_y() + need > self.page_break_trigger:
            self.add_page()
        if level == 1:
            self.start_section(text, level=0)
        elif level == 2:
            self.start_section(text, level=1)
        self.set_font(FONT, "B", size)
        self.set_text_color(*ACCENT) if level < 3 else self.set_text_color(0, 0, 0)
        self.ln(1 if level == 1 else 2)
        self.multi_cell(self.epw, size * 0.5, self.clean(text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1.5)
        self.set_font(FONT, "", 9)

    def para(self, text: str, size: float = 9, style: str = "", color: tuple[int, int, int] | None = None) -> None:
        """A paragraph; its newlines break lines (log text in it must come through `visible` first)."""
        self.set_font(FONT, style, size)
        if color:
            self.set_text_color(*color)
        self.multi_cell(self.epw, size * 0.45, self.clean(text, multiline=True), new_x="LMARGIN", new_y="NEXT")
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

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], *,
              aligns: Sequence[str] | None = None, max_lines: Sequence[int] | int = 1, size: float = 7,
              keep_end: Sequence[int] = (), multiline: Sequence[int] = ()) -> None:
        """A table whose header repeats on every page it spans. `widths` are relative (scaled to the page
        width); cell text wraps up to `max_lines` lines per column, then ends with an ellipsis. One-line cells
        of the columns in `keep_end` lose their start instead of their end. Newlines in cells print as
        escapes, except in the columns in `multiline`, where they break the line."""
        scale = self.epw / sum(widths)
        widths = [w * scale for w in widths]
        ncol = len(widths)
        aligns = list(aligns or ["L"] * ncol)
        limits = [max_lines] * ncol if isinstance(max_lines, int) else list(max_lines)
        lh = size * 0.42
        pad = 1.0
        auto = self.auto_page_break
        self.set_auto_page_break(False, margin=self.b_margin)

        def draw_header() -> None:
            self.set_font(FONT, "B", size - 0.3)
            cells = [self.wrap(h, w - 2 * pad, 2) for h, w in zip(headers, widths, strict=True)]
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

        if self.get_y() + 4 * lh + 4 > self.page_break_trigger:
            self.add_page()
        draw_header()
        self.set_draw_color(*RULE)
        self.set_fill_color(*ZEBRA)
        for n, row in enumerate(rows):
            cells = []
            for c, (value, w, limit) in enumerate(zip(row, widths, limits, strict=True)):
                text = "" if value is None else str(value)
                if limit == 1:
                    cells.append([self.fit(text, w - 2 * pad, c in keep_end)] if text else [""])
                else:
                    cells.append(self.wrap(text, w - 2 * pad, limit, c in multiline))
            h = lh * max(len(c) for c in cells) + 1.2
            if self.get_y() + h > self.page_break_trigger:
                self.add_page()
                draw_header()
                self.set_draw_color(*RULE)
                self.set_fill_color(*ZEBRA)
            y = self.get_y()
            if n % 2:
                self.rect(self.l_margin, y, self.epw, h, style="F")
            x = self.l_margin
            for c in range(ncol):
                for j, line in enumerate(cells[c]):
                    if line:
                        self.set_xy(x + pad, y + 0.6 + j * lh)
                        self.cell(widths[c] - 2 * pad, lh, line, align=aligns[c])
                x += widths[c]
            self.line(self.l_margin, y + h, self.l_margin + self.epw, y + h)
            self.set_xy(self.l_margin, y + h)
        self.set_auto_page_break(auto, margin=self.b_margin)
        self.ln(3)
