"""What a report says of the reviews a store keeps: each finding's latest review (or that it has none), and the
review log (per day of findings raised: how many were reviewed and by whom, then every review in scope)."""

from __future__ import annotations

from audit_lib.render.textsafe import visible
from audit_lib.report.context import Context
from audit_lib.report.layout import num, plural
from audit_lib.report.pdf import GREY, ReportPDF


def review_note(ctx: Context, fid: str) -> str:
    r = ctx.reviews.get(fid)
    if not r:
        return " · not reviewed" if ctx.review_store else ""
    comment = f" ({visible(r['comment'])})" if r.get("comment") else ""
    return f" · reviewed {r['time']} by {visible(r['reviewer'])}: {r['disposition']}{comment}"


def review_log(pdf: ReportPDF, ctx: Context) -> None:
    """Per day of first occurrence: findings raised, reviewed, by whom; then every review of a finding in scope."""
    days: dict[str, list] = {}
    for f in ctx.found:
        day = f"{f.first:%Y-%m-%d}" if f.first else "(no time)"
        days.setdefault(day, []).append(f)
    rows = []
    for day, items in sorted(days.items()):
        done = [ctx.reviews[f.id] for f in items if f.id in ctx.reviews]
        who = ", ".join(sorted({visible(r["reviewer"]) for r in done})) or "-"
        rows.append((day, num(len(items)), num(len(done)), who, "yes" if len(done) < len(items) else ""))
    pdf.heading("Review log", 3)
    unreviewed = sum(1 for f in ctx.found if f.id not in ctx.reviews)
    pdf.para(f"{plural(len(ctx.found), 'finding')} in scope, {num(len(ctx.found) - unreviewed)} reviewed, "
             f"{num(unreviewed)} not; days with findings left unreviewed are marked. Reviews are kept in the event "
             "store's chain (append-only; verify checks them).", 8.5, color=GREY)
    if rows:
        pdf.table(["Day", "Findings", "Reviewed", "By", "Unreviewed left"], rows, [30, 22, 22, 150, 30],
                  aligns=["L", "R", "R", "L", "L"], size=7.5)
    done = [(f, ctx.reviews[f.id]) for f in ctx.found if f.id in ctx.reviews]
    if done:
        pdf.table(["Finding", "Rule", "Reviewed", "By", "Disposition", "Comment"],
                  [(f.id, f.rule, r["time"], visible(r["reviewer"]) + ("" if r.get("authenticated") else " (given)"),
                    r["disposition"], visible(r.get("comment") or "")) for f, r in done],
                  [24, 44, 34, 44, 28, 100], max_lines=[1, 2, 1, 2, 1, 3], size=7)
