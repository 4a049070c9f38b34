"""Whose data it is: one person's handwriting set, saved runs and trainings (no TensorFlow).

The app knows who is signed in; the library only gets an opaque owner id from :func:`owner_id`
(a hash of the sign-in provider and the person's subject: no e-mail address ends up in a path).
Each signed-in person's data lives in ``$DIGIT_USERS_DIR/<owner id>/`` (default ``data/users/``):
``handwriting.sqlite`` and ``models/``; the shipped models in the registry folder stay shared and
read-only. Without sign-in the app has one owner, :data:`LOCAL`, whose data is where it always was
(``$DIGIT_HANDWRITING_DB``, the registry folder itself).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .handwriting import HandwritingStore
from .registry import Registry, models_dir

USERS_DIR_ENV = "DIGIT_USERS_DIR"
DEFAULT_USERS_DIR = Path(__file__).resolve().parent.parent / "data" / "users"
LOCAL = "local"  # the one owner of the single-person app
OWNER_PATTERN = re.compile(r"local|[0-9a-f]{32}")


def users_dir() -> Path:
    env = os.environ.get(USERS_DIR_ENV)
    return Path(env).expanduser() if env else DEFAULT_USERS_DIR


def owner_id(issuer: str | None, subject: str) -> str:
    """The opaque id of the person ``subject`` at the sign-in provider ``issuer``: 32 hex digits.
    The same person always gets the same id; the same subject at another provider another one."""
    if not isinstance(subject, str) or not subject.strip():
        raise ValueError("a signed-in person needs a subject (the provider's id for them)")
    return hashlib.sha256(f"{issuer or ''}\n{subject}".encode()).hexdigest()[:32]


def check_owner(owner: str) -> str:
    """``owner`` if it is :data:`LOCAL` or an id from :func:`owner_id`, else ``ValueError``."""
    if not isinstance(owner, str) or not OWNER_PATTERN.fullmatch(owner):
        raise ValueError(f"not an owner id: {owner!r}")
    return owner


@dataclass(frozen=True)
class Workspace:
    """One owner's data. ``name`` is only for display (who is signed in)."""

    owner: str = LOCAL
    name: str = ""

    def __post_init__(self) -> None:
        check_owner(self.owner)

    @property
    def personal(self) -> bool:
        """Whether this is one signed-in person's (not the single-person app's) data."""
        return self.owner != LOCAL

    @property
    def folder(self) -> Path | None:
        return users_dir() / self.owner if self.personal else None

    def handwriting(self) -> HandwritingStore:
        """This owner's handwriting set."""
        return HandwritingStore(self.folder / "handwriting.sqlite" if self.folder else None)

    def models(self) -> Registry:
        """This owner's saved runs over the shared (shipped) models."""
        if self.folder is None:
            return Registry.single()
        return Registry(self.folder / "models", models_dir())


def for_person(issuer: str | None, subject: str, name: str = "") -> Workspace:
    return Workspace(owner_id(issuer, subject), name)
