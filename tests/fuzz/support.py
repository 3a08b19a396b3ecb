"""The fuzz suite's machinery: Hypothesis profiles, mutators for XML, JSON, forms and bytes,
and the invariants every answer must keep.

Profiles (environment variable HYPOTHESIS_PROFILE): unset, the bounded run of `make test`
(derandomized: the same examples every run, no example database); `fuzz`, the long run of
`make fuzz` (random, failing examples kept in `.hypothesis/`, which git ignores).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, currently_in_test_context, event, settings
from hypothesis import strategies as st
from lxml import etree

from tests.support import read_cxml

FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
# `make fuzz` runs 40 times the examples of `make test` (FUZZ_FACTOR=n for another multiple).
LONG_RUN_FACTOR = int(os.environ.get("FUZZ_FACTOR", "40"))
_SUPPRESSED = [
    # One world per test function (tables, products, sessions), shared by its examples on
    # purpose: the invariants are checked against a digest taken before each request.
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]
settings.register_profile(
    "fuzz-bounded",
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SUPPRESSED,
)
settings.register_profile(
    "fuzz",
    derandomize=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    deadline=None,
    print_blob=True,
    suppress_health_check=_SUPPRESSED,
)


def fuzz_settings(examples: int) -> settings:
    """`examples` in `make test`; many more under HYPOTHESIS_PROFILE=fuzz."""
    if FUZZ:
        return settings(settings.get_profile("fuzz"), max_examples=examples * LONG_RUN_FACTOR)
    return settings(settings.get_profile("fuzz-bounded"), max_examples=examples)


# --- hostile values ---------------------------------------------------------------------------

HOSTILE_TEXT = [
    "",
    " ",
    "0",
    "-1",
    "²",
    "¹",
    "٣",
    "\uff11\uff12",  # fullwidth digits
    "1" * 5000,
    "9" * 40,
    "1e400",
    "1E+400000",
    "NaN",
    "-Infinity",
    "0x10",
    "1.5",
    " 3 ",
    "true",
    "null",
    "\u202e\u0000",
    "€uro",
    "💥" * 3,
    "<b>&amp;</b>",
    "]]>",
    "https://[x",
    "https://a.example;frame-ancestors *;x/cart",
    "javascript:alert(1)",
    "../../etc/passwd",
    "%00%ff",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "'; DROP TABLE x; --",
]
HOSTILE_BYTES = [
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"]]>",
    b"<!--",
    b"&#0;",
    b"&#xFFFF;",
    b'<!ENTITY x SYSTEM "file:///etc/passwd">',
    b"&x;",
    b"<",
    b"%",
    b"%ZZ",
    b"\r\n\r\n",
]


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=40),
        st.integers().map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.builds(
            lambda c, n: c * n, st.sampled_from(["A", "é", "9", "<", "&"]), st.integers(1, 300_000)
        ),
    )


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        hostile_text(),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=12), children, max_size=4),
        ),
        max_leaves=8,
    )


RAW = "\x00RAW\x00"
"""A string value starting with RAW is written into the JSON text as it is (numbers JSON allows
but Python cannot write: 1E+400000, 5,000 digits; or a nesting of 30,000 brackets)."""
RAW_JSON = [
    "1E+400000",
    "-1e-400000",
    "9" * 5000,
    "1" + "0" * 30,
    "-0",
    "[" * 30000 + "]" * 30000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    "2147483648",
    "1.0",
]


# --- byte level -------------------------------------------------------------------------------


@st.composite
def byte_mutations(draw: st.DrawFn, body: bytes) -> bytes:
    """Flip, insert, delete, duplicate or truncate bytes of a serialized request."""
    data = bytearray(body)
    # Half the mutations land where values start (after `>`, `="`, `=`, `":`), so documents
    # often stay well-formed and the change reaches the code reading the value.
    values = [m.end() for m in re.finditer(rb'>|="|=|": ?', body)] or [0]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ["flip", "insert", "text", "text", "delete", "duplicate", "truncate", "splice"]
            )
        )
        at = draw(st.one_of(st.integers(0, max(len(data) - 1, 0)), st.sampled_from(values)))
        at = min(at, max(len(data) - 1, 0))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "text":
            data[at:at] = draw(st.sampled_from(HOSTILE_TEXT)).encode("utf-8")
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "duplicate":
            piece = data[at : at + draw(st.integers(1, 256))]
            data[at:at] = piece * draw(st.integers(1, 50))
        elif op == "truncate":
            del data[at:]
        else:
            data[at:at] = draw(st.sampled_from(HOSTILE_BYTES))
    return bytes(data)


# --- XML structure ----------------------------------------------------------------------------

_PARSER = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
XML_OPS = [
    "drop",
    "duplicate",
    "reorder",
    "retype-text",
    "oversize-text",
    "drop-attribute",
    "retype-attribute",
    "add-attribute",
    "rename",
    "nest",
    "empty",
]
ENCODINGS = ["UTF-8", "UTF-16", "ISO-8859-1", "US-ASCII", "mislabelled", "bom", "no-declaration"]


def _elements(root: Any) -> list[Any]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def _mutate_element(draw: st.DrawFn, root: Any) -> None:
    elements = _elements(root)
    element = draw(st.sampled_from(elements))
    parent = element.getparent()
    op = draw(st.sampled_from(XML_OPS))
    if op == "drop" and parent is not None:
        parent.remove(element)
    elif op == "duplicate" and parent is not None:
        # Many copies of small elements only: a body stays within API Gateway's 10 MB.
        small = len(etree.tostring(element)) < 20_000
        for _ in range(draw(st.sampled_from([1, 2, 200] if small else [1, 2]))):
            element.addnext(copy.deepcopy(element))
    elif op == "reorder" and len(element):
        children = list(element)
        order = draw(st.permutations(range(len(children))))
        for child in children:
            element.remove(child)
        for index in order:
            element.append(children[index])
    elif op == "retype-text":
        element.text = _xml_safe(draw(hostile_text()))
    elif op == "oversize-text":
        element.text = "X" * draw(st.sampled_from([5_000, 300_000, 1_100_000]))
    elif op == "drop-attribute" and element.attrib:
        del element.attrib[draw(st.sampled_from(sorted(element.attrib)))]
    elif op == "retype-attribute" and element.attrib:
        name = draw(st.sampled_from(sorted(element.attrib)))
        element.set(name, _xml_safe(draw(hostile_text())))
    elif op == "add-attribute":
        element.set(draw(st.sampled_from(["id", "code", "x", "lineNumber", "quantity"])),
                    _xml_safe(draw(hostile_text())))  # fmt: skip
    elif op == "rename":
        element.tag = draw(st.sampled_from(["Foo", "cXML", "Request", "ItemOut", "Status"]))
    elif op == "nest":
        inner = element
        for _ in range(draw(st.sampled_from([2, 50, 1000]))):
            inner = etree.SubElement(inner, element.tag)
    elif op == "empty":
        for child in list(element):
            element.remove(child)
        element.text = None


def _xml_safe(text: str) -> str:
    """lxml refuses characters XML cannot carry; the byte-level mutator sends those."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "?", text)


