"""Unexpected errors in the app: one line for the visitor, the traceback for the server log.

`client.showErrorDetails = "none"` (.streamlit/config.toml) keeps Streamlit's own error display from showing
a traceback; these helpers make sure an error in a page or the sidebar leaves the rest of the app working
and says, in one line, where to look in the server log.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.logger import get_logger

LOG = get_logger("audit_lib.app")


def failure_line(exc: BaseException, what: str) -> str:
    """The one line a visitor sees for an unexpected error; the traceback is logged under its reference."""
    ref = secrets.token_hex(4)
    LOG.error("%s failed (reference %s)", what, ref, exc_info=exc)
    return (f"{what} could not be completed: an unexpected error ({type(exc).__name__}). The details are in the "
            f"server log under reference {ref}.")


@contextmanager
def guard(what: str) -> Iterator[None]:
    """Run a block; an unexpected exception becomes one st.error line plus a logged traceback. Streamlit's
    own control flow (st.rerun, st.stop, st.switch_page) passes through: it is not an Exception."""
    try:
        yield
    except Exception as exc:
        st.error(failure_line(exc, what))
