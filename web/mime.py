"""Inbound mail parsing, bounded, meant to run in a parser process (web/sandbox.py).

``parse_rfc822`` takes a raw message, ``parse_resend`` the JSON of a received
email fetched from Resend's API. Both return a JSON-able dict, either
``{"message": {...}, "partial": reason-or-null}`` or ``{"refused": [status,
reason]}``, and never raise on any input: a structure that cannot be fully
parsed gives the headers without the bodies (``partial`` says why); only what
breaks a cap that matters for matching is refused.

Nothing here uses the structured header parser of ``email.policy.default``
(its cost grows faster than linearly with an address list, and some malformed
addresses make it raise): address headers go through ``email.utils``, other
values through a bounded RFC 2047 decoder. Every string that comes out is valid
UTF-8 without NUL, and header values are one line.

``python -m web.mime`` serves requests on stdin/stdout (see ``serve``).
"""

from __future__ import annotations

import contextlib
import email.errors
import email.header
import email.policy
import json
import math
import os
import re
import struct
import sys
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any, BinaryIO

from web.limits import (
    MAX_ADDRESSES,
    MAX_DECODED_HEADER,
    MAX_HEADERS,
    MAX_JSON_DEPTH,
    MAX_MIME_DEPTH,
    MAX_MIME_PARTS,
    JsonRefused,
    load_json,
)

ADDRESS_HEADERS = ("to", "cc", "delivered-to")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_BREAKS = re.compile(r"[\r\n]+")
_FIELD_STARTS = re.compile(rb"(?:\r\n|\r|\n)(?![ \t])")


class _LimitExceeded(Exception):
    pass


class _Part(EmailMessage):
    """A message part that knows its depth: ``attach`` refuses one too deep, so
    a hostile nesting stops the parser early (and never reaches its recursion)."""

    depth = 1

    def attach(self, payload: Any) -> None:
        if isinstance(payload, _Part):
            payload.depth = self.depth + 1
            if payload.depth > MAX_MIME_DEPTH:
                raise _LimitExceeded(f"MIME parts nested deeper than {MAX_MIME_DEPTH}")
        super().attach(payload)


def _parse_bounded(raw: bytes) -> EmailMessage:
    parts = 0

    def factory(policy: Any = email.policy.default) -> _Part:
        nonlocal parts
        parts += 1
        if parts > MAX_MIME_PARTS:
            raise _LimitExceeded(f"more than {MAX_MIME_PARTS} MIME parts")
        return _Part(policy=policy)

    return BytesParser(_class=factory, policy=email.policy.default).parsebytes(raw)


def text(value: str) -> str:
    """``value`` as storable text: undecodable bytes and lone surrogates replaced, no NUL."""
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = value.encode("utf-8", "replace")
    return data.decode("utf-8", "replace").replace("\x00", "")


def one_line(value: str) -> str:
    return _BREAKS.sub(" ", text(_FOLD.sub("", value)))


def decoded(value: str) -> str:
    """A header value unfolded, RFC 2047 decoded (when short enough), on one line."""
    value = text(_FOLD.sub("", value))
    if "=?" in value and len(value) <= MAX_DECODED_HEADER:
        # On a broken encoded word, keep the undecoded text.
        with contextlib.suppress(email.errors.HeaderParseError, LookupError, ValueError, TypeError):
            value = str(email.header.make_header(email.header.decode_header(value)))
    return _BREAKS.sub(" ", text(value))


def _address(name: str, address: str) -> tuple[str | None, str]:
    return (decoded(name) or None), one_line(address).strip()


def addresses(values: Iterable[str]) -> tuple[list[str], bool]:
    """The addresses in header values, and whether some value could not be parsed."""
    found: list[str] = []
    broken = False
    for value in values:
        try:
            pairs = getaddresses([text(_FOLD.sub("", value))])
        except (RecursionError, ValueError, IndexError):  # e.g. thousands of nested comments
            broken = True
            continue
        found.extend(clean for name, address in pairs if (clean := _address(name, address)[1]))
    return found, broken


