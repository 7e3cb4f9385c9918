"""Optional sign-in, set in `.streamlit/secrets.toml`:

- `[auth]` (Streamlit's OpenID Connect: `redirect_uri`, `cookie_secret`, `client_id`, `client_secret`,
  `server_metadata_url`, or named providers `[auth.<name>]`): visitors sign in with `st.login`;
- else `password_hash` (see `audit_lib.ui.passwords`) or, weaker, `password_sha256`: one shared password;
- else no sign-in, which is meant for `make run` on 127.0.0.1 only: on any other address every page says so.

A secrets file that exists but cannot be read or parsed is a `SignInError`: the app stops with one line, it
never falls back to no sign-in. Wrong passwords are throttled (see `audit_lib.ui.throttle`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from audit_lib.errors import AuditLibError
from audit_lib.ui.errors import LOG, failure_line
from audit_lib.ui.passwords import check
from audit_lib.ui.throttle import THROTTLE

SIGNED_IN = "signed_in"  # session-state flag of the password sign-in
FAILED_WAIT = 1.5  # seconds a wrong password costs


class SignInError(AuditLibError):
    """The sign-in settings cannot be read: the app shows this line and nothing else."""


def secrets() -> Mapping[str, Any]:
    """The secrets as a mapping; empty when there is no secrets file. A secrets file that exists but cannot be
    read or parsed raises `SignInError`."""
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception as exc:
        if getattr(exc, "error_id", None) == "no-secrets-found":  # Streamlit's own error type: no file at all
            return {}
        LOG.error("The secrets file cannot be read", exc_info=exc)
        detail = str(exc).rsplit(": ", 1)[-1] if getattr(exc, "error_id", None) else type(exc).__name__
        raise SignInError(f"The app is stopped: its secrets file (secrets.toml) exists but cannot be read "
                          f"({detail[:200]}), so its sign-in cannot be checked. Fix the file or remove it, "
                          "then reload this page.") from exc


def method(conf: Mapping[str, Any] | None = None) -> str:
    """"oidc", "password" or "none", from the secrets."""
    conf = secrets() if conf is None else conf
    if isinstance(conf.get("auth"), Mapping) and conf["auth"]:
        return "oidc"
    if conf.get("password_hash") or conf.get("password_sha256"):
        return "password"
    return "none"


def is_local(address: str | None) -> bool:
    """True when the server listens on the loopback interface only."""
    text = (address or "").strip().strip("[]")
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def exposure_warning(address: str | None, conf: Mapping[str, Any] | None = None) -> str | None:
    """The warning every page shows when the app listens beyond this machine with no sign-in, else None."""
    if is_local(address) or method(conf) != "none":
        return None
    where = f"address {address}" if address else "every network interface"
    return (f"This app listens on {where} with no sign-in: anyone who can reach it can read these logs and the "
            "folders it is allowed to open. Set a password_hash or [auth] in .streamlit/secrets.toml (see the "
            "README), or run it with --server.address 127.0.0.1.")


def signed_in() -> bool:
    """True when the app may be shown: no sign-in is configured, or this visitor has signed in."""
    conf = secrets()
    kind = method(conf)
    if kind == "none":
        return True
    if kind == "oidc":
        try:
            return bool(st.user.is_logged_in)
        except Exception:  # an [auth] section Streamlit cannot use: sign_in_page says so
            return False
    return bool(st.session_state.get(SIGNED_IN))


def sign_in_page() -> None:
    """The sign-in form (or buttons), run as the one page of st.navigation: drawn in the main script, its
    widgets would be keyed to another page than the one the browser sends them back to, and never submit."""
    conf = secrets()
    if method(conf) == "oidc":
        _oidc(conf["auth"])
        return
    stored = str(conf.get("password_hash") or conf.get("password_sha256") or "")
    base = conf.get("signin_lock_seconds", 2.0)  # the first lock; each further failure doubles it
    if isinstance(base, int | float) and not isinstance(base, bool) and base > 0:
        THROTTLE.base = float(base)
    st.title("WSO2 audit logs")
    with st.form("sign_in"):
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            _attempt(password, stored)


def _attempt(password: str, stored: str) -> None:
    """Check a password unless the account or this address is locked; st.rerun() when it is right."""
    keys = ("account:" + hashlib.sha256(stored.encode()).hexdigest()[:16],
            f"address:{st.context.ip_address or 'this machine'}")
    if wait := THROTTLE.wait(keys):
        st.error(f"Too many wrong passwords: sign-in is locked for {math.ceil(wait)} s more.")
        return
    with THROTTLE.slot() as free:
        right = free and check(password, stored)
    if not free:
        st.error("Too many sign-ins at once: try again in a moment.")
        return
    if right:
        THROTTLE.succeeded(keys[1:])
        st.session_state[SIGNED_IN] = True
        st.rerun()
    THROTTLE.failed(keys)
    time.sleep(FAILED_WAIT)
    st.error("Wrong password.")


def _oidc(auth: Mapping[str, Any]) -> None:
    try:
        _ = st.user.is_logged_in
    except Exception:  # an [auth] section Streamlit cannot use
        st.error("Sign-in is configured ([auth] in .streamlit/secrets.toml) but cannot be used; see the server log.")
        return
    providers = [k for k, v in auth.items() if isinstance(v, Mapping)]
    st.title("WSO2 audit logs")
    st.write("Sign in to see the audit logs.")
    for name in providers or [None]:
        if st.button(f"Sign in with {name}" if name else "Sign in", type="primary", key=f"login_{name}"):
            try:
                st.login(name) if name else st.login()
            except Exception as exc:  # Authlib missing, incomplete provider settings
                st.error(failure_line(exc, "Sign-in") + " Is Authlib (pip install 'Authlib>=1.3.2') installed?")


def sign_out_button() -> None:
    """A sign-out button at the bottom of the sidebar, when someone is signed in."""
    kind = method()
    if kind == "password" and st.session_state.get(SIGNED_IN):
        if st.sidebar.button("Sign out", key="sign_out"):
            st.session_state[SIGNED_IN] = False
            st.rerun()
    elif kind == "oidc" and st.sidebar.button("Sign out", key="sign_out"):
        st.logout()
