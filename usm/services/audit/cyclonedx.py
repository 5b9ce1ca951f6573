"""CycloneDX 1.4 to 1.6 (JSON) read as the software installed on one host: an npm project's SBOM
(@cyclonedx/cyclonedx-npm, components nested as node_modules nests them) and an OBOM of a whole
host (cdxgen ``-t os``, from osquery: OS packages, Windows programs, services, processes, ports,
certificates, ...).

Only software components (``SOFTWARE_TYPES``) become installation rows; everything else is
counted per kind in the ``SbomReport`` (reported, never registered). A component that repeats a
package already read (the same package identity: its purl without the qualifiers that do not
change identity, else group + name + version) is one installation, counted as repeated.

The file is streamed in two passes over the (seekable) file, so a large SBOM is never held whole:
the first checks the JSON and reads the metadata (which the specification lets come after the
components) and the host; the second builds one top-level component at a time."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import unquote

import ijson

from usm.services.audit.found import ImportFailed, ImportProblem, SbomReport
from usm.services.reports.licences import product_key

RawRow = tuple[int, dict[str, Any]]
_IJSON = ijson.get_backend("python")  # see readers.py: the C backend crashes on huge integers

# Component types that are software installed on the host. A container image and a platform
# (a runtime that executes software, such as a JRE or .NET) are installed, upgraded and licensed
# like any application, so they count as software too. A device driver ships with its device or
# the OS (a Windows host lists hundreds), and data, files, devices, machine-learning models and
# cryptographic assets (certificates, keys) are not installations: those are counted only.
SOFTWARE_TYPES = frozenset({"application", "library", "framework", "operating-system",
                            "firmware", "container", "platform"})
# metadata.component types that describe the host itself rather than software on it.
HOST_TYPES = frozenset({"device", "machine"})
CATEGORY = "cdx:osquery:category"  # what cdxgen's OBOM says a component came from
# cdxgen OBOM categories that are the host's running state or its settings, not software,
# whatever type they carry (listening ports are typed application): kind reported for each.
RUNTIME_CATEGORIES = {
    "listening_ports": "listening port", "privileged_listening_ports": "listening port",
    "process_open_sockets": "open socket", "processes": "process",
    "elevated_processes": "process", "services_snapshot": "service", "services": "service",
    "certificates": "certificate", "secureboot_certificates": "certificate",
    "scheduled_tasks": "scheduled task", "startup_items": "startup item",
    "windows_drivers": "device driver", "kernel_modules": "kernel module",
    "windows_patches": "patch", "kernel_info": "kernel", "system_info_snapshot": "system info",
}
# Where cdxgen's OBOM says the host's name: the system_info component's properties.
SYSTEM_INFO_CATEGORIES = frozenset({"system_info", "system_info_snapshot"})
HOSTNAME_PROPERTIES = ("hostname", "host_name", "computer_name", "local_hostname")
# purl qualifiers that change what is installed (the others say where it came from).
IDENTITY_QUALIFIERS = frozenset({"arch", "classifier", "type", "tag_id"})
# purl types whose names are case-insensitive.
_CASE_INSENSITIVE = frozenset({"npm", "pypi", "github", "bitbucket", "composer", "nuget"})
NO_HOST = ("names no host: looked for metadata.component of type device (its hostname property, "
           "else its name), a hostname property in metadata.properties, and cdxgen's system_info "
           "component (hostname, computer_name); an operating-system or application "
           "metadata.component is the software, not the host. Choose the host the software is on "
           "(its key or host name)")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_PLUSES = re.compile(r"(?<=[^+\s])(\++)(?=[^+\s])")


def cyclonedx_rows(stream: IO[bytes], name: str, *, host: str | None = None,
                   report: SbomReport | None = None) -> Iterator[RawRow]:
    """The software components of a CycloneDX document as installations on its host; ``host``
    (a key or host name) is the coordinator's choice, used instead of what the document says.
    ``report`` collects the host and what is reported but not registered. Rows are numbered by
    the components' order in the document, nested ones included, from 1; the software that
    ``metadata.component`` describes (an OS, the npm project) is row 0."""
    report = SbomReport() if report is None else report
    outline = _sbom_outline(stream, name)
    if not outline.top_is_object or outline.bom_format != "CycloneDX":
        raise ImportFailed([ImportProblem(name, 0, "bomFormat", "not a CycloneDX SBOM "
                                          "(bomFormat must be 'CycloneDX')")])
    if isinstance(outline.spec_version, str):
        report.spec_version = outline.spec_version[:10]
    _choose_host(outline, host, name, report)
    if outline.components == "other":
        raise ImportFailed([ImportProblem(name, 0, "components", "is not a list of components")])
    if outline.services:
        report.count("service", outline.services)
    rows = _Rows(report)
    root = outline.root
    if isinstance(root, dict) and root.get("type") not in HOST_TYPES and root.get("type"):
        row = rows.row(root)
        if row is not None:
            yield 0, row
    if outline.components != "list":
        return  # absent, null or empty: nothing installed
    number = 0
    for top in _sbom_components(stream, name, outline.lists):
        for component in _flattened(top):
            number += 1
            if not isinstance(component, dict):
                raise ImportFailed([ImportProblem(name, number, "components",
                                                  "is not an object")])
            row = rows.row(component)
            if row is not None:
                yield number, row


class _Rows:
    """Components to rows: software only, each package identity once."""

    def __init__(self, report: SbomReport) -> None:
        self.report = report
        self.identities: set[str] = set()
        self.products: set[tuple[str, str]] = set()

    def row(self, component: dict[str, Any]) -> dict[str, Any] | None:
        report = self.report
        report.components += 1
        kind = not_software(component)
        if kind is not None:
            report.count(kind)
            return None
        purl = _purl(component.get("purl"))
        product = product_name(component, purl)
        version = _text(component.get("version"))
        identity = package_identity(component, purl, product, version)
        same_product = (product_key(product), version or "")
        if product or purl:  # a nameless component is not deduplicated: it is named a problem
            if identity in self.identities or same_product in self.products:
                report.repeated += 1  # one installation listed again (another node_modules path)
                return None
            self.identities.add(identity)
            self.products.add(same_product)
        row = {"class": "software.installation", "installed_on": report.host,
               "attributes.product": product, "attributes.product_version": version,
               "attributes.vendor": vendor_name(component)}
        return {k: v for k, v in row.items() if v is not None}


def not_software(component: dict[str, Any]) -> str | None:
    """``None`` for a software component; else the kind it is reported as (certificate,
    service, process, listening port, data, device, ...)."""
    kind = component.get("type")
    category = _property(component.get("properties"), CATEGORY)
    if category in RUNTIME_CATEGORIES:
        return RUNTIME_CATEGORIES[category]
    if kind is None or kind in SOFTWARE_TYPES:
        return None
    if kind == "cryptographic-asset":
        crypto = component.get("cryptoProperties")
        asset = crypto.get("assetType") if isinstance(crypto, dict) else None
        return "certificate" if asset == "certificate" else "cryptographic-asset"
    label = str(kind)[:40]
    return f"{label} ({str(category)[:40]})" if category else label


def product_name(component: dict[str, Any], purl: _Purl | None = None) -> str | None:
    """The product as the register names it: the component's group and name (``@angular/core``,
    ``org.apache.commons:commons-lang3``), '+' and %-encoding decoded, spaces collapsed."""
    decode_plus = (_property(component.get("properties"), CATEGORY) is not None
                   or (purl is not None and purl.type == "swid"))
    name = _decoded(component.get("name"), decode_plus) or (purl.name if purl else None)
    if not name:
        return None
    group = _decoded(component.get("group"), decode_plus)
    if group is None and purl is not None and purl.type in ("npm", "maven"):
        group = purl.namespace
    if not group:
        return name
    separator = ":" if purl is not None and purl.type == "maven" else \
        "." if purl is not None and purl.type == "vscode-extension" else "/"
    return f"{group}{separator}{name}"


def vendor_name(component: dict[str, Any]) -> str | None:
    """The publisher, else the supplier's or (1.6) the manufacturer's name, else the author."""
    for value in (component.get("publisher"), _name_of(component.get("supplier")),
                  _name_of(component.get("manufacturer")), component.get("author")):
        text = _text(value)
        if text:
            return text
    return None


def package_identity(component: dict[str, Any], purl: _Purl | None, product: str | None,
                     version: str | None) -> str:
    """What makes two components the same package: the purl without the qualifiers that do not
    change identity (a download URL, a distro), else group + name + version."""
    if purl is not None:
        return purl.identity
    return f"{product_key(product)}@{version or ''}"


@dataclass(frozen=True)
class _Purl:
    type: str
    namespace: str | None
    name: str
    version: str | None
    identity: str


def _purl(value: Any) -> _Purl | None:
    """``pkg:type/namespace/name@version?qualifiers#subpath``, its parts %-decoded; ``None``
    for anything else."""
    if not isinstance(value, str) or not value.startswith("pkg:"):
        return None
    rest = value[4:].lstrip("/").split("#", 1)[0]
    rest, _, query = rest.partition("?")
    version = None
    head, at, tail = rest.rpartition("@")
    if at and "/" not in tail and "/" in head:
        rest, version = head, unquote(tail) or None
    parts = [unquote(p) for p in rest.split("/") if p]
    if len(parts) < 2:
        return None
    kind, namespace, name = parts[0].lower(), "/".join(parts[1:-1]) or None, parts[-1]
    qualifiers = sorted(
        (k.lower(), unquote(v)) for k, _, v in (q.partition("=") for q in query.split("&") if q)
        if k.lower() in IDENTITY_QUALIFIERS)
    ident_ns, ident_name = namespace or "", name
    if kind in _CASE_INSENSITIVE:
        ident_ns, ident_name = ident_ns.casefold(), ident_name.casefold()
        if kind == "pypi":
            ident_name = ident_name.replace("_", "-")
    identity = f"pkg:{kind}/{ident_ns}/{ident_name}@{version or ''}" + "".join(
        f"&{k}={v}" for k, v in qualifiers)
    return _Purl(kind, namespace, name, version, identity)


def _decoded(value: Any, plus: bool) -> str | None:
    """A name as people write it: %-escapes decoded, and (``plus``: a name cdxgen wrote with a '+'
    for every space) '+' between words made a space again, a run of them keeping all but the
    last ('Notepad+++8.5' is 'Notepad++ 8.5')."""
    text = _text(value)
    if text is None:
        return None
    if _PERCENT.search(text):
        text = unquote(text)
    if plus and " " not in text and "+" in text:
        text = _PLUSES.sub(lambda m: m.group(1)[:-1] + " ", text)
    return " ".join(text.split()) or None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = " ".join(str(value).split())
    return text or None


def _name_of(value: Any) -> Any:
    return value.get("name") if isinstance(value, dict) else None


def _property(properties: Any, name: str) -> str | None:
    """The value of the first property called ``name`` of a CycloneDX property list."""
    if isinstance(properties, list):
        for p in properties:
            if isinstance(p, dict) and p.get("name") == name and isinstance(p.get("value"), str):
                return str(p["value"])
    return None


def _hostname(pairs: list[tuple[Any, Any]]) -> str | None:
    """The host name among (name, value) properties: ``hostname`` first, then ``host_name``,
    ``computer_name``, ``local_hostname`` (any namespace: ``cdx:host:hostname`` too)."""
    found: dict[str, str] = {}
    for key, value in pairs:
        if isinstance(key, str) and (text := _text(value)):
            found.setdefault(key.rsplit(":", 1)[-1].casefold(), text)
    return next((found[n] for n in HOSTNAME_PROPERTIES if n in found), None)


def _pairs(properties: Any) -> list[tuple[Any, Any]]:
    if not isinstance(properties, list):
        return []
    return [(p.get("name"), p.get("value")) for p in properties if isinstance(p, dict)]


def _choose_host(outline: _Outline, chosen: str | None, name: str, report: SbomReport) -> None:
    """The host: the coordinator's choice, else what the document says (as cdxgen describes a
    host), else ``ImportFailed`` naming what was looked for."""
    if chosen and chosen.strip():
        report.host, report.host_from = chosen.strip(), "chosen"
        return
    root = outline.root
    if isinstance(root, dict) and (root.get("type") in HOST_TYPES or root.get("type") is None):
        # A device, or (older files) a component without a type, names the host.
        found = _hostname(_pairs(root.get("properties"))) or _text(root.get("name"))
        if found:
            report.host, report.host_from = found, "metadata.component"
            return
    found = _hostname(outline.properties)
    if found:
        report.host, report.host_from = found, "metadata.properties"
        return
    if outline.system_host:
        report.host, report.host_from = outline.system_host, "system_info"
        return
    raise ImportFailed([ImportProblem(name, 0, "metadata.component.name", NO_HOST)])


def _flattened(component: Any) -> Iterator[Any]:
    """A component, then its nested components (depth first, in document order)."""
    stack = [component]
    while stack:
        current = stack.pop()
        yield current
        nested = current.get("components") if isinstance(current, dict) else None
        if isinstance(nested, list):
            stack.extend(reversed(nested))


# -- streaming ------------------------------------------------------------------------------------

MAX_DEPTH = 500  # JSON nested deeper is refused (json.load gave up near 1000, by recursion)
_START, _END = {"start_map", "start_array"}, {"end_map", "end_array"}
_BOM = "\ufeff".encode()


@dataclass
class _Outline:
    """What the first pass over an SBOM finds: as ``json.load`` would, the last of repeated
    keys wins."""

    top_is_object: bool = False
    bom_format: Any = None
    spec_version: Any = None
    root: Any = None  # metadata.component, whole
    properties: list[tuple[Any, Any]] = field(default_factory=list)  # metadata.properties
    system_host: str | None = None  # the host name of cdxgen's system_info component
    services: int = 0  # items of the top-level services list
    components: str = "absent"  # list, empty (null, false, 0, "" or {}), other
    lists: int = 0  # how many top-level "components" keys were lists (the last one counts)


def _events(stream: IO[bytes], name: str) -> Iterator[tuple[str, Any]]:
    """ijson's events from the start of ``stream`` (a UTF-8 BOM skipped); bad JSON, JSON nested
    deeper than ``MAX_DEPTH`` and numbers over Python's digit limit are ``ImportFailed``."""
    stream.seek(0)
    if stream.read(len(_BOM)) != _BOM:
        stream.seek(0)
    depth = 0
    try:
        for event, value in _IJSON.basic_parse(stream, use_float=False):
            depth += (event in _START) - (event in _END)
            if depth > MAX_DEPTH:
                raise RecursionError
            yield event, value
        _check_utf8_ending(stream)
    except (ijson.JSONError, ValueError, RecursionError) as exc:  # also UnicodeDecodeError
        message = "nested too deeply" if isinstance(exc, RecursionError) else \
            (str(exc).splitlines() or ["unreadable"])[0][:120]  # a symbol may be huge
        raise ImportFailed([ImportProblem(name, 0, "-", f"not valid JSON: {message}")]) from exc