def sender(value: str) -> tuple[str | None, str]:
    try:
        name, address = parseaddr(text(_FOLD.sub("", value)))
    except (RecursionError, ValueError, IndexError):
        return None, ""
    return _address(name, address)


def _count_header_fields(raw: bytes) -> int:
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n"), raw.find(b"\r\r")) if i >= 0]
    section = raw[: min(ends)] if ends else raw
    return len(_FIELD_STARTS.findall(section)) + 1 if section.strip() else 0


def _refused(status: int, reason: str) -> dict[str, Any]:
    return {"refused": [status, reason]}


def _too_many_addresses(values: list[str]) -> bool:
    # Cheap bounds first ('@' signs: at least one per address, rarely more than
    # two), then the exact count.
    signs = sum(v.count("@") for v in values)
    if signs <= MAX_ADDRESSES:
        return False
    if signs > 10 * MAX_ADDRESSES:
        return True
    return len(addresses(values)[0]) > MAX_ADDRESSES


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError, TypeError):  # unknown charset, bad encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    return text(content) if isinstance(content, str) else None


def parse_rfc822(raw: bytes) -> dict[str, Any]:
    """The parts of a raw RFC 5322 message that matching and threading need."""
    fields = _count_header_fields(raw)
    if fields > MAX_HEADERS:
        return _refused(422, f"the message has {fields} header fields; at most {MAX_HEADERS}")
    partial: str | None = None
    message: EmailMessage | None
    try:
        message = _parse_bounded(raw)
    except _LimitExceeded as exc:
        message, partial = None, str(exc)
    except Exception as exc:  # the stdlib parser has no list of what it may raise
        message, partial = None, f"the MIME structure could not be parsed ({type(exc).__name__})"
    with_bodies = message is not None
    if message is None:  # what could be parsed: the headers
        message = BytesParser(policy=email.policy.default).parsebytes(raw, headersonly=True)
    raw_headers = [(str(name).lower(), str(value)) for name, value in message.raw_items()]
    first: dict[str, str] = {}
    address_values: dict[str, list[str]] = {key: [] for key in ADDRESS_HEADERS}
    for name, value in raw_headers:
        first.setdefault(name, value)
        if name in address_values:
            address_values[name].append(value)
    every_address = [v for key in ADDRESS_HEADERS for v in address_values[key]]
    if _too_many_addresses(every_address):
        return _refused(422, f"the message has more than {MAX_ADDRESSES} recipients")
    recipients, broken = addresses(every_address)
    if broken:
        partial = partial or "a recipient header could not be parsed"
    from_name, from_email = sender(first.get("from", ""))
    bodies: dict[str, str | None] = {"plain": None, "html": None}
    if with_bodies:
        for subtype in bodies:
            try:
                bodies[subtype] = _body(message, subtype)
            except Exception as exc:  # as above: keep the headers whatever the body does
                partial = f"the {subtype} body could not be decoded ({type(exc).__name__})"
    message_id = one_line(first.get("message-id", "")).strip()
    in_reply_to = one_line(first.get("in-reply-to", "")).strip()
    return {
        "message": {
            "message_id": message_id or None,
            "from_email": from_email,
            "from_name": from_name,
            "to": recipients,
            "subject": decoded(first["subject"]) if "subject" in first else None,
            "in_reply_to": in_reply_to or None,
            "references": one_line(first.get("references", "")).split(),
            "text": bodies["plain"],
            "html": bodies["html"],
            "headers": {text(name): decoded(value) for name, value in first.items()},
        },
        "partial": partial,
    }


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    return text(value if isinstance(value, str) else json.dumps(value))


