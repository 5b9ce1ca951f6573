"""What import uploads leave behind: a claim dies with the process that held it (kill -9), a refused
upload leaves nothing on disk, an accepted one is deleted at once and an abandoned one after a
day, and each user keeps a bounded number of uploads (a clear 429 naming the limit beyond)."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import ApiClient, error_of
from tests.support.web import csrf_token, login
from usm.services import audit
from usm.services.audit import uploads

FOUND = b"class,name,serial_number\nhardware.laptop,Found,SN-U-1\n"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def _kept(tmp_path: Path) -> list[str]:
    folder = tmp_path / "instance" / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _upload(api: ApiClient, body: bytes = FOUND, user: str = "carol"):  # type: ignore[no-untyped-def]
    return api.post("/imports", user, query_string={"format": "csv"},
                    content_type="multipart/form-data", data={"file": (io.BytesIO(body), "f.csv")})


# -- claims -------------------------------------------------------------------------------------

HOLDER = """
import sys, time
from usm.services.audit import claim_upload
claim = claim_upload(sys.argv[1])
print("claimed" if claim is not None else "refused", flush=True)
time.sleep(120)
"""


def test_a_claim_dies_with_the_process_that_held_it(api: ApiClient, tmp_path: Path) -> None:
    token = _upload(api).get_json()["id"]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, token], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "USM_INSTANCE_PATH": str(tmp_path / "instance"),
             "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "claimed"
        assert audit.claim_upload(token) is None  # an accept is running in the other process
        busy = api.post(f"/imports/{token}/accept", json={"accept": "all"})
        assert busy.status_code == 409
        assert "being accepted by another request" in error_of(busy)["message"]
        os.kill(holder.pid, signal.SIGKILL)  # the worker dies in the middle of the accept
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    accepted = api.post(f"/imports/{token}/accept", json={"accept": "all"})
    assert accepted.status_code == 201, accepted.get_json()  # at once, not a day later


def test_one_claim_at_a_time_and_none_after_the_acceptance(api: ApiClient) -> None:
    token = _upload(api).get_json()["id"]
    first = audit.claim_upload(token)
    assert first is not None
    assert audit.claim_upload(token) is None
    audit.release_claim(first)
    second = audit.claim_upload(token)
    assert second is not None
    audit.record_acceptance(second, "CHG-000099")
    assert audit.claim_upload(token) is None
    assert audit.accepted_as(token) == "CHG-000099"
    again = api.post(f"/imports/{token}/accept", json={"accept": "all"})
    assert again.status_code == 409 and "CHG-000099" in error_of(again)["message"]


# -- what stays on disk -------------------------------------------------------------------------


def test_a_refused_oversize_upload_leaves_nothing(web_app: Flask, api: ApiClient,
                                                  tmp_path: Path) -> None:
    web_app.config["MAX_CONTENT_LENGTH"] = 4 * uploads.CHUNK
    body = b"class,name\n" + b"hardware.laptop,X\n" * (10 * uploads.CHUNK // 18)
    # Sent without a Content-Length (chunked), so the size shows only while the body is read.
    response = api.post("/imports", query_string={"format": "csv"}, content_type="text/csv",
                        input_stream=io.BytesIO(body),
                        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert error_of(response)["code"] == "payload_too_large"
    assert _kept(tmp_path) == []


def test_a_body_that_breaks_off_leaves_nothing(tmp_path: Path) -> None:
    class BrokenOff(io.RawIOBase):
        def __init__(self) -> None:
            self.sent = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.sent += 1
            if self.sent > 3:
                raise OSError("the client went away")
            return b"x" * uploads.CHUNK

    with pytest.raises(OSError, match="went away"):
        audit.store_upload(BrokenOff(), "carol")
    assert _kept(tmp_path) == []


def test_an_accepted_upload_is_deleted_at_once(api: ApiClient, tmp_path: Path) -> None:
    token = _upload(api).get_json()["id"]
    assert _kept(tmp_path) == [f"{token}.json", f"{token}.upload"]
    assert api.post(f"/imports/{token}/accept", json={"accept": "all"}).status_code == 201
    assert _kept(tmp_path) == [f"{token}.accepted"]  # only the name of the change it became


def test_abandoned_uploads_are_swept_after_a_day(api: ApiClient, tmp_path: Path) -> None:
    old, claimed, fresh = (_upload(api).get_json()["id"] for _ in range(3))
    folder = tmp_path / "instance" / "imports"
    (folder / f"{'0' * 32}.part").write_bytes(b"left by a worker that died")
    day_ago = time.time() - uploads.KEEP_SECONDS - 60
    for path in folder.iterdir():
        if not path.name.startswith(fresh):
            os.utime(path, (day_ago, day_ago))
    claim = audit.claim_upload(claimed)  # an accept running on an old upload keeps it
    assert claim is not None
    try:
        newest = _upload(api).get_json()["id"]
    finally:
        audit.release_claim(claim)
    assert _kept(tmp_path) == sorted([f"{claimed}.upload", f"{fresh}.json", f"{fresh}.upload",
                                      f"{newest}.json", f"{newest}.upload"])
    assert audit.upload_path(old) is None


# -- quota --------------------------------------------------------------------------------------


def test_each_user_keeps_at_most_five_uploads(api: ApiClient, tmp_path: Path) -> None:
    tokens = [_upload(api).get_json()["id"] for _ in range(uploads.MAX_UPLOADS_PER_USER)]
    refused = _upload(api)
    assert refused.status_code == 429
    error = error_of(refused)
    assert error["code"] == "upload_quota"
    assert error["fields"] == [{"field": "file", "message": "at most 5 uploads of 200 MB in all "
                                                            "are kept per user"}]
    assert len(_kept(tmp_path)) == 2 * uploads.MAX_UPLOADS_PER_USER  # nothing of the refused one
    assert _upload(api, user="ada").status_code == 403  # (not a coordinator: not counted)
    assert api.post(f"/imports/{tokens[0]}/accept", json={"accept": "all"}).status_code == 201
    assert _upload(api).status_code == 200  # the accepted one no longer counts


def test_the_bytes_a_user_keeps_are_limited(api: ApiClient, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_BYTES_PER_USER", 2 * len(FOUND) + 10)
    assert _upload(api).status_code == 200
    assert _upload(api).status_code == 200
    before = _kept(tmp_path)
    refused = _upload(api)
    assert refused.status_code == 429 and error_of(refused)["code"] == "upload_quota"
    assert _kept(tmp_path) == before  # the refused body was not kept, not even in part


def test_the_web_screen_names_the_quota(web_client: FlaskClient, tmp_path: Path) -> None:
    login(web_client, "carol")

    def upload() -> str:
        response = web_client.post("/audit/import", content_type="multipart/form-data", data={
            "csrf_token": csrf_token(web_client, "/audit/import"), "format": "csv",
            "match": "serial_number", "file": (io.BytesIO(FOUND), "found.csv")})
        return f"{response.status_code} {response.get_data(as_text=True)}"

    for _ in range(uploads.MAX_UPLOADS_PER_USER):
        assert upload().startswith("200 ")
    refused = upload()
    assert refused.startswith("429 ")
    assert re.search(r"at most 5 uploads of 200 MB in all are kept per user", refused)


def test_an_upload_nothing_can_be_accepted_from_is_not_kept(web_client: FlaskClient,
                                                             tmp_path: Path) -> None:
    login(web_client, "carol")
    response = web_client.post("/audit/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(web_client, "/audit/import"), "format": "csv",
        "match": "serial_number",
        "file": (io.BytesIO(FOUND + b"hardware.laptop,Again,SN-U-1\n"), "found.csv")})
    assert response.status_code == 400
    assert "Nothing can be accepted until the file is fixed" in response.get_data(as_text=True)
    assert _kept(tmp_path) == []
