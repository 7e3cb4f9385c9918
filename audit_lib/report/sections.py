"""The sections of a report, in the order `render` prints them: cover, activity, who and what, findings, sensitive
actions, sign-ins, privileged actors and sessions, evidence, appendix and review."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from audit_lib.analysis import compliance, metrics
from audit_lib.analysis.filters import known_nodes
from audit_lib.analysis.sessions import change_expr
from audit_lib.checks.finding import Finding
from audit_lib.checks.rule import SEVERITIES
from audit_lib.events.actors import shown as actor_shown
from audit_lib.events.zones import extreme
from audit_lib.render import charts
from audit_lib.render.export import sha256_hex
from audit_lib.render.textsafe import visible
from audit_lib.report.context import Context
from audit_lib.report.evidence_pdf import comparison_pages
from audit_lib.report.layout import (
    count_table,
    draw_chart,
    event_rows,
    event_table,
    figure_grid,
    num,
    paths_note,
    plural,
    stamp,
    text_rows,
)
from audit_lib.report.pdf import GREY, ReportPDF, Span
from audit_lib.report.review import review_log, review_note, reviewer_block
from audit_lib.version import __version__

MAX_GAPS = 400


def render(ctx: Context) -> bytes:
    scope = visible(ctx.filters.describe(ctx.tz))  # names users: log text, printed with its escapes
    pdf = ReportPDF(running_title=f"{ctx.title} · {scope}",
                    footer_note=f"Generated {ctx.generated_at:%Y-%m-%d %H:%M %Z} · audit_lib {__version__}")
    pdf.set_title(ctx.title)
    pdf.set_subject(scope)
    pdf.set_creator(f"audit_lib {__version__}")
    pdf.set_creation_date(ctx.generated_at)
    _cover(pdf, ctx, scope)
    if ctx.edition == "full":
        _activity(pdf, ctx)
        _who_and_what(pdf, ctx)
    _findings_summary(pdf, ctx)
    _findings_detail(pdf, ctx)
    _sensitive(pdf, ctx)
    if ctx.edition == "full":
        _sign_ins(pdf, ctx)
    _privileged(pdf, ctx)
    _evidence(pdf, ctx)
    if ctx.appendix:
        _appendix(pdf, ctx)
    _review(pdf, ctx)
    return bytes(pdf.output())


def _cover(pdf: ReportPDF, ctx: Context, scope: str) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 22)
    pdf.ln(4)
    pdf.cell(pdf.epw, 11, pdf.fit(ctx.title, pdf.epw), new_x="LMARGIN", new_y="NEXT")
    edition = ("privileged activity edition: findings, sensitive actions and the sessions of privileged actors"
               if ctx.edition == "privileged" else "full edition: activity, findings, sensitive actions, sign-ins, "
               "sessions and every event in scope")
    pdf.para(f"WSO2 Micro Integrator, API Manager and Identity Server audit logs · {edition}", size=10, color=GREY)
    pdf.ln(1)
    ev, files = ctx.events, ctx.log.files
    first, last = extreme(ev["timestamp"], "min"), extreme(ev["timestamp"], "max")
    errors = int(ctx.covering["error"].is_not_null().sum())
    dups = int(ctx.covering["duplicate_of"].is_not_null().sum())
    s = ctx.settings
    work = (f"{s.work_start:%H:%M}-{s.work_end:%H:%M} on "
            + ", ".join(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d - 1] for d in s.work_days)
            + (f"; {len(s.holidays)} holiday(s)" if s.holidays else "")
            + f"; sessions end after {int(s.session_timeout.total_seconds() // 60)} quiet minutes")
    how = ("as given" if ctx.privileged_given else "those who performed an action of a privileged category "
           "(accounts, roles, permissions, passwords, log levels) that was not refused")
    rows = [
        ("Scope", scope),
        ("Events in scope", f"{ev.height:,}" + (f" from {stamp(first)} to {stamp(last)} ({ctx.tz})" if ev.height
                                                else " (no events in scope)")),
        ("Sources", "\n".join(visible(s) for s in ctx.sources[:8])
         + (f"\n... and {len(ctx.sources) - 8} more" if len(ctx.sources) > 8 else "")),
        ("Files", f"{ctx.covering.height:,} of the {files.height:,} files read cover the scope ({dups} duplicate, "
                  f"{errors} with read errors); {plural(ctx.log.rejects.height, 'line')} rejected in all"),
        ("Companion CSV", f"every event in scope ({ev.height:,} rows), SHA-256 {ctx.csv_sha}"),
        ("Findings file", f"every finding with its events as JSON Lines ({len(ctx.found):,} findings), "
                          f"SHA-256 {ctx.findings_sha}"),
        ("This PDF", "its own SHA-256 is written beside it, in a .sha256 file (sha256sum -c checks it)"),
        *_comparison_cover(ctx),
        ("Privileged actors", _people_text(ctx) + f", {how}"),
        ("Working time", work),
        ("Generated", f"{ctx.generated_at.isoformat()} by audit_lib {__version__}"),
    ]
    pdf.key_values(rows, key_width=34, size=8.5)
    pdf.ln(2)
    by = {sev: sum(1 for f in ctx.found if f.severity == sev) for sev in SEVERITIES}
    sens = ctx.sensitive
    figure_grid(pdf, [("High findings", num(by["high"])), ("Medium findings", num(by["medium"])),
                       ("Low / info findings", num(by["low"] + by["info"])), ("Sensitive actions", num(sens.height)),
                       ("of which failed", num((sens["outcome"] == compliance.FAILED).sum() if sens.height else 0)),
                       ("Privileged people", num(len(ctx.privileged_people)))])
    pdf.heading("Contents", 3)
    pdf.para("\n".join(ctx.sections), size=8.5)
    if ev.is_empty():
        pdf.para("There are no events in this scope: the report states the scope and the evidence only.", 10, "B")


def _every(events: pl.DataFrame) -> str:
    """The bucket width of the activity chart: by hour up to 3 days, by day up to 120, else by week."""
    span = events.select((pl.col("timestamp").max() - pl.col("timestamp").min()).dt.total_seconds()).item()
    wanted = "1h" if span <= 3 * 86400 else "1d" if span <= 120 * 86400 else "1w"
    return metrics.bucket_every(events, wanted)


def _activity(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Activity"))
    k = metrics.key_figures(ctx.events, ctx.log.files, ctx.log.rejects)
    figure_grid(pdf, [("Events", num(k["events"])), ("Users", num(k["users"])),
                       ("Artifact types", num(k["artifact_types"])), ("Artifacts", num(k["artifacts"])),
                       ("Nodes", num(k["nodes"])), ("Span", metrics.format_span(k["span"])),
                       ("Sign-ins", num(k["sign_ins"])), ("Failed sign-ins", num(k["failed_sign_ins"])),
                       ("Failures", num(k["failures"])), ("Off-hours events", num(k["off_hours"])),
                       ("Files", num(k.get("files"))), ("Rejected lines", num(k.get("rejects")))])
    pdf.para(f"First event {stamp(k['first'])}, last event {stamp(k['last'])} ({ctx.tz}). Off-hours: before "
             f"{metrics.WORK_HOURS[0]:02d}:00, from {metrics.WORK_HOURS[1]:02d}:00, and weekends.", 8.5, color=GREY)
    if ctx.events.is_empty():
        pdf.para("No events in scope: no charts.", 10, "B")
        return
    every = _every(ctx.events)
    label = metrics.EVERY_NAME.get(every, every)
    pdf.heading(f"Events per {label}, by artifact type", 2)
    series = metrics.over_time(ctx.events, every)
    y = pdf.get_y()
    draw_chart(pdf, lambda w, h: charts.over_time_chart(series, every, title="", width=w, height=h),
           pdf.epw, pdf.page_break_trigger - y - 2, pdf.l_margin, y)


def _who_and_what(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Who and what"))
    if ctx.events.is_empty():
        pdf.para("No events in scope.")
        return
    users = metrics.per_user(ctx.events)
    types = metrics.per_artifact_type(ctx.events)
    half = (pdf.epw - 8) / 2
    y = pdf.get_y()
    top = min(15, users.height)
    long = metrics.user_kinds_long(users, top=top)
    shown = types.head(20)
    for i, (title, make) in enumerate([
            (f"Actions per user, by kind (the {top} most active)",
             lambda w, h: charts.user_kinds_chart(long, width=w, title="").properties(height=h)),
            (f"Events per artifact type ({'the 20 most frequent' if types.height > 20 else 'all'})",
             lambda w, h: charts.bar_chart(shown, "artifact_type", width=w, limit=20).properties(height=h))]):
        x = pdf.l_margin + i * (half + 8)
        pdf.set_xy(x, y)
        pdf.set_font("DejaVu", "B", 10)
        pdf.set_text_color(24, 70, 120)
        pdf.cell(half, 6, pdf.fit(title, half))
        pdf.set_text_color(0, 0, 0)
        draw_chart(pdf, make, half, pdf.page_break_trigger - y - 10, x, y + 8)
    pdf.add_page()
    count_table(pdf, "Per user", users,
                 [("user", "User", 30, "L"), ("events", "Events", 10, "R"), ("first_seen", "First seen", 22, "L"),
                  ("last_seen", "Last seen", 22, "L"), ("nodes", "Nodes", 26, "L"), ("failures", "Failures", 10, "R")])
    count_table(pdf, "Per artifact type", types,
                 [("artifact_type", "Artifact type", 34, "L"), ("events", "Events", 10, "R"),
                  ("artifacts", "Artifacts", 12, "R"), ("users", "Users", 10, "R"), ("first", "First", 22, "L"),
                  ("last", "Last", 22, "L")])


# ---------------------------------------------------------------- findings


def _rule_groups(found: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings by rule, the rules ordered as their most severe finding, then by id."""
    groups: dict[str, list[Finding]] = {}
    for f in found:
        groups.setdefault(f.rule, []).append(f)
    return sorted(groups.items(), key=lambda kv: (-max(f.rank for f in kv[1]), kv[0]))


