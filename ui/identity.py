"""Who is using the app, and so whose data a page shows.

With Streamlit's sign-in configured (an ``[auth]`` section in ``.streamlit/secrets.toml``, OpenID
Connect), every page belongs to the signed-in person: their handwriting set, saved runs and
trainings (:class:`digit_core.workspace.Workspace`, keyed by an opaque id of the provider and the
person's subject), and someone not signed in sees only the sign-in page. Without it the app is a
single-person app, as on a laptop, and says so when it is opened from beyond this machine.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

import streamlit as st

from digit_core.handwriting import HandwritingStore
from digit_core.registry import Registry
from digit_core.workspace import Workspace, for_person

from .text import plain

SINGLE_PERSON_NOTICE = (
    "**Single-person mode.** Sign-in is not configured, so everyone who opens this app shares one "
    "handwriting set, one set of saved runs and one list of trainings. To give each person their "
    "own, configure sign-in (see the README)."
)


def sign_in_configured() -> bool:
    """Whether the app is deployed with sign-in: Streamlit gives ``st.user`` an ``is_logged_in``
    only when ``[auth]`` is configured."""
    return "is_logged_in" in st.user


def needs_sign_in() -> bool:
    """Whether sign-in is configured and nobody is signed in in this session."""
    return sign_in_configured() and not st.user.is_logged_in


def workspace() -> Workspace:
    """The data of whoever uses this session. With sign-in configured and nobody signed in, the
    page stops after the sign-in page, so it never shows anyone's data."""
    if not sign_in_configured():
        return Workspace()
    if not st.user.is_logged_in:
        sign_in_ui()
        st.stop()
    user = st.user.to_dict()
    subject = user.get("sub") or user.get("email")
    if not isinstance(subject, str) or not subject:
        st.error("Your sign-in did not say who you are (no subject or e-mail): sign out and try again.")
        sign_out_ui()
        st.stop()
    shown = user.get("name") or user.get("email") or "you"
    return for_person(user.get("iss") if isinstance(user.get("iss"), str) else None, subject, str(shown))


def handwriting() -> HandwritingStore:
    """This session's person's handwriting set."""
    return workspace().handwriting()


def models() -> Registry:
    """This session's view of the models: its person's own saved runs over the shipped ones."""
    return workspace().models()


def providers() -> list[str]:
    """The named sign-in providers (``[auth.<name>]``); empty when ``[auth]`` itself is one."""
    try:
        section = st.secrets["auth"]
    except (KeyError, FileNotFoundError):
        return []
    return [name for name, value in section.items() if hasattr(value, "items")]


def sign_in_ui() -> None:
    st.title("Digit Lab")
    st.write("Each person's drawings, saved models and trainings here are their own: sign in to use the app.")
    named = providers()
    if not named:
        st.button("Sign in", type="primary", key="account_sign_in", on_click=st.login)
    for provider in named:
        st.button(
            f"Sign in with {provider.capitalize()}",
            type="primary",
            key=f"account_sign_in_{provider}",
            on_click=st.login,
            args=(provider,),
        )


def sign_out_ui() -> None:
    st.button("Sign out", key="account_sign_out", on_click=st.logout)


def loopback(host: str | None) -> bool:
    if not host:
        return True  # nothing to judge by: say nothing rather than something wrong
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def served_beyond_localhost() -> bool:
    """Whether this session reached the server from another machine, judged by the address the
    browser used (``st.context.url``, else the ``Host`` header)."""
    url = st.context.url
    host = urlparse(url).hostname if url else None
    if host is None:
        header = st.context.headers.get("Host")
        host = urlparse(f"//{header}").hostname if header else None
    return not loopback(host)


def account_ui() -> Workspace:
    """For the entry point: the sign-in page (and a stop) when needed, who is signed in in the
    sidebar, or the single-person notice when served beyond this machine."""
    found = workspace()
    with st.sidebar:
        if found.personal:
            st.caption(f"Signed in as **{plain(found.name)}**")
            sign_out_ui()
        elif served_beyond_localhost():
            st.warning(SINGLE_PERSON_NOTICE, icon=":material/group:")
    return found
