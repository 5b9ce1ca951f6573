"""What an import file says it found, row by row, and what is wrong with it (file, row, column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImportProblem:
    """Bad input, named where a user finds it: the file, the row (1 is a CSV's header line; for
    JSON the position of the object, from 1) and the column (or JSON key)."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, column {self.column}: {self.message}"


class ImportFailed(ValueError):
    """The file cannot be reconciled as it is; nothing was registered."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class FoundItem:
    """One component a file reports: the register fields and class attributes it gives (checked
    and normalised as a change set would store them), where it came from, and which source
    column gave each field (``columns``: target name -> column) so problems can name it."""

    file: str
    row: int
    class_code: str
    key: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    installed_on: str | None = None  # the device a software installation was found on
    columns: dict[str, str] = field(default_factory=dict)
    # Fields the import filled in because the file did not say (the register's default currency
    # beside an amount): never drift against a value the register holds.
    assumed: set[str] = field(default_factory=set)

    def column(self, target: str) -> str:
        return self.columns.get(target, target)

    def value(self, name: str) -> Any:
        """A field or ``key`` as the file gave it (``None`` when it did not)."""
        return self.key if name == "key" else self.fields.get(name)


# Where a CycloneDX document's host is named: a problem there is fixed by choosing the host.
HOST_COLUMNS = ("metadata.component.name", "installed_on")


def host_unknown(problems: list[ImportProblem]) -> bool:
    """Whether ``problems`` say the software's host is not named or not registered."""
    return any(p.column in HOST_COLUMNS for p in problems)


@dataclass
class SbomReport:
    """What a CycloneDX document says besides its installation rows: the host they are on and
    where that was found (``chosen`` by the coordinator, ``metadata.component``,
    ``metadata.properties`` or cdxgen's ``system_info``), what it lists that is not software
    (kind -> how many: reported, never registered) and the components that repeat a package
    already read."""

    host: str | None = None
    host_from: str | None = None
    spec_version: str | None = None
    components: int = 0  # components read (metadata.component and nested ones included)
    repeated: int = 0
    not_registered: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, how_many: int = 1) -> None:
        if kind not in self.not_registered and len(self.not_registered) >= 50:
            kind = "other"  # a hostile file's thousand made-up types stay one line
        self.not_registered[kind] = self.not_registered.get(kind, 0) + how_many
