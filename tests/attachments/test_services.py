"""Attachments as the services give them: a file attached to an item by a change carried through
its steps, shown in the item's history under that change and absent as of before it; removed by
a change; kept in the database or a shared directory (another worker's handle sees it), once
per content; its kind read from the bytes; files kept with a change. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bir.attachments import Blob, ItemAttachment, clean_filename
from tests.attachments import files
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import attachments, changes, register
from usm.services.errors import NotFound, Refused, ValidationFailed
from usm.services.platform import Database

WHEN = at("2026-03-02")


@pytest.fixture
def item(db: Database) -> str:
    implement_normal_change(db, [laptop("a", "SN-ATT-1")], at("2026-03-01"))
    return "LAP-000001"


def _blobs(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Blob)) or 0


def _attach(db: Database, key: str, data: bytes, name: str = "invoice.pdf", *,
            storage: attachments.Storage | None = None, when=WHEN, user: str = "carol",
            title: str | None = "Invoice 2026-114") -> attachments.AttachResult:
    return attachments.attach_file(db, storage or attachments.Storage(), user, key,
                                   io.BytesIO(data), name, title, now=when)


def _body(download: attachments.Download) -> bytes:
    return b"".join(download.chunks)


def test_attaching_is_a_change_carried_through_every_step(db: Database, item: str) -> None:
    pdf = files.pdf()
    done = _attach(db, item, pdf)
    assert done.change.reached and done.change.step == "closed" and done.change.blocked == ()
    detail = changes.change_detail(db, done.change.key)
    assert [row.to_step for row in detail.log] == [
        "registration", "assessment", "authorisation", "planning", "realisation",
        "implementation", "evaluation", "closed"]
    assert "1 attachment(s) added" in " ".join(row.comment or "" for row in detail.log)
    listed = attachments.item_attachments(db, item)
    assert [(a.filename, a.title, a.content_type, a.size, a.added_by, a.change_key)
            for a in listed.attachments] == [
        ("invoice.pdf", "Invoice 2026-114", "application/pdf", len(pdf), "carol",
         done.change.key)]
    assert listed.pending == []
    download = attachments.item_file(db, attachments.Storage(), item, listed.attachments[0].id)
    assert _body(download) == pdf and download.content_type == "application/pdf"


def test_the_history_shows_the_file_under_its_change_and_as_of_before_shows_none(
        db: Database, item: str) -> None:
    done = _attach(db, item, files.pdf())
    history = register.item_history(db, item)
    last = history[-1]
    assert (last.kind, last.change_key, last.version) == ("attachments", done.change.key, 1)
    assert [(c.field, c.old, c.new) for c in last.changes] == [
        ("attachment", None, "invoice.pdf")]
    assert attachments.item_attachments(db, item, as_of=WHEN - timedelta(minutes=1)
                                        ).attachments == []
    assert len(attachments.item_attachments(db, item, as_of=WHEN + timedelta(minutes=1)
                                            ).attachments) == 1
    sheet = register.history_sheet(db, item)
    assert [row[4:] for row in sheet.rows if row[6] == "attachment"] == [
        [done.change.key, f"Attach invoice.pdf to {item}", "attachment", None, "invoice.pdf"]]


def test_removing_is_a_change_too_and_the_history_keeps_the_file(db: Database, item: str) -> None:
    pdf = files.pdf()
    _attach(db, item, pdf)
    attachment = attachments.item_attachments(db, item).attachments[0]
    later = WHEN + timedelta(days=1)
    removed = attachments.detach_file(db, "carol", item, attachment.id, now=later)
    assert removed.change.reached and removed.filename == "invoice.pdf"
    assert attachments.item_attachments(db, item).attachments == []
    assert [a.filename for a in attachments.item_attachments(
        db, item, as_of=later - timedelta(hours=1)).attachments] == ["invoice.pdf"]
    history = register.item_history(db, item)
    assert [(c.old, c.new) for c in history[-1].changes] == [("invoice.pdf", None)]
    # The file stays downloadable from the history.
    assert _body(attachments.item_file(db, attachments.Storage(), item, attachment.id)) == pdf
    with pytest.raises(NotFound):
        attachments.detach_file(db, "carol", item, attachment.id, now=later)


def test_a_file_attached_with_a_new_item_is_in_that_versions_history_row(db: Database) -> None:
    blob = attachments.put(db, attachments.Storage(), io.BytesIO(files.png()), "photo.png",
                           "carol")
    implement_normal_change(db, [laptop("a", "SN-ATT-2"), {
        "op": "attach", "item": "@a", "attachment": blob.sha256, "filename": "photo.png"}],
        at("2026-03-01"))
    history = register.item_history(db, "LAP-000001")
    assert len(history) == 1
    assert ("attachment", None, "photo.png") in [(c.field, c.old, c.new)
                                                 for c in history[0].changes]


def test_the_kind_is_read_from_the_bytes(db: Database, item: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _attach(db, item, files.HTML, "invoice.pdf")
    assert refused.value.errors[0].field == "file"
    assert "invoice.pdf: it is HTML" in refused.value.errors[0].message
    assert _blobs(db) == 0 and attachments.item_attachments(db, item).attachments == []
    assert changes.list_changes(db, open_only=False, limit=50)[0].title != "Attach invoice.pdf"


@pytest.mark.parametrize(("data", "found"), [
    (files.SVG, "HTML, SVG or XML"), (files.ELF, "an executable program"),
    (files.plain_zip(), "a ZIP archive, not a Word or Excel document"),
    (files.docx(files.WORD_MACROS), "an Office document with macros"),
    (b"", "the file is empty"), (b"\x00\x01\x02binary", "binary data"),
])
def test_kinds_not_allowed_are_refused_naming_the_file_and_what_it_is(data: bytes,
                                                                      found: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        attachments.content_type(data, "report.pdf")
    message = refused.value.errors[0].message
    assert message.startswith("report.pdf: ") and found in message
    assert message.endswith("attach one of: PDF, PNG, JPEG, GIF, WebP, plain text or CSV, "
                            "Word (.docx), Excel (.xlsx)")


@pytest.mark.parametrize(("data", "kind"), [
    (files.pdf(), "application/pdf"), (files.png(), "image/png"), (files.jpeg(), "image/jpeg"),
    (files.CSV, "text/plain"), (files.docx(), attachments.content.DOCX),
    (files.xlsx(), attachments.content.XLSX),
])
def test_allowed_kinds(data: bytes, kind: str) -> None:
    assert attachments.content_type(data, "file") == kind


def test_a_file_over_the_limit_is_refused(db: Database, item: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _attach(db, item, files.CSV * 100, "big.csv",
                storage=attachments.Storage(max_bytes=1024))
    assert "big.csv: the file is larger than 1 kB" in str(refused.value)
    assert _blobs(db) == 0


def test_file_names_lose_paths_and_control_characters() -> None:
    assert clean_filename("C:\\Users\\me\\invoice.pdf") == "invoice.pdf"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("fdp\u202e.exe\x00") == "fdp.exe"
    assert clean_filename("  ") == "attachment"
    long = clean_filename("a" * 300 + ".pdf")
    assert len(long) == 120 and long.endswith(".pdf")


def test_the_same_bytes_are_kept_once(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-A"), laptop("b", "SN-B")], at("2026-03-01"))
    _attach(db, "LAP-000001", files.CSV, "a.csv")
    _attach(db, "LAP-000002", files.CSV, "b.csv")
    assert _blobs(db) == 1
    with pytest.raises(ValidationFailed) as twice:
        _attach(db, "LAP-000001", files.CSV, "again.csv", when=WHEN + timedelta(hours=1))
    assert "already has this file attached, as a.csv" in str(twice.value)
    assert _blobs(db) == 1  # still needed by both items


def test_a_refused_change_leaves_no_stored_file(db: Database, item: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _attach(db, item, files.pdf(), title="x" * 300)
    assert refused.value.errors[0].field == "operations[0].title"
    assert _blobs(db) == 0


def test_a_change_that_stops_short_leaves_the_file_pending(db: Database, item: str) -> None:
    done = _attach(db, item, files.pdf(), user="sam")  # no coordinator: the model's moves wait
    assert not done.change.reached and done.change.blocked
    listed = attachments.item_attachments(db, item)
    assert listed.attachments == []
    assert [(p.op, p.filename, p.change_key) for p in listed.pending] == [
        ("attach", "invoice.pdf", done.change.key)]
    assert _blobs(db) == 1  # kept for the change in progress
    assert attachments.sweep(db, attachments.Storage(), WHEN + timedelta(days=2)) == 0


def test_the_sweep_removes_files_nobody_refers_to(db: Database) -> None:
    attachments.put(db, attachments.Storage(), io.BytesIO(files.CSV), "a.csv", "carol",
                    now=WHEN)
    assert attachments.sweep(db, attachments.Storage(), WHEN + timedelta(minutes=5)) == 0
    assert attachments.sweep(db, attachments.Storage(), WHEN + timedelta(hours=2)) == 1
    assert _blobs(db) == 0


def test_a_shared_directory_keeps_the_bytes_and_another_worker_reads_them(
        db: Database, db_url: str, item: str, tmp_path: Path) -> None:
    shared = attachments.Storage(tmp_path / "shared")
    pdf = files.pdf()
    _attach(db, item, pdf, storage=shared)
    sha = hashlib.sha256(pdf).hexdigest()
    path = tmp_path / "shared" / sha[:2] / sha
    assert path.read_bytes() == pdf
    assert [p.name for p in path.parent.iterdir()] == [sha]  # no temporary file left
    with db.reading() as session:
        assert session.scalar(select(Blob.data).where(Blob.sha256 == sha)) is None
    other = Database.connect(db_url)  # another worker (or host) on the same register
    try:
        listed = attachments.item_attachments(other, item).attachments
        assert _body(attachments.item_file(other, attachments.Storage(tmp_path / "shared"),
                                           item, listed[0].id)) == pdf
    finally:
        other.dispose()


def test_the_database_keeps_the_bytes_for_every_worker(db: Database, db_url: str,
                                                       item: str) -> None:
    pdf = files.pdf()
    _attach(db, item, pdf)
    other = Database.connect(db_url)
    try:
        listed = attachments.item_attachments(other, item).attachments
        assert _body(attachments.item_file(other, attachments.Storage(), item,
                                           listed[0].id)) == pdf
    finally:
        other.dispose()


def test_attach_operations_are_checked_naming_the_operation_and_field(db: Database,
                                                                      item: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        changes.register_change(db, "carol", model="normal-change", title="Attach", operations=[
            {"op": "attach", "item": item, "attachment": "f" * 64, "filename": "a.pdf"},
            {"op": "attach", "item": item, "attachment": "nope", "filename": "../a.pdf"},
            {"op": "detach", "item": item, "attachment": 42},
        ], now=WHEN)
    fields = {e.field: e.message for e in refused.value.errors}
    assert "no uploaded file" in fields["operations[0].attachment"]
    assert "SHA-256" in fields["operations[1].attachment"]
    assert "path or a control character" in fields["operations[1].filename"]
    assert "is not a file attached to LAP-000001" in fields["operations[2].attachment"]


def test_a_model_that_does_not_attach_refuses_the_operation(db: Database, item: str) -> None:
    blob = attachments.put(db, attachments.Storage(), io.BytesIO(files.CSV), "a.csv", "carol")
    with pytest.raises(ValidationFailed) as refused:
        changes.register_change(db, "carol", model="asset-retirement", title="Attach",
                                operations=[{"op": "attach", "item": item,
                                             "attachment": blob.sha256, "filename": "a.csv"}],
                                now=WHEN)
    assert "does not make 'attach' operations" in str(refused.value)


def test_no_attachment_is_written_outside_a_change(db: Database, item: str) -> None:
    from bir.guard import RegisterWriteRefused

    blob = attachments.put(db, attachments.Storage(), io.BytesIO(files.CSV), "a.csv", "carol")
    with pytest.raises(RegisterWriteRefused), db.transaction() as session:
        blob_id = session.scalar(select(Blob.id).where(Blob.sha256 == blob.sha256))
        session.add(ItemAttachment(item_id=1, blob_id=blob_id, filename="a.csv", valid_from=WHEN,
                                   change_id=1))
        session.flush()


def test_files_kept_with_a_change_while_it_is_open(db: Database) -> None:
    key = changes.register_change(db, "carol", model="normal-change", title="Replace",
                                  operations=[laptop("a", "SN-C-1")], now=WHEN).key
    quote = files.pdf("Quote")
    added = attachments.add_change_file(db, attachments.Storage(), "sam", key,
                                        io.BytesIO(quote), "quote.pdf", now=WHEN)
    listed = attachments.change_files(db, key)
    assert listed.open and [(f.filename, f.added_by, f.content_type) for f in listed.files] == [
        ("quote.pdf", "sam", "application/pdf")]
    assert _body(attachments.change_file(db, attachments.Storage(), key, added.id)) == quote
    changes.move_change(db, key, "withdraw", "carol", now=WHEN + timedelta(hours=1),
                        comment="not needed")
    with pytest.raises(Refused):
        attachments.add_change_file(db, attachments.Storage(), "carol", key,
                                    io.BytesIO(files.CSV), "late.csv")
    assert len(attachments.change_files(db, key).files) == 1
    assert _blobs(db) == 1
    with pytest.raises(NotFound):
        attachments.add_change_file(db, attachments.Storage(), "carol", "CHG-999999",
                                    io.BytesIO(files.HTML), "x.html")
