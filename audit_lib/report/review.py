"""What a report says of the reviews a store keeps: each finding's latest review (or that it has none) and its
suppression, the review log (per day of findings raised: how many were reviewed and by whom, then every review in
scope), every suppression in force with who made it, and what fills the reviewer block at the end."""

from __future__ import annotations

from audit_lib.render.textsafe import visible
from audit_lib.report.context import Context
from audit_lib.report.layout import num, plural
from audit_lib.report.pdf import GREY, ReportPDF


def review_note(ctx: Context, fid: str) -> str:
    s = ctx.suppressed.get(fid)
    held = f" · suppressed until {s.scope.until} by {visible(s.reviewer)}" if s is not None else ""
    r = ctx.reviews.get(fid)
    if not r:
        return (" · not reviewed" if ctx.review_store else "") + held
    comment = f" ({visible(r['comment'])})" if r.get("comment") else ""
    return f" · reviewed {r['time']} by {visible(r['reviewer'])}: {r['disposition']}{comment}" + held


def reviewer_block(ctx: Context) -> dict[str, str]:
    """What the reviewer block's lines are filled with from the reviews of the findings in scope: who reviewed
    them (how many each, and whether the name was proven by a sign-in) and when; empty without any review."""
    done = [ctx.reviews[f.id] for f in ctx.found if f.id in ctx.reviews]
    if not done:
        return {}
    by: dict[str, list[dict]] = {}
    for r in done:
        by.setdefault(r["reviewer"], []).append(r)
    names = "; ".join(f"{visible(name)} ({plural(len(rs), 'finding')}"
                      f"{'' if all(x['authenticated'] for x in rs) else ', name given'})"
                      for name, rs in sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0])))
    times = sorted(r["time"] for r in done)
    when = times[0][:10] if times[0][:10] == times[-1][:10] else f"{times[0][:10]} to {times[-1][:10]}"
    return {"Reviewed by": names, "Date": f"{when} ({plural(len(done), 'finding')} of "
                                          f"{num(len(ctx.found))} reviewed)"}


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
    suppression_list(pdf, ctx)


def suppression_list(pdf: ReportPDF, ctx: Context) -> None:
    """Every suppression in force, with who made it and how many findings in scope it covers."""
    pdf.heading("Suppressions", 3)
    held = sum(1 for f in ctx.found if f.id in ctx.suppressed)
    if not ctx.suppressions:
        pdf.para("No suppression is in force: every finding is counted and reviewed on its own.", 8.5, color=GREY)
        return
    pdf.para(f"{plural(len(ctx.suppressions), 'suppression')} in force (an 'expected' review covering later "
             f"findings of its rule in a scope, up to a date); {plural(held, 'finding')} in scope "
             "suppressed. Suppressed findings are still counted and listed in this report.", 8.5, color=GREY)
    covered: dict[int, int] = {}
    for s in ctx.suppressed.values():
        covered[id(s)] = covered.get(id(s), 0) + 1
    pdf.table(["Made", "By", "Scope", "Review of", "Covers", "Comment"],
              [(s.time, visible(s.reviewer) + ("" if s.authenticated else " (given)"), visible(s.scope.describe()),
                s.finding, num(covered.get(id(s), 0)), visible(s.comment or "")) for s in ctx.suppressions],
              [34, 40, 80, 24, 16, 80], aligns=["L", "L", "L", "L", "R", "L"], max_lines=[1, 2, 3, 1, 1, 3], size=7)
