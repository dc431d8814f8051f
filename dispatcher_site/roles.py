"""The roles a request needs, with what they guard and why each one is needed.

A plain set of role names says *which* roles; a refusal also has to say *why*,
in the words the earlier dispatcher used and clients compare verbatim
(``dispatcher_site.auth.RolesMissing``). ``RolesNeeded`` is that set carrying
its reasons: an instrument builds it (``instruments`` may import this module,
which imports nothing of the project), ``require_roles`` reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum


class Guarded(Enum):
    """What the roles guard; each refusal has its own wording."""

    INSTRUMENT = "instrument"  # the instrument as a whole
    PRODUCT = "product"  # a product, with the values asked for
    ACTION = "action"  # an operation of the service (inspecting its state, refreshing tokens)


class RolesNeeded(frozenset):
    """A frozenset of role names, plus what they guard and a reason per role (where one is known)."""

    guarded: Guarded
    reasons: dict[str, str]

    def __new__(
        cls,
        roles: Iterable[str] = (),
        *,
        guarded: Guarded = Guarded.ACTION,
        reasons: Mapping[str, str] | None = None,
    ) -> RolesNeeded:
        needed = super().__new__(cls, roles)
        needed.guarded = guarded
        needed.reasons = {role: reason for role, reason in (reasons or {}).items() if role in needed}
        return needed

    def with_roles(self, other: Iterable[str]) -> RolesNeeded:
        """These roles and ``other``'s, keeping every reason known (this set's first)."""
        reasons = {**getattr(other, "reasons", {}), **self.reasons}
        return RolesNeeded(self | frozenset(other), guarded=self.guarded, reasons=reasons)

    def __repr__(self) -> str:
        return f"RolesNeeded({sorted(self)!r}, guarded={self.guarded.value})"
