"""The evidence compared with the previous period, as pages of the report (the data: `audit_lib.report.evidence`)."""

from __future__ import annotations

import polars as pl

from audit_lib.render.textsafe import visible
from audit_lib.report.context import Context
from audit_lib.report.evidence import DROP, PeriodComparison
from audit_lib.report.layout import paths_note, plural, text_rows
from audit_lib.report.pdf import GREY, ReportPDF, Span

MAX_LISTED = 400  # rows of a list printed (the JSON holds all)


def comparison_pages(pdf: ReportPDF, ctx: Context) -> None:
    c: PeriodComparison = ctx.comparison
    pdf.add_page()
    pdf.heading("Compared with the previous period", 2)
    how = "as given" if c.explicit else f"the {plural(c.previous.days, 'day')} right before"
    scope = f" Nodes compared: {', '.join(visible(n) for n in c.nodes)}." if c.nodes else ""
    pdf.para(f"This period: {c.period.text()} ({plural(c.period.days, 'day')}, {c.tz}). Previous period: "
             f"{c.previous.text()} ({how}). Files covering them: {c.manifest.height:,} now, "
             f"{c.previous_manifest.height:,} before.{scope} Counts are compared per day of each period: fewer files "
             f"or fewer days covered by a file is flagged, fewer events when they fell by {DROP:.0%} or more.", 9)
    if c.flags:
        pdf.para("FLAGGED:\n" + "\n".join(f"- {visible(f)}" for f in c.flags), 9, "B")
    elif c.before_records:
        pdf.para(f"No flag, and {c.verdict()}: this is the first period of the record.", 9, "B")
    else:
        pdf.para("No flag: every node kept its files, days covered and events"
                 + (", the recorded files are unchanged at the source" if c.sources_checked else "")
                 + (" and the store's chain links" if c.store is not None else "") + ".", 9, "B")

    pdf.heading("Per node, now and before", 3)
    if c.per_node.is_empty():
        pdf.para("No node has a file or an event in either period.", 9)
    else:
        pdf.table(["Node", "Files now", "Files before", "Events now", "Events before", "Days covered now",
                   "Days covered before", "Flag"],
                  text_rows(c.per_node, ["node", "files_now", "files_before", "events_now", "events_before",
                                          "days_now", "days_before", "flag"]),
                  [40, 14, 14, 18, 18, 16, 16, 90], aligns=["L", "R", "R", "R", "R", "R", "R", "L"],
                  max_lines=[4, 1, 1, 1, 1, 1, 1, 4], size=7.5)

    pdf.heading("Nodes that went silent", 3)
    silent = c.silent
    if silent.is_empty():
        pdf.para("None: every node with a file in the previous period has one in this period.", 9)
    else:
        nodes = silent["node"].unique().sort().to_list()
        pdf.para(f"{plural(len(nodes), 'node')} with files in the previous period and none in this one: "
                 f"{', '.join(visible(n) for n in nodes)}. Their files of the previous period"
                 + (f" (the first {MAX_LISTED})" if silent.height > MAX_LISTED else "") + ":", 9)
        paths_note(pdf, ctx)
        head, cols = ["Source", "Bytes", "SHA-256", "Lines", "Events", "First", "Last"], \
            ["shown", "bytes", "sha256", "lines", "events", "first", "last"]
        widths, lines, aligns = [70, 12, 72, 10, 10, 22, 22], [8, 1, 1, 1, 1, 1, 1], list("LRLRRLL")
        if c.store is not None:
            head, cols, widths, lines, aligns = [*head, "Entries"], [*cols, "entries"], [*widths, 12], [*lines, 4], \
                [*aligns, "L"]
        pdf.table(head, _by_node(ctx, silent.head(MAX_LISTED), cols, "file"), widths, aligns=aligns,
                  max_lines=lines, size=6.2)

    pdf.heading("Recorded files missing or altered at the source", 3)
    if c.store is None:
        pdf.para("Not applicable: the files were read directly, not from an event store, so nothing recorded "
                 "earlier stands to be checked.", 9, color=GREY)
    elif not c.sources_checked:
        pdf.para("Not checked: give the folders the store was ingested from (report --store DIR --sources PATH...) "
                 "to check every recorded file of both periods there.", 9, color=GREY)
    else:
        p = c.source_problems
        other = (f" {plural(c.other_source_problems, 'recorded file')} of other periods "
                 f"{'is' if c.other_source_problems == 1 else 'are'} missing or altered too (python -m audit_lib "
                 "verify lists them).") if c.other_source_problems else ""
        if p.is_empty():
            pdf.para(f"None: every recorded file of both periods is still at the source with the bytes ingested "
                     f"(moved or rotated files are found by their content).{other}", 9)
        else:
            pdf.para(f"{plural(p.height, 'recorded file')} of these periods {'is' if p.height == 1 else 'are'} "
                     f"missing or altered at the source.{other}", 9, "B")
            paths_note(pdf, ctx)
            pdf.table(["Source", "Period", "SHA-256 recorded", "Problem"],
                      _by_node(ctx, p.head(MAX_LISTED), ["shown", "period", "sha256", "detail"], "file"),
                      [70, 16, 72, 80], max_lines=[8, 2, 1, 6], size=6.5)
        for prob in c.store_problems:
            pdf.para(f"The store: {visible(prob['what'])}: {visible(prob['detail'])}", 8.5, "B")

    if c.store is None:
        return
    pdf.heading("Chain entries that brought this period's files in", 3)
    head = c.head or {}
    state = ("The hashes of all its entries link (each matches its text and carries the hash of the entry before "
             "it), checked now." if c.chain_intact else
             "BROKEN: the hashes of its entries do not link; run python -m audit_lib verify.")
    pdf.para(f"The store stands at entry {head.get('seq', 0):,}, head hash {head.get('hash', '')}. {state} "
             "A head hash kept elsewhere proves this history with verify --anchor HASH.", 9)
    if c.chain.is_empty():
        pdf.para("No chain entry names a file of this period.", 9)
    else:
        pdf.table(["Entry", "Ingested at (UTC)", "Entry hash", "Files", "Events added", "What it saw"],
                  text_rows(c.chain.with_columns(pl.col("time").str.replace("T", " ").str.replace(r"\+00:00$", "")),
                             ["seq", "time", "hash", "files", "events", "kinds"]),
                  [12, 28, 72, 12, 16, 50], aligns=["R", "L", "L", "R", "R", "L"], max_lines=[1, 1, 1, 1, 1, 3],
                  size=7)


def _by_node(ctx: Context, df: pl.DataFrame, cols: list[str], what: str) -> list:
    """Table rows of `df` under a heading row per node (a node's name can be as long as a line)."""
    rows: list = []
    for (node,), part in df.with_columns(ctx.rel().alias("shown")).group_by("node", maintain_order=True):
        rows.append(Span(f"Node {visible(node)}", plural(part.height, what)))
        rows += text_rows(part, cols)
    return rows