def _check_utf8_ending(stream: IO[bytes]) -> None:
    """ijson ignores a UTF-8 sequence cut short at the very end of the file; refuse it too."""
    size = stream.seek(0, io.SEEK_END)
    stream.seek(max(0, size - 4))
    stream.read().lstrip(bytes(range(0x80, 0xC0))).decode("utf-8")


def _where(path: list[str | int]) -> str:
    """``components[36].properties[2].value``: the place in the document ``path`` is at."""
    text = ""
    for step in path:
        text += f"[{max(step, 0)}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


class _OutlineReader:
    """The first pass, event by event. ``path`` holds, per open container, the current key of
    a map or the index of the current item of a list (-1 before the first)."""

    def __init__(self) -> None:
        self.outline = _Outline()
        self.path: list[str | int] = []
        self.first = True
        self.empty_map_check = False  # "components" began as an object: is it the empty one?
        self.root: ijson.ObjectBuilder | None = None  # metadata.component being built
        self.pair: dict[str, Any] = {}  # the property being read (name, value)
        self.component_pairs: list[tuple[Any, Any]] = []  # of the top-level component

    def shape(self) -> tuple[str | None, ...]:
        """Where the reader is, list indexes left out; every place read is at most 5 deep, so
        a deeper one is not spelled out (a deep document costs no more per event)."""
        if len(self.path) > 5:
            return ()
        return tuple(None if isinstance(p, int) else p for p in self.path)

    def take(self, event: str, value: Any) -> None:
        o = self.outline
        if self.first:
            o.top_is_object, self.first = event == "start_map", False
        if self.empty_map_check:
            o.components = "empty" if event == "end_map" else "other"
            self.empty_map_check = False
        if self.root is not None:
            self.root.event(event, value)
        if event == "map_key":
            self.path[-1] = value
            return
        if event in _END:
            self.path.pop()
            self._ended(event)
            return
        if self.path and isinstance(self.path[-1], int):
            self.path[-1] += 1
        self._value(event, value, self.shape())
        if event in _START:
            self.path.append("" if event == "start_map" else -1)

    def _value(self, event: str, value: Any, where: tuple[str | None, ...]) -> None:
        """A value (or a container starting) at ``where``."""
        o = self.outline
        if where == ("bomFormat",):
            o.bom_format = value if event not in _START else None
        elif where == ("specVersion",):
            o.spec_version = value if event not in _START else None
        elif where == ("metadata",):
            o.root, o.properties = None, []
        elif where == ("metadata", "component"):
            o.root = None
            if event == "start_map":
                self.root = ijson.ObjectBuilder()
                self.root.event(event, value)
            elif event not in _START:
                o.root = value
        elif where == ("metadata", "properties"):
            o.properties = []
        elif where in (("metadata", "properties", None, "name"),
                       ("metadata", "properties", None, "value"),
                       ("components", None, "properties", None, "name"),
                       ("components", None, "properties", None, "value")):
            if event not in _START:
                self.pair[str(where[-1])] = value
        elif where == ("services",):
            o.services = 0
        elif where == ("services", None):
            o.services += 1
        elif where == ("components",):
            if event == "start_array":
                o.components, o.lists = "list", o.lists + 1
            elif event == "start_map":
                self.empty_map_check = True
            else:
                o.components = "other" if value else "empty"
        elif where == ("components", None):
            self.component_pairs = []

    def _ended(self, event: str) -> None:
        """A container closed; ``path`` is back at its parent."""
        where = self.shape()
        if event != "end_map":
            return
        if where == ("metadata", "component") and self.root is not None:
            self.outline.root, self.root = self.root.value, None
        elif where == ("metadata", "properties", None):
            self.outline.properties.append((self.pair.get("name"), self.pair.get("value")))
            self.pair = {}
        elif where == ("components", None, "properties", None):
            self.component_pairs.append((self.pair.get("name"), self.pair.get("value")))
            self.pair = {}
        elif where == ("components", None):
            pairs = dict((k, v) for k, v in self.component_pairs if isinstance(k, str))
            if pairs.get(CATEGORY) in SYSTEM_INFO_CATEGORIES and not self.outline.system_host:
                self.outline.system_host = _hostname(self.component_pairs)
            self.component_pairs = []


