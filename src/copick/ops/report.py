"""What an operation did, item by item: ops return it; commands derive output and exit status from it."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OpReport", "SyncReport"]


@dataclass
class OpReport:
    """Items done (one label each), skipped (with the reason) and failed (with the error), of one kind."""

    kind: str
    items: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.items)

    @property
    def total(self) -> int:
        """Items attempted: done plus failed."""
        return len(self.items) + len(self.errors)

    def __bool__(self) -> bool:
        return True


@dataclass
class SyncReport(OpReport):
    """A sync's report; ``added_objects`` names the pickable objects added to the target config."""

    added_objects: list[str] = field(default_factory=list)

    @property
    def copied(self) -> int:
        return self.done