def _findings_summary(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Findings summary"))
    found = ctx.found
    by = {sev: sum(1 for f in found if f.severity == sev) for sev in SEVERITIES}
    pdf.para(f"{plural(len(found), 'finding')} in scope: "
             + ", ".join(f"{by[s]:,} {s}" for s in reversed(SEVERITIES))
             + ". Rules over the events in scope (audit_lib/rules) and, where the source holds them, the logging "
             "configuration check; the same findings, with all their events, are in the findings file "
             f"(SHA-256 {ctx.findings_sha}).", 9)
    if not found:
        pdf.para("No rule matched the events in scope.", 10, "B")
        return
    rows = []
    for rule, items in _rule_groups(found):
        firsts = [f.first for f in items if f.first]
        lasts = [f.last for f in items if f.last]
        worst = max(items, key=lambda f: f.rank)
        rows.append((worst.severity.upper(), rule, worst.title, num(len(items)), num(sum(f.count for f in items)),
                     stamp(min(firsts)) if firsts else "-", stamp(max(lasts)) if lasts else "-",
                     ", ".join(sorted({r for f in items for r in f.references}))))
    pdf.table(["Severity", "Rule", "Title", "Findings", "Events", "First", "Last", "Supports"], rows,
              [12, 34, 50, 12, 12, 22, 22, 60], aligns=["L", "L", "L", "R", "R", "L", "L", "L"], max_lines=3,
              size=7.5)


def _findings_detail(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Findings and their events"))
    if not ctx.found:
        pdf.para("No finding in scope.")
        return
    lim = ctx.limits
    pdf.para(f"For each rule, most severe first: what it means, then its first {lim.findings_per_rule} findings with "
             f"up to {lim.events_per_finding} events each (time, actor, node, outcome, source:line), then up to "
             f"{lim.findings_listed} more findings one per line. Every finding with all its events is in the "
             f"findings file (SHA-256 {ctx.findings_sha}). " + compliance.OUTCOME_NOTE, 8.5, color=GREY)
    paths_note(pdf, ctx)
    for rule, items in _rule_groups(ctx.found):
        worst = max(items, key=lambda f: f.rank)
        pdf.heading(f"{worst.severity.upper()} · {worst.title} ({rule}): {plural(len(items), 'finding')}", 2,
                    keep=25)
        pdf.para(visible(worst.meaning) + "  Supports " + ", ".join(worst.references) + ".", 8, color=GREY)
        detailed = items[: ctx.limits.findings_per_rule]
        with_events = [f for f in detailed if f.events is not None]
        if with_events:
            rows: list = []
            for f in with_events:
                ev = f.events
                shown = min(ev.height, ctx.limits.events_per_finding)
                more = f.count - shown
                rows.append(Span(visible(f.summary),
                                 f"{plural(f.count, 'event')} · {stamp(f.first)} to {stamp(f.last)} · finding {f.id}"
                                 + (f" · {more:,} more events in the findings file" if more > 0 else "")
                                 + review_note(ctx, f.id)))
                rows += event_rows(ctx, ev.head(shown), details=True, session=True)
            event_table(pdf, ctx, rows)
        plain = [f for f in detailed if f.events is None]
        if plain:  # findings of the configuration check: their evidence, not events
            rows = [(f.severity, visible(f.summary), visible(f.node or ""), num(f.count),
                     "\n".join(visible(e) for e in f.evidence[:6])  # one line each: the cell breaks them
                     + (f"\n... and {len(f.evidence) - 6} more" if len(f.evidence) > 6 else ""), f.id) for f in plain]
            pdf.table(["Severity", "Finding", "Node", "Records", "Evidence", "Id"], rows, [10, 70, 20, 10, 120, 14],
                      aligns=["L", "L", "L", "R", "L", "L"], max_lines=[1, 4, 2, 1, 8, 1], multiline=[4], size=7)
        rest = items[ctx.limits.findings_per_rule: ctx.limits.findings_per_rule + ctx.limits.findings_listed]
        if rest:
            pdf.para(f"{len(rest):,} more of this rule, one per line:", 8.5, "B")
            pdf.table(["Finding", "Events", "First", "Last", "Id"],
                      [(visible(f.summary), num(f.count), stamp(f.first), stamp(f.last), f.id) for f in rest],
                      [150, 12, 24, 24, 16], aligns=["L", "R", "L", "L", "L"], max_lines=[2, 1, 1, 1, 1], size=7)
        left = len(items) - ctx.limits.findings_per_rule - len(rest)
        if left > 0:
            pdf.para(f"{left:,} further finding(s) of this rule are in the findings file only.", 8, color=GREY)


# ---------------------------------------------------------------- sensitive actions


def _sensitive(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Sensitive actions"))
    sens = ctx.sensitive
    summary = compliance.sensitive_summary(sens, ctx.categories)
    pdf.para(f"{sens.height:,} sensitive actions in scope, each under the first of the categories below that it "
             "matches (audit_lib/analysis/sensitive_actions.json; categories marked privileged make their actors "
             "privileged). " + compliance.OUTCOME_NOTE, 8.5)
    pdf.table(["Category", "What it means", "Events", "Done", "Failed", "Not recorded", "Actors", "Privileged"],
              text_rows(summary, ["category", "reason", "events", "done", "failed", "not_recorded", "actors",
                                   "privileged"]),
              [38, 120, 11, 10, 10, 13, 10, 12], aligns=["L", "L", "R", "R", "R", "R", "R", "L"], max_lines=3,
              size=7.5)
    off = compliance.load_categories(include_disabled=True)
    hidden = [c.name for c in off if c.id not in {k.id for k in ctx.categories}]
    if hidden:
        pdf.para("Not counted as sensitive in this report (routine changes; enable them with --category): "
                 + ", ".join(hidden) + ".", 8, color=GREY)
    paths_note(pdf, ctx)
    for cat in ctx.categories:
        rows = sens.filter(pl.col("category") == cat.name)
        if rows.is_empty():
            continue
        pdf.heading(f"{cat.name} ({rows.height:,})", 3, keep=15)
        if cat.listing == "counts":
            pdf.para("Counted per actor and node:", 8, color=GREY)
            table = compliance.counts_by_actor(rows)
            pdf.table(["Actor", "Node", "Events", "Failed", "First", "Last"],
                      text_rows(table, ["actor", "node", "events", "failed", "first", "last"]),
                      [60, 30, 14, 14, 30, 30], aligns=["L", "L", "R", "R", "L", "L"], max_lines=2, size=7)
            continue
        if rows.height > ctx.limits.max_per_category:
            pdf.para(f"The first {ctx.limits.max_per_category:,} of {rows.height:,} are listed; every event is in the "
                     f"companion CSV (SHA-256 {ctx.csv_sha}).", 8, color=GREY)
        event_table(pdf, ctx, event_rows(ctx, rows.head(ctx.limits.max_per_category)))


def _sign_ins(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Sign-ins and sign-outs"))
    table = compliance.sign_ins(ctx.events)
    if table.is_empty():
        pdf.para("No sign-in, sign-out or failed sign-in in scope.")
        return
    cols = ["user", "sign_ins", "sign_outs", "failed", "first_sign_in", "last_sign_in", "last_sign_out", "nodes"]
    pdf.table(["User", "Sign-ins", "Sign-outs", "Failed", "First sign-in", "Last sign-in", "Last sign-out", "Nodes"],
              text_rows(table, cols), [50, 14, 14, 12, 26, 26, 26, 60],
              aligns=["L", "R", "R", "R", "L", "L", "L", "L"], max_lines=2, size=7)


# ---------------------------------------------------------------- privileged actors and sessions


def _people_text(ctx: Context) -> str:
    """"3 people" or "3 people (4 accounts: an id the records name is its person)"."""
    n, accounts = len(ctx.privileged_people), len(ctx.privileged)
    text = plural(n, "person", "people")
    return text + (f" ({accounts:,} accounts: an id the records give a name is that person)" if accounts != n else "")


def _privileged(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Privileged actors and their sessions"))
    actors = ctx.privileged
    how = ("The list was given for this report." if ctx.privileged_given else
           "Privileged actors are those who performed an action of a privileged category (accounts, roles, "
           "permissions, passwords, log levels) that was not refused; give the list with --privileged.")
    timeout = int(ctx.settings.session_timeout.total_seconds() // 60)
    named = [visible(actor_shown(a, ctx.names)) for a in actors if a in ctx.names]
    pdf.para(f"{_people_text(ctx)} privileged"
             + (f" (ids shown with the name the records give them: {', '.join(named[:10])})" if named else "")
             + f". {how} A session runs from a sign-in (MI management API, "
             "API-M console, IS Login) to the sign-out, the next sign-in, or "
             f"{timeout} quiet minutes (timeout); open = the log ends within that time. Changes made with no session "
             "around them are counted apart (Identity Server administration is not preceded by a Login record).", 8.5)
    if not actors:
        return
    sess = ctx.sessions.filter(pl.col("actor").is_in(actors))
    sens = ctx.sensitive.filter(pl.col("actor").is_in(actors))
    ev = ctx.events.filter(pl.col("actor").cast(pl.String).is_in(actors)) if "actor" in ctx.events.columns \
        else ctx.events.clear()
    changes = ev.select(pl.col("actor").cast(pl.String), pl.col("source").cast(pl.String), "line",
                        change=_change(ev)).filter("change")
    changes = changes.with_columns(ctx.session_of.of(changes))
    per_actor = pl.DataFrame({"actor": actors}).join(
        sens.group_by("actor").agg(sensitive=pl.len().cast(pl.Int64),
                                   failed=(pl.col("outcome") == compliance.FAILED).sum().cast(pl.Int64),
                                   nodes=pl.col("node").unique().sort().str.join(", ")), on="actor", how="left"
    ).join(sess.group_by("actor").agg(
        sessions=pl.len().cast(pl.Int64),
        ended=pl.format("{} out, {} next, {} timeout, {} open",
                        *[(pl.col("ended") == k).sum() for k in ("signed_out", "next_sign_in", "timeout", "open")])),
        on="actor", how="left"
    ).join(changes.group_by("actor").agg(in_session=pl.col("session").is_not_null().sum().cast(pl.Int64),
                                         outside=pl.col("session").is_null().sum().cast(pl.Int64)),
           on="actor", how="left").with_columns(pl.col("sensitive", "failed", "sessions", "in_session", "outside")
                                                .fill_null(0), pl.col("nodes", "ended").fill_null(""))
    pdf.heading("Privileged actors", 2)
    pdf.table(["Actor", "Nodes", "Sensitive actions", "Failed", "Sessions", "How they ended", "Changes in a session",
               "Changes with no session"],
              text_rows(per_actor.sort(["sensitive", "actor"], descending=[True, False]),
                         ["actor", "nodes", "sensitive", "failed", "sessions", "ended", "in_session", "outside"]),
              [50, 40, 14, 10, 12, 50, 14, 14], aligns=["L", "L", "R", "R", "R", "L", "R", "R"], max_lines=2, size=7)
    pdf.heading("Sessions with sensitive actions", 2, keep=20)
    marked = sens.filter(pl.col("session").is_not_null()).group_by("session").agg(
        sensitive=pl.len().cast(pl.Int64), categories=pl.col("category").unique().sort().str.join(", "))
    listed = sess.join(marked, on="session", how="inner").sort("start")
    quiet = sess.height - listed.height
    pdf.para(f"{plural(sess.height, 'session')} of privileged actors in scope; {listed.height:,} hold a sensitive "
             f"action and are listed (the others: {quiet:,}, counted above). The session number is the one in the "
             "Session column of the event tables."
             + (f" The first {ctx.limits.max_sessions:,} are listed." if listed.height > ctx.limits.max_sessions
                else ""), 8.5)
    if listed.height:
        shown = listed.head(ctx.limits.max_sessions).with_columns(
            sid=pl.format("#{}", pl.col("session")),
            minutes=(pl.col("duration").dt.total_seconds() / 60).round(1).cast(pl.String),
            src=pl.format("{}:{}", ctx.rel(), pl.col("line")))
        pdf.table(["Session", "Actor", "Node", "Start", "End", "Minutes", "Ended", "Changes", "Sensitive",
                   "Categories", "Sign-in source:line"],
                  text_rows(shown, ["sid", "actor", "node", "start", "end", "minutes", "ended", "changes",
                                     "sensitive", "categories", "src"]),
                  [10, 24, 12, 22, 22, 10, 14, 10, 11, 60, 45],
                  aligns=["L", "L", "L", "L", "L", "R", "L", "R", "R", "L", "L"], max_lines=3, size=6.5)


def _change(ev: pl.DataFrame) -> pl.Expr:
    return change_expr(ev).fill_null(False) if ev.height else pl.lit(False)


# ---------------------------------------------------------------- evidence


def _evidence(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Evidence"))
    files, rejects = ctx.covering, ctx.log.rejects.filter(
        pl.col("source").cast(pl.String).is_in(ctx.covering["source"].implode()))
    q = metrics.parse_quality(files, rejects)
    days = ctx.days
    span = f"{days[0]:%Y-%m-%d} to {days[1]:%Y-%m-%d}" if days else "no day"
    pdf.para(f"The scope's days: {span} ({ctx.tz}). {files.height:,} of the {ctx.log.files.height:,} files read "
             "cover them (a day of theirs falls in the scope, or events in scope come from them); the others are "
             "left out of this evidence.", 9)
    pdf.para(f"{q['lines']:,} lines read from these {q['files']:,} files: {q['events']:,} events, "
             f"{q['attached']:,} continuation lines attached to an event, {q['blank']:,} blank, {q['rejects']:,} "
             f"rejected, {q['duplicate_lines']:,} in duplicate files (not counted twice). These add up to every line "
             f"read: {'yes' if q['complete'] else 'NO'}. {q['errors']} file(s) could not be read.", 9)
    cut = files.filter(~pl.col("complete")) if "complete" in files.columns else files.clear()
    unread = [s for s in ctx.log.skipped if getattr(s, "unread", False)]
    if cut.height:
        pdf.para(f"INCOMPLETE: {cut.height} file(s) were read only in part (damaged, truncated or over a size cap). "
                 "The lines after the damage are unknown: this report cannot speak for them. "
                 + "; ".join(f"{visible(src)}: {visible(err or 'read in part')}"
                             for src, err in cut.select("source", "error").iter_rows()), 9)
    if unread:
        pdf.para(f"INCOMPLETE: {len(unread)} file(s) named as audit logs (or archives, or folders) could not be "
                 "read at all (unreadable, not text, damaged, refused): their lines are unknown and this report "
                 "cannot speak for them. " + "; ".join(visible(s) for s in unread[:20])
                 + (" …" if len(unread) > 20 else ""), 9)
    if not cut.height and not unread:
        pdf.para("Complete: every file was read to its end.", 9)
    others = ctx.log.files.filter(~pl.col("source").is_in(files["source"].implode()) & ~pl.col("complete"))
    if others.height:
        pdf.para(f"{others.height} file(s) outside the scope were read only in part as well.", 8.5, color=GREY)
    if others_skipped := [s for s in ctx.log.skipped if not getattr(s, "unread", False)]:
        pdf.para(f"Not audit logs, skipped: {', '.join(visible(s) for s in others_skipped[:20])}", 8, color=GREY)

    pdf.heading("Days of the scope covered, per node", 2)
    nodes = known_nodes(ctx.log.files, ctx.filters) or sorted(
        ctx.log.files["node"].cast(pl.String).drop_nulls().unique().to_list())
    # one grid for both tables: a node silent at the end of the scope is a gap in each
    cov, gaps = compliance.coverage(ctx.events, ctx.log.files, days, ctx.tz, nodes,
                                    work_days=ctx.settings.work_days, holidays=ctx.settings.holidays)
    if cov.is_empty():
        pdf.para("No file covers a day of the scope.")
    else:
        pdf.table(["Node", "Days in scope", "Days with a file", "Days without a file", "Days of files read in part"],
                  text_rows(cov, ["node", "days", "covered", "missing", "partial"]), [30, 16, 16, 130, 60],
                  aligns=["L", "R", "R", "L", "L"], max_lines=[2, 1, 1, 4, 3], size=7.5)

    pdf.heading("Files covering the scope", 2)
    paths_note(pdf, ctx)
    man = compliance.manifest(files).join(files.select("source", "in_scope", "scope_days"), on="source", how="left")
    man = man.with_columns(ctx.rel().alias("shown"))
    cols = ["shown", "node", "bytes", "sha256", "lines", "events", "in_scope", "scope_days", "note"]
    pdf.table(["Source", "Node", "Bytes", "SHA-256", "Lines", "Events", "In scope", "Days of the scope", "Note"],
              text_rows(man, cols), [56, 14, 12, 70, 10, 10, 10, 36, 30],
              aligns=["L", "L", "R", "L", "R", "R", "R", "L", "L"],
              max_lines=[3, 2, 1, 1, 1, 1, 1, 3, 3], size=6.2)

    pdf.heading("Coverage gaps", 2)
    pdf.para(f"Working days of the scope on which a node has no file, no event, or a file read in part: "
             f"{gaps.height:,} (days off and holidays as in the working time on the cover).", 9)
    if gaps.height:
        if gaps.height > MAX_GAPS:
            pdf.para(f"The first {MAX_GAPS} are listed.", 8, color=GREY)
        pdf.table(["Node", "Day", "Files", "Events", "Status"],
                  text_rows(gaps.head(MAX_GAPS), ["node", "day", "files", "events", "status"]),
                  [60, 40, 20, 20, 40], aligns=["L", "L", "R", "R", "L"], size=7.5)

    pdf.heading("Duplicate files", 2)
    dups = compliance.duplicates(files).with_columns(ctx.rel().alias("shown"), ctx.rel("duplicate_of").alias("of"))
    pdf.para(f"{dups.height:,} file(s) repeat the content of another file and were read once.", 9)
    if dups.height:
        pdf.table(["File", "Same content as", "SHA-256"], text_rows(dups, ["shown", "of", "sha256"]),
                  [90, 90, 97], max_lines=2, size=7)

    pdf.heading("Rejected lines", 2)
    pdf.para(f"{rejects.height:,} line(s) of these files could not be read as events.", 9)
    if rejects.height:
        reasons = q["reasons"]
        pdf.para("By reason: " + "; ".join(f"{visible(r)} ({n:,})" for r, n in reasons.rows()), 8.5)
        sample = compliance.reject_sample(rejects).with_columns(ctx.rel().alias("shown"))
        pdf.table(["Source", "Line", "Reason", "Text"], text_rows(sample, ["shown", "line", "reason", "text"]),
                  [70, 12, 30, 165], aligns=["L", "R", "L", "L"], max_lines=[2, 1, 2, 3], size=7)
    if ctx.comparison is not None:
        comparison_pages(pdf, ctx)


def _comparison_cover(ctx: Context) -> list[tuple[str, str]]:
    c = ctx.comparison
    if c is None:
        return []
    verdict = c.verdict()
    return [("Previous period", f"{c.previous.text()}, compared in the evidence: {verdict}; the comparison as JSON "
                                "(--comparison FILE, or Comparison (JSON) on the app's Reports page) has SHA-256 "
                                f"{sha256_hex(c.to_json())}")]


def _appendix(pdf: ReportPDF, ctx: Context) -> None:
    pdf.add_page()
    pdf.heading(ctx.section("Appendix: events in scope"))
    n = ctx.events.height
    shown = min(n, ctx.limits.max_rows)
    if n == 0:
        pdf.para("No events in scope.", 10, "B")
        return
    if shown < n:
        pdf.para(f"This scope holds {n:,} events; more than {ctx.limits.max_rows:,}, so the first {shown:,} are "
                 "printed. "
                 f"All {n:,} are in the companion CSV, SHA-256 {ctx.csv_sha}.", 9, "B")
    else:
        pdf.para(f"All {n:,} events in scope, oldest first. The same rows are in the companion CSV, "
                 f"SHA-256 {ctx.csv_sha}.", 9)
    paths_note(pdf, ctx)
    event_table(pdf, ctx, event_rows(ctx, ctx.events.head(shown), session=False), session=False, size=6.2)


def _review(pdf: ReportPDF, ctx: Context) -> None:
    if pdf.get_y() + 95 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.heading(ctx.section("Review"))
    if ctx.review_store:
        review_log(pdf, ctx)
    filled = reviewer_block(ctx)
    if pdf.get_y() + 95 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.para("Completed by the reviewer of this report" + ("; who reviewed the findings and when are filled in from "
                                                           "the reviews the store keeps." if filled else "."),
             9, color=GREY)
    pdf.set_draw_color(120, 120, 120)
    for label in ["Reviewed by", "Role", "Date", "Signature"]:
        y = pdf.get_y() + 3
        pdf.set_xy(pdf.l_margin, y)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(35, 8, label)
        if label in filled:
            pdf.set_font("DejaVu", "", 8.5)
            text = filled[label]
            while pdf.get_string_width(text) > 123:  # one line: the full list is in the review log above
                text = text[:-2].rstrip() + "…"
            pdf.cell(125, 8, text)
        pdf.line(pdf.l_margin + 35, y + 7, pdf.l_margin + 160, y + 7)
        pdf.set_xy(pdf.l_margin, y + 9)
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(35, 8, "Notes", new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y()
    pdf.rect(pdf.l_margin, y, pdf.epw, 35)
    pdf.set_xy(pdf.l_margin, y + 37)
    pdf.set_font("DejaVu", "", 9)