def _serialize(draw: st.DrawFn, tree: Any) -> bytes:
    encoding = draw(st.sampled_from(ENCODINGS))
    doctype = tree.docinfo.doctype or None
    if encoding == "mislabelled":
        body = etree.tostring(tree, encoding="ISO-8859-1", xml_declaration=True, doctype=doctype)
        return body.replace(b"ISO-8859-1", b"UTF-8", 1)
    if encoding == "bom":
        return b"\xef\xbb\xbf" + etree.tostring(
            tree, encoding="UTF-8", xml_declaration=True, doctype=doctype
        )
    if encoding == "no-declaration":
        return bytes(etree.tostring(tree, encoding="UTF-8", xml_declaration=False, doctype=doctype))
    return bytes(etree.tostring(tree, encoding=encoding, xml_declaration=True, doctype=doctype))


@st.composite
def mutated_xml(draw: st.DrawFn, documents: list[bytes]) -> bytes:
    """A real document with one to three structural changes, serialized in some encoding."""
    document = draw(st.sampled_from(documents))
    tree = etree.ElementTree(etree.fromstring(document, _PARSER))
    for _ in range(draw(st.integers(1, 3))):
        _mutate_element(draw, tree.getroot())
    return _serialize(draw, tree)


# --- JSON structure ---------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


JSON_OPS = ["drop", "duplicate", "reorder", "retype", "raw", "oversize", "nest", "add-key"]


