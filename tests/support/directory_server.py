"""A real OpenLDAP directory for the LDAP sign-in tests: Debian's ``slapd`` on a free local port.

The directory is made from a generated ``slapd.conf`` in a temporary folder (mdb database, suffix
``dc=example,dc=org``, people under ``ou=people``, ``groupOfNames`` groups under ``ou=groups``)
and runs in the foreground for the test session. Users are added and changed over LDAP, as an
administrator would, by the fixture's methods.

A disabled account is what OpenLDAP's password policy overlay (``ppolicy``) makes of an
administrator's lock: ``pwdAccountLockedTime: 000001010000Z`` on the entry, after which the
directory refuses every bind as that user (as Active Directory refuses a disabled account).

Without ``slapd`` (``apt-get install slapd ldap-utils``) the tests that need it are skipped, or
fail when ``USM_REQUIRE_SSO=1`` (CI sets it).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SUFFIX = "dc=example,dc=org"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
ADMIN_DN = f"cn=admin,{SUFFIX}"
# groupOfNames must have a member: each group starts with this one, who is nobody.
PLACEHOLDER = f"cn=nobody,{SUFFIX}"
GROUP_NAMES = ("coordinators", "owners", "designers", "admins", "canteen")
SCHEMA = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")


def unavailable(reason: str) -> None:
    """Skip the test for ``reason``, or fail when the single sign-on tests are required."""
    if os.environ.get("USM_REQUIRE_SSO") == "1":
        pytest.fail(f"single sign-on tests required (USM_REQUIRE_SSO=1) but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ssha(password: str) -> str:
    """``password`` as OpenLDAP stores it: salted SHA-1 (``{SSHA}``)."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # the directory's format, not ours
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


class Directory:
    """The running directory, and an administrator's hands on it."""

    def __init__(self, url: str, admin_password: str):
        self.url = url
        self.admin_password = admin_password

    def settings(self, **overrides: str) -> dict[str, str]:
        """The ``USM_LDAP_*`` variables for this directory (users found by DN template)."""
        return {"USM_LDAP_URL": self.url,
                "USM_LDAP_USER_DN_TEMPLATE": f"uid={{username}},{PEOPLE}",
                "USM_LDAP_GROUP_BASE": GROUPS, "USM_LDAP_TIMEOUT": "5", **overrides}

    def add_user(self, uid: str, password: str, groups: tuple[str, ...] = (),
                 display_name: str | None = None) -> str:
        dn = f"uid={uid},{PEOPLE}"
        name = display_name or uid.capitalize()
        self._modify("add", dn, {"objectClass": ["inetOrgPerson"], "uid": uid, "cn": name,
                                 "sn": name.split()[-1], "displayName": name,
                                 "userPassword": ssha(password)})
        for group in groups:
            self.add_to_group(uid, group)
        return dn

    def add_to_group(self, uid: str, group: str) -> None:
        from ldap3 import MODIFY_ADD
        self._modify("modify", f"cn={group},{GROUPS}",
                     {"member": [(MODIFY_ADD, [f"uid={uid},{PEOPLE}"])]})

    def remove_from_group(self, uid: str, group: str) -> None:
        from ldap3 import MODIFY_DELETE
        self._modify("modify", f"cn={group},{GROUPS}",
                     {"member": [(MODIFY_DELETE, [f"uid={uid},{PEOPLE}"])]})

    def disable(self, uid: str) -> None:
        """Lock the account for good, as the password policy overlay's administrative lock."""
        from ldap3 import MODIFY_REPLACE
        self._modify("modify", f"uid={uid},{PEOPLE}",
                     {"pwdAccountLockedTime": [(MODIFY_REPLACE, ["000001010000Z"])]})

    def _modify(self, operation: str, dn: str, changes: dict[str, object]) -> None:
        from ldap3 import Connection, Server
        connection = Connection(Server(self.url), ADMIN_DN, self.admin_password)
        try:
            assert connection.bind(), f"bind as {ADMIN_DN}: {connection.result}"
            if operation == "add":
                done = connection.add(dn, attributes=changes)
            else:
                done = connection.modify(dn, changes)
            assert done, f"{operation} {dn}: {connection.result}"
        finally:
            connection.unbind()


def _tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin")  # not on a user's PATH


def _config(folder: Path, admin_password: str) -> Path:
    (folder / "data").mkdir()
    config = folder / "slapd.conf"
    config.write_text(f"""\
include {SCHEMA}/core.schema
include {SCHEMA}/cosine.schema
include {SCHEMA}/inetorgperson.schema
include {SCHEMA}/nis.schema
modulepath {MODULES}
moduleload back_mdb
moduleload ppolicy
pidfile {folder}/slapd.pid
database mdb
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ssha(admin_password)}
directory {folder}/data
maxsize 104857600
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{SUFFIX}"
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by users read by * none
""", encoding="utf-8")
    return config


def _base_entries() -> str:
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=policies,{SUFFIX}\nobjectClass: organizationalUnit\nou: policies",
        f"dn: cn=default,ou=policies,{SUFFIX}\nobjectClass: pwdPolicy\nobjectClass: device\n"
        "cn: default\npwdAttribute: userPassword\npwdLockout: TRUE",
        *(f"dn: cn={name},{GROUPS}\nobjectClass: groupOfNames\ncn: {name}\nmember: {PLACEHOLDER}"
          for name in GROUP_NAMES),
    ]
    return "\n\n".join(entries) + "\n"


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd stopped: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("slapd did not start listening within 20 s")


def run_directory(folder: Path) -> Iterator[Directory]:
    """Start slapd in ``folder`` for as long as the generator is open."""
    slapd, slapadd = _tool("slapd"), _tool("slapadd")
    if not slapd or not slapadd or not (MODULES / "back_mdb.la").exists():
        unavailable("OpenLDAP's slapd is not installed (apt-get install slapd ldap-utils)")
        return
    admin_password = secrets.token_urlsafe(12)
    config = _config(folder, admin_password)
    (folder / "base.ldif").write_text(_base_entries(), encoding="utf-8")
    subprocess.run([slapadd, "-q", "-f", str(config), "-l", str(folder / "base.ldif")],
                   check=True, capture_output=True)
    port, log = free_port(), folder / "slapd.log"
    url = f"ldap://127.0.0.1:{port}"
    with log.open("wb") as output:
        # -d 0: stay in the foreground (the test owns the process) and log nothing but errors.
        process = subprocess.Popen([slapd, "-d", "0", "-h", f"{url}/", "-f", str(config)],
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, log)
        yield Directory(url, admin_password)
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """End a server the tests started: politely, then for sure."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
