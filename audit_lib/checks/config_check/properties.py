"""`java.util.Properties` as Java reads it: logical lines, escapes, keys split at the first separator;
each value keeps the line it came from (`Prop`)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Prop:
    """One property: its key and value (escapes resolved) and where it is written (first and last line)."""

    key: str
    value: str
    line: int
    end: int
    text: str  # the logical line as written, continuation lines joined

    def evidence(self, source: str = "", limit: int = 200) -> str:
        """`file:line: text` (`file:first-last: text` across continuation lines; `line N: text` without a file)."""
        text = self.text if len(self.text) <= limit else self.text[: limit - 1] + "…"
        lines = f"{self.line}" if self.end == self.line else f"{self.line}-{self.end}"
        return f"{source}:{lines}: {text}" if source else f"line{'s' if self.end > self.line else ''} {lines}: {text}"


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_BLANK = " \t\f"


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def _continues(line: str) -> bool:
    """A line ending in an odd number of backslashes continues on the next line."""
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _split_key(logical: str) -> tuple[str, str]:
    i = 0
    while i < len(logical):
        c = logical[i]
        if c == "\\":
            i += 2
            continue
        if c in "=:" or c in _BLANK:
            break
        i += 1
    key, rest = logical[:i], logical[i:].lstrip(_BLANK)
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(_BLANK)
    return _unescape(key), _unescape(rest)


def parse_properties(text: str) -> dict[str, Prop]:
    """The properties of a `.properties` text as `java.util.Properties.load` reads them (comments, blank
    lines, `key = value`, `key:value`, `key value`, backslash continuations, escapes); a repeated key keeps
    its last value. Each Prop remembers its line numbers for evidence."""
    lines = re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))
    props: dict[str, Prop] = {}
    i = 0
    while i < len(lines):
        start = i
        first = lines[i].lstrip(_BLANK)
        i += 1
        if not first or first[0] in "#!":
            continue
        parts, shown = [first], [first.rstrip()]
        while _continues(parts[-1]):
            parts[-1] = parts[-1][:-1]
            shown[-1] = shown[-1][:-1].rstrip()
            if i >= len(lines):
                break
            parts.append(lines[i].lstrip(_BLANK))
            shown.append(parts[-1].rstrip())
            i += 1
        key, value = _split_key("".join(parts))
        props[key] = Prop(key, value.strip(), start + 1, start + len(parts), " ".join(s for s in shown if s))
    return props