@st.composite
def mutated_json(draw: st.DrawFn, payload: Any) -> bytes:
    """A valid payload with one to three structural changes, then encoded."""
    value = json.loads(json.dumps(payload))
    duplicate_keys: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(value)))
        op = draw(st.sampled_from(JSON_OPS))
        replacement: Any
        if not path:
            if op in ("retype", "raw"):
                value = (
                    draw(json_values()) if op == "retype" else RAW + draw(st.sampled_from(RAW_JSON))
                )
            continue
        parent, key = _get(value, path[:-1]), path[-1]
        current = parent[key]
        if op == "drop":
            del parent[key]
        elif op == "duplicate":
            if isinstance(parent, list):
                parent.insert(key, current)
            else:
                duplicate_keys.append(key)
        elif op == "reorder" and isinstance(current, dict | list):
            items = list(current.items()) if isinstance(current, dict) else list(current)
            order = draw(st.permutations(range(len(items))))
            reordered = [items[i] for i in order]
            parent[key] = dict(reordered) if isinstance(current, dict) else reordered
        elif op in ("retype", "raw", "oversize", "nest"):
            if op == "retype":
                replacement = draw(json_values())
            elif op == "raw":
                replacement = RAW + draw(st.sampled_from(RAW_JSON))
            elif op == "oversize":
                replacement = draw(
                    st.sampled_from(["x" * 70_000, ["x"] * 5000, {str(i): i for i in range(3000)}])
                )
            else:
                replacement = current
                for _ in range(draw(st.sampled_from([2, 100, 400]))):  # deeper: RAW_JSON
                    replacement = [replacement]
            parent[key] = replacement
        elif op == "add-key" and isinstance(current, dict):
            current[draw(st.sampled_from(["__proto__", "", "id", "pk", "extra"]))] = draw(
                json_values()
            )
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    text = re.sub(r'"\\u0000RAW\\u0000([^"]*)"', lambda m: m.group(1), text)
    for key in duplicate_keys:
        # The same key twice: JSON parsers keep the last; the first may be a different type.
        text = text.replace(f'"{key}":', f'"{key}": null, "{key}":', 1)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


# --- forms and queries ------------------------------------------------------------------------


@st.composite
def mutated_form(draw: st.DrawFn, fields: list[tuple[str, str]]) -> bytes:
    """A form the browser would post, with fields dropped, repeated, reordered, retyped,
    oversized, renamed, and encoded as UTF-8, Latin-1 or broken percent-escapes."""
    pairs = list(fields)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["drop", "duplicate", "reorder", "retype", "oversize", "add"]))
        at = draw(st.integers(0, max(len(pairs) - 1, 0)))
        if op == "drop" and pairs:
            del pairs[at]
        elif op == "duplicate" and pairs:
            pairs.insert(at, (pairs[at][0], draw(hostile_text())))
        elif op == "reorder":
            pairs = [pairs[i] for i in draw(st.permutations(range(len(pairs))))]
        elif op == "retype" and pairs:
            pairs[at] = (pairs[at][0], draw(hostile_text()))
        elif op == "oversize" and pairs:
            pairs[at] = (pairs[at][0], "9" * draw(st.sampled_from([5000, 70_000])))
        else:
            pairs.append((draw(st.sampled_from(["estimate.hours", "request_id", "x", ""])),
                          draw(hostile_text())))  # fmt: skip
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "raw"]))
    if encoding == "raw":
        return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", errors="replace")
    return "&".join(
        f"{quote(k, safe='', encoding=encoding, errors='replace')}="
        f"{quote(v, safe='', encoding=encoding, errors='replace')}"
        for k, v in pairs
    ).encode("ascii")


# --- sending and checking ---------------------------------------------------------------------

TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages", '.py", line')


@dataclass
class Exchange:
    """One request of a fuzz run and what it was answered, for the failure message."""

    kind: str
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    status: int = 0
    answer_headers: list[tuple[str, str]] = field(default_factory=list)
    answer: bytes = b""
    cxml_code: int | None = None

    def __str__(self) -> str:
        return (
            f"{self.method} {self.path}?{self.query} ({self.kind}) {self.headers}\n"
            f"body[:600]={self.body[:600]!r}\n-> HTTP {self.status} cXML {self.cxml_code} "
            f"{self.answer[:600]!r}"
        )


@dataclass
class Counter:
    requests: int = 0


REQUESTS = Counter()
"""Requests sent by the fuzz tests of this process (reported at the end of the run)."""