def _sbom_outline(stream: IO[bytes], name: str) -> _Outline:
    """The first pass: the whole file is valid JSON (or ``ImportFailed`` saying where it broke),
    and what it says."""
    reader = _OutlineReader()
    try:
        for event, value in _events(stream, name):
            reader.take(event, value)
    except ImportFailed as exc:
        where = _where(reader.path)
        if not where:
            raise
        problem = exc.problems[0]
        raise ImportFailed([ImportProblem(name, problem.row, problem.column,
                                          f"{problem.message} (in {where})")]) from exc
    return reader.outline


def _sbom_components(stream: IO[bytes], name: str, lists: int) -> Iterator[Any]:
    """Each item of the last top-level ``components`` list, built one at a time."""
    path: list[str | None] = []  # per open container: the current key of a map, None in a list
    seen = 0  # top-level "components" lists begun
    builder: ijson.ObjectBuilder | None = None  # the component being built
    for event, value in _events(stream, name):
        if builder is not None:
            builder.event(event, value)
        elif seen == lists and path == ["components", None] and event != "end_array":
            if event in _START:
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
            else:
                yield value  # not an object: the caller names it
        if event == "map_key":
            path[-1] = value
        elif event in _END:
            path.pop()
            if builder is not None and len(path) == 2:  # back in the list: the item is whole
                yield builder.value
                builder = None
        elif event in _START:
            if path == ["components"] and event == "start_array":
                seen += 1
            path.append("" if event == "start_map" else None)
