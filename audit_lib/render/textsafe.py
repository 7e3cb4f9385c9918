"""Log text shown to people: control characters made visible, bidi overrides neutralised, markdown escaped.

Names, artifacts, file names and details come from log files anyone may have written. Shown raw they can
reorder a line (U+202E), hide characters (zero-width, tab, CR), move a terminal's cursor (ESC, CSI) or, in
markdown, fetch images and make links. These helpers turn such text into something that reads the same as
it is stored: every invisible or reordering character becomes an escape (``\\t``, ``\\u202e``).
"""

from __future__ import annotations

import re

import polars as pl

# characters that change the direction of the text around them
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SHORT = {"\t": "\\t", "\r": "\\r", "\n": "\\n"}
# Cc (C0, DEL, C1), bidi controls and the Unicode line / paragraph separators
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# the above plus every other format character (zero-width space and joiners, BOM, tags, ...) and the two
# noncharacters XML refuses (U+FFFE, U+FFFF)
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2028\u2029"
                        "\ufeff\ufff9-\ufffb\ufffe\uffff\U000e0000-\U000e007f]")
_ASCII_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character may be backslash-escaped
JOINER = "\u2060"  # WORD JOINER: invisible, no line break
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)  # where a joiner goes


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    n = ord(ch)
    return f"\\u{n:04x}" if n <= 0xFFFF else f"\\U{n:08x}"


def escape_controls(text: str, keep: str = "\n") -> str:
    """`text` with control characters, bidi controls and line separators as escapes (``\\t``, ``\\x1b`` as
    ``\\u001b``, ``\\u202e``), except those in `keep`. The escapes are valid JSON escapes too, so JSON text
    stays JSON. For terminals."""
    if text.isascii() and text.isprintable():
        return text
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def _json_escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    n = ord(ch)
    if n <= 0xFFFF:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


def terminal(text: object, keep: str = "") -> str:
    """`text` for a terminal: every control, bidi, line separator and invisible format character (zero-width
    space, BOM, tags, ...) as an escape, except those in `keep`. A field printed this way stays on its line and
    shows what is stored; the escapes are JSON escapes (a tag character as a surrogate pair), so JSON stays JSON."""
    s = "" if text is None else str(text)
    if s.isascii() and s.isprintable():
        return s
    return _INVISIBLE.sub(lambda m: m.group() if m.group() in keep else _json_escape(m.group()), s)


def visible_column(column: str) -> pl.Expr:
    """`visible` over a text column, for small frames (chart data): each distinct value escaped once."""
    col = pl.col(column).cast(pl.String)
    return col.map_batches(_visible_series, return_dtype=pl.String).alias(column)


def _visible_series(s: pl.Series) -> pl.Series:
    risky = s.filter(s.str.contains(_INVISIBLE.pattern)).unique()
    if risky.is_empty():
        return s
    return s.replace(risky, pl.Series([visible(v) for v in risky], dtype=pl.String))


def visible(text: object, keep: str = "") -> str:
    """`text` with every control, bidi and invisible format character (zero-width space, BOM, soft hyphen,
    ...) as an escape, except those in `keep`: what a person sees is what is stored."""
    s = "" if text is None else str(text)
    if s.isascii() and s.isprintable():
        return s
    return _INVISIBLE.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), s)


def md(text: object) -> str:
    """`text` for Streamlit markdown (st.markdown, st.caption, st.info, st.warning, st.error, help=, spinner
    texts): shown literally, never as a link, image, HTML, emphasis, colour directive or formula. Control and
    invisible characters become escapes (see `visible`) and every ASCII punctuation character is
    backslash-escaped. GitHub's markdown also links bare URLs, ``www.`` names and e-mail addresses whatever
    their escapes: an invisible word joiner (U+2060) breaks each of those patterns."""
    s = _AUTOLINK.sub(JOINER, visible(text))
    return _ASCII_PUNCT.sub(r"\\\1", s)

