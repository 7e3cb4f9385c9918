"""WSO2 audit-log explorer: pick logs, filter, and see who did what to which artifact, and when."""

from pathlib import Path

import streamlit as st

from audit_lib.ui import gate, signin
from audit_lib.ui import state as S
from audit_lib.ui.errors import guard
from audit_lib.ui.follow import follow_store
from audit_lib.ui.sidebar import build_context

HERE = Path(__file__).parent

# a local icon: a :material/...: page icon is fetched from fonts.gstatic.com by every visitor's browser
st.set_page_config(page_title="WSO2 audit logs", page_icon=str(HERE / "audit_lib/ui/favicon.png"), layout="wide")
# also set in .streamlit/config.toml; here too so that another config cannot bring them back: no traceback
# reaches a visitor, and tables cannot be downloaded raw (their cells would reach a spreadsheet unneutralised)
st.set_option("client.showErrorDetails", "none")
st.set_option("client.disableDataExport", True)

gate.install()  # uploads only into signed-in sessions, no /_stcore/metrics (see audit_lib/ui/gate.py)
try:
    allowed = signin.signed_in()
except signin.SignInError as exc:  # a secrets file that cannot be read: never "no sign-in"
    gate.allow_uploads(False)
    stopped = str(exc)
    # the one page there is (without st.navigation, Streamlit would list and run pages/ unguarded)
    st.navigation([st.Page(lambda: st.error(stopped), title="Stopped", url_path="stopped")], position="hidden").run()
    st.stop()
gate.allow_uploads(allowed)
if not allowed:
    st.navigation([st.Page(signin.sign_in_page, title="Sign in", url_path="sign-in")], position="hidden").run()
    st.stop()

pages = [
    st.Page(str(HERE / "pages/overview.py"), title="Overview", icon=":material/dashboard:", default=True),
    st.Page(str(HERE / "pages/findings.py"), title="Findings", icon=":material/report:"),
    st.Page(str(HERE / "pages/users.py"), title="Users", icon=":material/group:"),
    st.Page(str(HERE / "pages/artifacts.py"), title="Artifacts", icon=":material/deployed_code:"),
    st.Page(str(HERE / "pages/timeline.py"), title="Timeline", icon=":material/schedule:"),
    st.Page(str(HERE / "pages/explorer.py"), title="Explorer", icon=":material/table_rows:"),
    st.Page(str(HERE / "pages/quality.py"), title="Data quality", icon=":material/fact_check:"),
    st.Page(str(HERE / "pages/reports.py"), title="Reports", icon=":material/description:"),
]

page = st.navigation(pages)
if warning := signin.exposure_warning(st.get_option("server.address")):
    st.warning(warning, icon=":material/public:")
with guard("The sidebar"):
    build_context()
signin.sign_out_button()
with guard("Following the event store"):  # a fragment: says when an ingest published new events
    follow_store(getattr(st.session_state.get(S.CONTEXT), "store", None))
with guard(f"The {page.title} page"):
    page.run()
