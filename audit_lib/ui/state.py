"""Every session-state key the app uses, in one place."""

SOURCE_KIND = "source_kind"  # "samples" | "upload" | "folder" | "store"
UPLOADS = "uploads"
UPLOAD_LABEL = "upload_label"
UPLOAD_REFUSED = "upload_refused"  # (kept file ids, lines, refused file ids) of the last refusal
FOLDER = "folder"
STORE = "store_folder"  # an event store folder on the server
TZ = "tz"
RANGE = "range"  # quick range: one of RANGES
DATES = "dates"  # (first, last) of the custom range
USERS = "f_users"
ACTIONS = "f_actions"
ARTIFACT_TYPES = "f_artifact_types"
NODES = "f_nodes"
OUTCOMES = "f_outcomes"
TEXT = "f_text"
CHANGES_ONLY = "f_changes_only"  # quick filter: no sign-ins, sign-outs or reads
AMBIGUOUS_ONLY = "f_ambiguous_only"  # only times a clock change made ambiguous
CONTEXT = "context"  # the Context of the current run, set by app.py for the pages
LOADED_KEY = "loaded_key"  # cache key of the log the filter widgets were last checked against

# pages
GRANULARITY = "granularity"
USER = "user_pick"
ARTIFACT_TYPE = "artifact_type_pick"
ARTIFACT = "artifact_pick"
HIDE_SESSIONS = "hide_sessions"
SORT_BY = "explorer_sort"
SORT_DESC = "explorer_desc"
PAGE = "explorer_page"
ROW = "explorer_row"
TIME_BRUSH = "timeline_chart"
REPORT_BUILT = "report_built_for"  # the scope key of the report last built on the Reports page
REPORT_EDITION = "report_edition"
REPORT_APPENDIX = "report_appendix"
REPORT_PRIVILEGED = "report_privileged"
REPORT_ROWS = "report_rows"
REPORT_CATEGORIES = "report_categories_table"
REPORT_COMPARE = "report_compare"  # + "_store" / "_files": compare with the previous period (on for a store)
REPORT_COMPARE_WITH = "report_compare_with"  # (first, last) of the previous period, or empty: the days before
FINDING_SEVERITIES = "findings_severities"
FINDING_RULES = "findings_rules"
FINDING_TABLE = "findings_table"
FINDING_EVENTS = "findings_events"
FINDING_UNREVIEWED = "findings_unreviewed"  # only the findings nobody reviewed (with an event store)
REVIEW_FORM = "review_form"  # + "_disposition", "_comment", "_name", "_suppress", "_until", "_actor", ...
REVIEW_DONE = "review_done"  # the line saying what the last review recorded, shown after the rerun
SESSION_CHANGES = "session_changes"  # + "_<session>": the expander of one session's changes
WORK_HOURS = "work_hours"  # (start, end) times of the working day
WORK_DAYS = "work_days"
HOLIDAYS = "holidays"  # text: dates separated by commas or spaces
SESSION_TIMEOUT = "session_timeout"  # minutes
USER_SESSIONS = "user_sessions_table"

FILTER_KEYS = [USERS, ACTIONS, ARTIFACT_TYPES, NODES, OUTCOMES]
RANGES = ["All", "Last 24 h", "Last 7 days", "Last 30 days", "Dates"]