def state_digest(aws: dict[str, Any]) -> str:
    """Every item of every table but the activity log, every stored object and every mail
    sent, as one digest."""
    from tests.conftest import _sent_messages

    dynamodb, s3 = aws["dynamodb"], aws["s3"]
    parts: list[Any] = []
    for name in sorted(dynamodb.list_tables()["TableNames"]):
        if name == _activity_table():
            continue
        items = dynamodb.scan(TableName=name)["Items"]
        parts.append([name, sorted(json.dumps(i, sort_keys=True) for i in items)])
    for bucket in s3.list_buckets()["Buckets"]:
        listed = s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        parts.append([bucket["Name"], sorted((o["Key"], o["ETag"]) for o in listed)])
    parts.append(len(_sent_messages()))
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def send(api: Any, exchange: Exchange) -> Exchange:
    REQUESTS.requests += 1
    answer = api.handle(
        exchange.method,
        exchange.path,
        query=exchange.query,
        headers=exchange.headers,
        body=exchange.body,
    )
    exchange.status = answer.status
    exchange.answer_headers = answer.headers
    exchange.answer = answer.body
    return exchange


def _header(exchange: Exchange, name: str) -> str:
    return next((v for k, v in exchange.answer_headers if k.lower() == name.lower()), "")


def refused(exchange: Exchange) -> bool:
    code = exchange.cxml_code if exchange.cxml_code is not None else exchange.status
    return code >= 400


def check(exchange: Exchange, fault: bool = False) -> None:
    """The invariants of every answer. `fault`: a storage failure was injected, so a
    retryable 5xx (cXML 500) is the right answer, still in the route's format."""
    text = exchange.answer.decode("utf-8", errors="replace")
    for marker in TRACE_MARKERS:
        assert marker not in text, f"traceback text in the answer\n{exchange}"
    content_type = _header(exchange, "Content-Type")
    if exchange.kind == "cxml":
        answer = read_cxml(exchange.status, exchange.answer, content_type)
        exchange.cxml_code = answer.code
        if not fault:
            assert answer.code != 500, f"cXML 500 without a fault\n{exchange}"
        # HTTP 5xx only with cXML 500: a 2xx or 4xx cXML answer travels as HTTP 200 (README,
        # "HTTP status policy"), except the gateway's own 413/429.
        assert exchange.status < 500 or answer.code == 500, str(exchange)
        return
    if not fault:
        assert exchange.status < 500, f"HTTP {exchange.status} without a fault\n{exchange}"
    if exchange.kind == "json":
        assert content_type == "application/json", str(exchange)
        json.loads(exchange.answer)
    else:
        if 300 <= exchange.status < 400:
            assert _header(exchange, "Location"), str(exchange)
            return
        assert content_type == "text/html; charset=utf-8", str(exchange)
        assert re.search(rb"<!doctype html>", exchange.answer, re.IGNORECASE), str(exchange)


READ_ONLY_PREFIXES = ("Get", "BatchGet", "Query", "Scan", "List", "Describe", "Head")


def _activity_table() -> str:
    return os.environ.get("ACTIVITY_TABLE", "")


def _activity_entry(operation: str, params: Any) -> bool:
    """The one write a refusal makes on purpose: its entry in the integration's activity log
    (docs/CONSOLE.md, "Activity"), a single PutItem to that table."""
    return operation == "PutItem" and params.get("TableName") == _activity_table()


@contextmanager
def recorded_writes() -> Iterator[list[str]]:
    """Every AWS call that changed something (succeeded and was not a read), in order: a
    refused request must make none but its activity entry. Cheaper than a digest of every table at each example,
    and stricter: a write later undone counts too."""
    import botocore.client

    writes: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client: Any, operation: str, params: Any) -> Any:
        result = original(client, operation, params)
        if not operation.startswith(READ_ONLY_PREFIXES) and not _activity_entry(operation, params):
            writes.append(operation)
        return result

    botocore.client.BaseClient._make_api_call = recording  # type: ignore[method-assign]
    try:
        yield writes
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def exchange_and_check(
    api: Any,
    aws: dict[str, Any],
    exchange: Exchange,
) -> Exchange:
    """Send, check the invariants, and check that a refused request changed nothing (no write
    call; under the long profile also the same digest of all stored state)."""
    before = state_digest(aws) if FUZZ else ""
    with recorded_writes() as writes:
        send(api, exchange)
    check(exchange)
    if currently_in_test_context():
        event(f"{exchange.path.split('/')[1]} answered {exchange.cxml_code or exchange.status}")
    if refused(exchange):
        assert writes == [], f"a refused request wrote {writes}\n{exchange}"
        if FUZZ:
            assert state_digest(aws) == before, f"a refused request changed state\n{exchange}"
    return exchange


def xml_headers(content_types: Iterable[str | None]) -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.sampled_from(list(content_types)).map(
        lambda kind: [] if kind is None else [("Content-Type", kind)]
    )
