"""Schemas of exports (register, item history, changes as CSV or XLSX) and of imports
(reconciliation of discovered inventory, and accepting its differences)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator
from spectree.model_adapter.pydantic_adapter import BaseFile

from web.api.schemas.changes import ChangeFilters
from web.api.schemas.common import Body, Limit, Query
from web.api.schemas.register import ItemFilters

ExportFormat = Literal["csv", "xlsx"]
ImportFormat = Literal["csv", "json", "snipeit", "netbox", "cyclonedx"]
DifferenceId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
DifferenceKind = Literal["unregistered", "not_seen", "drift"]
# A kind as a client names it: checked by the service, so an unknown one is a 422 naming it.
KindName = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ExportFormatQuery(Query):
    format: ExportFormat = Field("csv", description="csv (UTF-8 with BOM) or xlsx")


class ItemsExportQuery(ItemFilters):
    format: ExportFormat = Field("csv", description="csv (UTF-8 with BOM) or xlsx")


class ChangesExportQuery(ChangeFilters):
    format: ExportFormat = Field("csv", description="csv (UTF-8 with BOM) or xlsx")


class ImportQuery(Query):
    format: ImportFormat = Field(description="csv and json: BIR fields; snipeit and netbox: "
                                             "those tools' CSV exports; cyclonedx: an SBOM")
    match: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="natural keys to match on, in order, comma-separated (default "
                          "key,asset_tag,serial_number,hostname)")
    name: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="the file's name in problems and in the change (default: the "
                          "uploaded file's name)")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] | None = Field(
        None, description="currency of the file's amounts when it names none (Snipe-IT's "
                          "currency setting is not in its exports; default the register's)")
    default: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        None, description="values for class attributes new items need and the file cannot "
                          "give, comma-separated: cores=16 (NetBox has no core count)")
    skip_gaps: bool = Field(False, description="leave out (and list) rows of new items that "
                                               "lack a required class attribute")
    values: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        None, description="translations of values the mapping does not know, separated by "
                          "semicolons: class:VOIP Phones=client.phone;status:Loaned=in_use")
    host: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=200)] | None = Field(
        None, description="cyclonedx: the device the software is on (its key or host name), "
                          "instead of the one the document names; needed when it names none "
                          "(an npm SBOM) or one the register does not know")


class ImportUpload(BaseModel):
    """A multipart upload: the file in the part ``file``."""

    file: BaseFile


class DifferenceOut(BaseModel):
    id: str = Field(description="what to send in accept")
    kind: DifferenceKind
    summary: str
    item_key: str | None
    row: int | None = Field(description="the file's row (a CSV's header line is row 1)")
    field: str | None
    registered: Any = None
    found: Any = None
    operations: list[dict[str, Any]] = Field(description="the change-set operations accepting "
                                                         "it adds")


class DifferenceCounts(BaseModel):
    unregistered: int
    not_seen: int
    drift: int


class MissingAttributeOut(BaseModel):
    class_code: str = Field(description="the class of the new items")
    attribute: str
    rows: int = Field(description="rows of new items without it")
    default: str | None = Field(description="the value given with default=")
    left_out: list[int] = Field(description="rows left out (skip_gaps), the first 200")


class SbomOut(BaseModel):
    """What a CycloneDX document says besides its installations."""

    host: str | None = Field(description="the device its software is on (key or host name)")
    host_from: str | None = Field(description="chosen (the host parameter), metadata.component, "
                                              "metadata.properties or system_info (cdxgen)")
    spec_version: str | None
    components: int = Field(description="components read, nested ones included")
    repeated: int = Field(description="components that repeat a package already read (same "
                                      "purl, or group + name + version): one installation")
    not_registered: dict[str, int] = Field(description="kind -> how many components that are "
                                                       "not software (certificate, service, "
                                                       "process, listening port, data, ...): "
                                                       "reported, not registered")


class ReconciliationOut(BaseModel):
    id: str = Field(description="the upload; accept differences with POST "
                                "/imports/{import_id}/accept (kept for a day)")
    file: str
    format: ImportFormat
    match_order: list[str]
    rows: int = Field(description="rows read")
    matched: int = Field(description="rows that matched a registered item")
    counts: DifferenceCounts
    differences: list[DifferenceOut] = Field(description="the first page of the differences "
                                                         "(every kind, 100 at most)")
    next: str | None = Field(description="URL of the next page of differences (GET "
                                         "/imports/{import_id}/differences); null when this "
                                         "page holds them all")
    ignored_columns: list[str] = Field([], description="columns of the file the mapping reads "
                                                       "nothing from (not registered)")
    missing_attributes: list[MissingAttributeOut] = Field(
        [], description="class attributes new items need that the file does not give")
    sbom: SbomOut | None = Field(None, description="cyclonedx: its host and what it lists that "
                                                   "is not registered")


class DifferencesQuery(Query):
    kind: DifferenceKind | None = Field(None, description="only differences of this kind")
    page: int = Field(1, ge=1, le=1_000_000, description="page number, from 1")
    limit: Limit = 100


class DifferencePage(BaseModel):
    kind: DifferenceKind | None
    page: int = Field(description="this page's number (the last one when asked for more)")
    pages: int
    total: int = Field(description="differences of the kind (or of every kind), on all pages")
    differences: list[DifferenceOut]
    next: str | None = Field(description="URL of the next page; null on the last page")


class AcceptImport(Body):
    accept: list[DifferenceId] | Literal["all"] | None = Field(
        None, description="the ids of the differences to accept, or \"all\"")
    kinds: list[KindName] | None = Field(
        None, max_length=10, description="accept every difference of these kinds "
                                         "(unregistered, not_seen, drift); combines with accept")
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=200)] | None = Field(
        None, description="the change's title (default: Audit correction from <file>)")

    @model_validator(mode="after")
    def _something_accepted(self) -> AcceptImport:
        if self.accept is None and self.kinds is None:
            raise ValueError("give accept (ids or \"all\"), kinds, or both")
        return self


class ImportAccepted(BaseModel):
    key: str = Field(description="the audit-correction change, registered (it now goes "
                                 "through the CHM steps)")
    title: str
    accepted: int = Field(description="differences accepted")
    operations: int = Field(description="operations in its change set")