def parse_resend(data: bytes) -> dict[str, Any]:
    """The same dict from the JSON of Resend's received-email object."""
    try:
        email_object = load_json(data, MAX_JSON_DEPTH)
    except JsonRefused:
        return _refused(502, "Resend answered with an unreadable received email")
    if not isinstance(email_object, dict):
        return _refused(502, "Resend answered with an unreadable received email")
    raw_headers: Any = email_object.get("headers") or {}
    if isinstance(raw_headers, list):  # [{"name": ..., "value": ...}] in some SDKs
        raw_headers = {
            str(h.get("name", "")): h.get("value", "") for h in raw_headers if isinstance(h, dict)
        }
    if not isinstance(raw_headers, Mapping):
        raw_headers = {}
    if len(raw_headers) > MAX_HEADERS:
        return _refused(422, f"the email has {len(raw_headers)} headers; at most {MAX_HEADERS}")
    headers = {one_line(str(k)).lower(): one_line(str(v)) for k, v in raw_headers.items()}
    recipient_values = [
        *_string_list(email_object.get("to")),
        *_string_list(email_object.get("cc")),
    ]
    if _too_many_addresses(recipient_values):
        return _refused(422, f"the email has more than {MAX_ADDRESSES} recipients")
    recipients, broken = addresses(recipient_values)
    from_name, from_email = sender(str(email_object.get("from") or ""))
    message_id = one_line(
        str(email_object.get("message_id") or headers.get("message-id") or "")
    ).strip()
    subject = email_object.get("subject")
    return {
        "message": {
            "message_id": message_id or None,
            "from_email": from_email,
            "from_name": from_name,
            "to": recipients,
            "subject": one_line(str(subject)) if subject is not None else None,
            "in_reply_to": headers.get("in-reply-to") or None,
            "references": headers.get("references", "").split(),
            "text": _optional_text(email_object.get("text")),
            "html": _optional_text(email_object.get("html")),
            "headers": headers,
        },
        "partial": "a recipient could not be parsed" if broken else None,
    }


PARSERS = {b"M": parse_rfc822, b"J": parse_resend}
_REQUEST = struct.Struct(">cQ")  # kind, length
_REPLY = struct.Struct(">Q")
READY = b"R"


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def handle(kind: bytes, payload: bytes) -> dict[str, Any]:
    """One request; whatever goes wrong inside a parser is a refusal, not a crash."""
    parser = PARSERS.get(kind)
    if parser is None:
        return _refused(400, "unknown request")
    try:
        return parser(payload)
    except MemoryError:
        return _refused(422, "the message needs more memory than a parse may use")
    except RecursionError:
        return _refused(422, "the message is nested too deeply to parse")
    except Exception as exc:  # a parser bug must not take the process down
        print(f"web.mime: {kind!r} parse failed: {exc!r}", file=sys.stderr)
        return _refused(422, f"the message could not be parsed ({type(exc).__name__})")


def _cpu_budget(seconds: int) -> None:
    """Let the kernel stop this process (SIGXCPU) once the next parse has used
    ``seconds`` of CPU: a limit on what a message costs, whatever the load."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + seconds
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def serve(memory_limit: int | None = None, cpu_seconds: int | None = None) -> None:
    """Answer requests on stdin/stdout until stdin closes.

    A request is ``kind`` (1 byte: ``M`` raw message, ``J`` Resend JSON), its
    length (8 bytes, big-endian) and the payload; a reply is a length and
    UTF-8 JSON. ``R`` is written once at start, when the limits are set.
    """
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU must not dump a core
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    os.nice(10)  # the web process's event loop comes first on a busy machine
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    stdout.write(READY)
    stdout.flush()
    while True:
        header = _read_exactly(stdin, _REQUEST.size)
        if header is None:
            return
        kind, length = _REQUEST.unpack(header)
        payload = _read_exactly(stdin, length)
        if payload is None:
            return
        if cpu_seconds:
            _cpu_budget(cpu_seconds)
        reply = json.dumps(handle(kind, payload), ensure_ascii=False).encode()
        stdout.write(_REPLY.pack(len(reply)) + reply)
        stdout.flush()


if __name__ == "__main__":
    memory, cpu = (int(arg) for arg in sys.argv[1:3])
    serve(memory or None, cpu or None)
