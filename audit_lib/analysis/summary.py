"""The totals and breakdowns of a loaded log (`summary --json`), and what is known to be missing from it.

`summary(log)` counts a loaded log; `summarise(source, tz)` gives the same figures for files without ever holding
their events: each batch is counted as it is parsed (counts per file, user and product, type, action; first and
last time per file; the lines' zone clues) and dropped. What needs the whole set is kept small until the end:
a file whose text equals an earlier one's is known only once both are read, so the counts are kept per file and
the duplicates' taken out at the end; a time repeated by a clock change is placed by the order of its file's
other repeated times, so those few events are kept until then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from audit_lib.events.actors import actors
from audit_lib.events.vocabulary import UNKNOWN
from audit_lib.events.zones import add_clue_counts, clue_counts, clues_of, has_clue, zone_clues
from audit_lib.intake.discover import discover
from audit_lib.intake.entries import Entry, Limits, Skipped, Source
from audit_lib.intake.formats import Formats
from audit_lib.intake.loader import (
    AuditLog,
    check_tz,
    file_times,
    files_found,
    manifest,
    parsed_batches,
    with_times,
)
from audit_lib.intake.parse import Parsed
from audit_lib.intake.reading import FileFacts
from audit_lib.intake.times import localise

CLUE_ROWS = 100_000  # events with a clue held before they are counted (a few MB)
BATCH = 6 << 20  # bytes of text a pass: 6 MB keeps the peak RSS under 300 MB on 2M sign-in lines


def summary(log: AuditLog) -> dict:
    """Totals and breakdowns of a loaded log, as plain JSON-ready values."""
    ev = log.events

    def counts(column: str) -> dict[str, int]:
        return _ranked(ev.group_by(column).len(), column)

    first, last = (ev["timestamp"].min(), ev["timestamp"].max()) if ev.height else (None, None)
    return {
        "events": ev.height,
        "rejects": log.rejects.height,
        **_files_part(log.files, log.skipped, log.complete),
        "ambiguous_times": int(ev["time_ambiguous"].sum()) if ev.height else 0,
        "zone_clues": zone_clues(ev, log.tz).to_dicts(),  # where the lines name another zone than log.tz
        "by_user": counts("user"),
        "by_actor": counts("actor"),
        "by_type": counts("artifact_type"),
        "by_action": counts("action"),
        "by_node": counts("node"),
        "first": first.isoformat() if first else None,
        "last": last.isoformat() if last else None,
        "tz": log.tz,
    }


def _ranked(agg: pl.DataFrame, column: str) -> dict[str, int]:
    """Counts (`len`) by `column`, most first, ties by name."""
    agg = agg.sort(["len", column], descending=[True, False])
    return {UNKNOWN if k is None else str(k): int(n) for k, n in agg.select(column, "len").iter_rows()}


def _files_part(files: pl.DataFrame, skipped: list, complete: bool) -> dict:
    return {
        "files": files.height,
        "duplicate_files": int(files["duplicate_of"].is_not_null().sum()),
        "files_with_errors": int(files["error"].is_not_null().sum()),
        "complete": complete,
        "problems": _problems(files, skipped),
        "skipped": [{"name": str(getattr(k, "name", k)), "reason": str(getattr(k, "reason", "")),
                     "unread": bool(getattr(k, "unread", False))} for k in skipped],
    }


def problems(log: AuditLog) -> list[dict]:
    """Files read only in part (damage, a cap) or with an error, and files named as audit logs that could not be
    read at all (`Skipped.unread`: not a log inside, unreadable, refused): what is known to be missing."""
    return _problems(log.files, log.skipped)


def _problems(files: pl.DataFrame, skipped: list) -> list[dict]:
    bad = files.filter(pl.col("error").is_not_null() | ~pl.col("complete"))
    out = [{"source": src, "complete": done, "error": err, "lines_read": n}
           for src, done, err, n in bad.select("source", "complete", "error", "lines").iter_rows()]
    return out + [{"source": k.name, "complete": False, "error": f"not read: {k.reason}", "lines_read": 0}
                  for k in skipped if getattr(k, "unread", False)]


# --- counting files as they are parsed --------------------------------------------------------------------------
def summarise(source: Source, tz: str = "UTC", *, formats: Formats | None = None, workers: int | None = None,
              limits: Limits | None = None, roots: list[Path] | None = None, label: str | None = None) -> dict:
    """`summary(load(source, tz, ...))`, counted batch by batch as the files are parsed: memory holds a few
    batches and the counts, whatever the size of the input. Raises what `load` raises."""
    check_tz(tz)
    limits = limits or Limits()
    entries, skipped = discover(source, roots=roots, limits=limits, label=label)
    return summarise_entries(entries, tz, skipped=skipped, formats=formats, workers=workers, limits=limits)


def summarise_entries(entries: list[Entry], tz: str = "UTC", *, skipped: list[Skipped] | None = None,
                      formats: Formats | None = None, workers: int | None = None,
                      limits: Limits | None = None) -> dict:
    """`summarise` of files already found (see `audit_lib.intake.discover.discover`)."""
    check_tz(tz)
    facts = [FileFacts() for _ in entries]
    tally = _Tally(tz)
    # no artifact is counted; each batch is counted in the thread that parsed it, the main thread only adds up
    for counted in parsed_batches(entries, facts, formats=formats, workers=workers, limits=limits, counting=True,
                                  tz=tz, batch=BATCH, keep=lambda parsed: _counted(parsed, tz)):
        tally.add(counted)
    skipped, dup_of = files_found(entries, facts, skipped)
    return tally.result(entries, facts, skipped, dup_of)


_KINDS = ["fid", "user", "product", "artifact_type", "action"]


@dataclass
class _Counted:
    """The counts of one parsed batch, and the few events that need the whole set to be counted."""

    kinds: pl.DataFrame  # fid, user, product, artifact_type, action, len
    times: pl.DataFrame  # fid, events, first, last (clear times only)
    ambiguous: pl.DataFrame  # fid, line, wall, details of repeated times
    clues: pl.DataFrame  # clue_counts with node and source = the fid (no columns when none were counted here)
    clue_rows: pl.DataFrame  # fid, line, timestamp, details of events with a clue not counted yet
    rejects: pl.Series  # fid of each reject
    counts: pl.DataFrame  # fid, attached, blank


def _counted(parsed: Parsed, tz: str) -> _Counted:
    ev = parsed.events  # each row `n` events, from `wall` to `wall_last` (see `parse_batch`'s counting)
    earliest, _, ambiguous = localise(ev["wall"], tz)
    gathered = bool(ev["n"].max() > 1) if ev.height else False  # then the times are steady: nothing ambiguous
    latest = localise(ev["wall_last"], tz)[0] if gathered else earliest
    ev = ev.select("fid", "line", "wall", "n", *_KINDS[1:], "details", timestamp=earliest, _last=latest,
                   _amb=ambiguous)
    clear = pl.col("_amb").not_()
    times = ev.group_by("fid").agg(events=pl.col("n").sum().cast(pl.UInt32),
                                   first=pl.col("timestamp").filter(clear).min(),
                                   last=pl.col("_last").filter(clear).max())
    # events with a clue (rows of their own, n = 1): counted here when many, else handed on to be counted with
    # other batches' (a count costs a few ms whatever it counts), their details copied out of the batch's text
    clued = ev.filter(clear & has_clue(pl.col("details")))
    if clued.height >= CLUE_ROWS // 10:
        clues, clue_rows = _clues(clued, tz), clued.clear().select("fid", "line", "timestamp", "details")
    else:
        clues = pl.DataFrame()  # none counted here
        clue_rows = clued.select("fid", "line", "timestamp", details=pl.concat_str([pl.col("details"), pl.lit("")]))
    # details copied out of the batch's text, which can then be freed
    amb = ev.filter("_amb").select("fid", "line", "wall", details=pl.concat_str([pl.col("details"), pl.lit("")]))
    kinds = ev.group_by(_KINDS).agg(len=pl.col("n").sum().cast(pl.UInt32))
    return _Counted(kinds, times, amb, clues, clue_rows, parsed.rejects["fid"], parsed.counts)


@dataclass
class _Tally:
    """The counts of the batches parsed so far, per file (`fid`)."""

    tz: str
    kinds: list[pl.DataFrame] = field(default_factory=list)  # fid, user, product, artifact_type, action, len
    times: list[pl.DataFrame] = field(default_factory=list)  # fid, events, first, last (clear times only)
    clues: list[pl.DataFrame] = field(default_factory=list)  # clue_counts with node and source = the fid
    clue_rows: list[pl.DataFrame] = field(default_factory=list)  # events with a clue, not counted yet
    ambiguous: list[pl.DataFrame] = field(default_factory=list)  # fid, line, wall, details of repeated times
    rejects: list[pl.Series] = field(default_factory=list)  # fid of each reject
    counts: list[pl.DataFrame] = field(default_factory=list)  # fid, attached, blank

    def add(self, c: _Counted) -> None:
        self.rejects.append(c.rejects)
        self.counts.append(c.counts)
        if c.times.height == 0:
            return
        self.kinds.append(c.kinds)
        self.times.append(c.times)
        if c.ambiguous.height:
            self.ambiguous.append(c.ambiguous)
        if c.clues.height:
            self.clues.append(c.clues)
        if c.clue_rows.height:
            self.clue_rows.append(c.clue_rows)
            if sum(len(r) for r in self.clue_rows) >= CLUE_ROWS:
                self._count_clues()
        self._compact()

    def _count_clues(self) -> None:
        if self.clue_rows:
            self.clues.append(_clues(pl.concat(self.clue_rows), self.tz))
            self.clue_rows = []

    def _compact(self) -> None:
        """Sum the per-batch counts now and then, so that they stay as small as the distinct keys."""
        if len(self.kinds) >= 16:
            self.kinds = [pl.concat(self.kinds).group_by(_KINDS).agg(pl.col("len").sum())]
        if len(self.clues) >= 16:
            self.clues = [add_clue_counts(self.clues)]
        if len(self.times) >= 16:
            self.times = [pl.concat(self.times).group_by("fid").agg(
                pl.col("events").sum(), pl.col("first").min(), pl.col("last").max())]

    def result(self, entries: list[Entry], facts: list[FileFacts], skipped: list[Skipped],
               dup_of: dict[int, str]) -> dict:
        self._count_clues()
        fid = pl.col("fid")
        kept = ~fid.is_in(pl.Series(list(dup_of), dtype=pl.UInt32).implode())
        names = pl.DataFrame({"fid": pl.Series(range(len(entries)), dtype=pl.UInt32),
                              "source": [e.source for e in entries], "node": [e.node for e in entries]})
        stamp = pl.Datetime("ms", self.tz)
        times = pl.concat(self.times) if self.times else pl.DataFrame(
            schema={"fid": pl.UInt32, "events": pl.UInt32, "first": stamp, "last": stamp})
        amb = self._placed(names)
        if amb.height:
            times = pl.concat([times, amb.group_by("fid").agg(
                events=pl.lit(0, pl.UInt32), first=pl.col("timestamp").min(), last=pl.col("timestamp").max())],
                how="vertical_relaxed")
        times = times.filter(kept).group_by("fid").agg(pl.col("events").sum(), pl.col("first").min(),
                                                       pl.col("last").max())
        rej = pl.DataFrame({"fid": pl.concat(self.rejects) if self.rejects else pl.Series([], dtype=pl.UInt32)})
        files = manifest(entries, facts, dup_of, self.counts, rej, self.tz)
        per = times.join(names, on="fid").select("source", "events", "first", "last")
        files = file_times(files, per, self.tz)
        complete = not any(getattr(s, "unread", False) for s in skipped) and (
            bool(files["complete"].all()) if files.height else True)
        kinds = _summed(self.kinds, _KINDS, kept, pl.String)
        people = kinds.group_by("user", "product").agg(pl.col("len").sum())
        by_actor = actors(people.select("user", "product")).with_columns(len=people["len"]).group_by("actor").agg(
            pl.col("len").sum())
        by_node = times.join(names, on="fid").group_by("node").agg(len=pl.col("events").sum())
        first, last = (times["first"].min(), times["last"].max()) if times.height else (None, None)
        return {
            "events": int(times["events"].sum()) if times.height else 0,
            "rejects": int(rej.filter(kept).height),
            **_files_part(files, skipped, complete),
            "ambiguous_times": int(amb.filter(kept)["time_ambiguous"].sum()) if amb.height else 0,
            "zone_clues": self._zone_clues(names, kept, amb),
            "by_user": _ranked(people.group_by("user").agg(pl.col("len").sum()), "user"),
            "by_actor": _ranked(by_actor, "actor"),
            "by_type": _ranked(kinds.group_by("artifact_type").agg(pl.col("len").sum()), "artifact_type"),
            "by_action": _ranked(kinds.group_by("action").agg(pl.col("len").sum()), "action"),
            "by_node": _ranked(by_node, "node"),
            "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None,
            "tz": self.tz,
        }

    def _placed(self, names: pl.DataFrame) -> pl.DataFrame:
        """The events at repeated times, placed as the loader places them (by their file's other repeated
        times: `with_times` looks at no other event)."""
        if not self.ambiguous:
            return pl.DataFrame(schema={"fid": pl.UInt32, "line": pl.UInt32, "details": pl.String,
                                        "timestamp": pl.Datetime("ms", self.tz), "time_ambiguous": pl.Boolean})
        amb = pl.concat(self.ambiguous).join(names.select("fid", "source"), on="fid")
        return with_times(amb, self.tz).select("fid", "line", "details", "timestamp", "time_ambiguous")

    def _zone_clues(self, names: pl.DataFrame, kept: pl.Expr, amb: pl.DataFrame) -> list[dict]:
        """The batches' zone clue counts (per file) added up, their files named, read as `zone_clues` reads them."""
        parts = [*self.clues, _clues(amb, self.tz)] if amb.height else self.clues
        parts = [p for p in parts if p.height]
        if not parts:
            return []
        counts = add_clue_counts(parts).rename({"node": "fid"}).drop("source").filter(kept)
        counts = counts.join(names, on="fid").drop("fid")
        return clues_of(counts, self.tz).to_dicts()


def _clues(ev: pl.DataFrame, tz: str) -> pl.DataFrame:
    """`clue_counts` of some events, per file: their node and source stand for their fid."""
    fid = pl.col("fid")
    return clue_counts(ev.select(fid.alias("node"), fid.alias("source"), "line", "timestamp", "details"), tz)


def _summed(parts: list[pl.DataFrame], keys: list[str], kept: pl.Expr, text: type) -> pl.DataFrame:
    """The per-batch counts of the files kept, summed by `keys`."""
    if not parts:
        return pl.DataFrame(schema={**{k: pl.UInt32 if k == "fid" else text for k in keys}, "len": pl.UInt32})
    return pl.concat(parts).filter(kept).group_by(keys).agg(pl.col("len").sum())
