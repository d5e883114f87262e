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

import base64
import contextlib
import email.errors
import email.header
import email.policy
import json
import logging
import math
import os
import quopri
import re
import struct
import sys
from collections.abc import Iterable, Mapping
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parseaddr
from typing import Any, BinaryIO

import flufl.bounce
from mailparser_reply import EmailReplyParser

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


log = logging.getLogger("intime.web.mime")


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


# -- bounce reports (docs/email.md, "Bounces") -------------------------------------

# Our envelope sender is bounce+TOKEN@<reply domain> (VERP), so a report names its send
# by the address it came back to, in whichever of these headers the delivering MTA kept.
_VERP = re.compile(r"\bbounce\+([0-9a-f]{16,64})@", re.IGNORECASE)
VERP_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to")
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP_REPLY = re.compile(r"(?<!\d)[45]\d\d[ -]")
# A basic SMTP reply code (RFC 5321: 4yz transient, 5yz permanent) where a diagnostic
# quotes one without an enhanced code: "451 Greylisted", "smtp; 550 No such user".
_REPLY_CODE = re.compile(r"(?:^|(?<=[\s;]))([45])[0-5]\d(?=[ -]\S)")
_SPACES = re.compile(r"\s+")
_ACTIONS = {
    "failed": "failed",
    "error": "failed",  # OpenSMTPD's non-standard action
    "delayed": "delayed",
    "delivered": "delivered",
    "relayed": "relayed",
    "expanded": "expanded",
}
# A delay warning (the MTA still retries), by its subject: Exim's and Sendmail's
# "Warning: ...", Postfix's "Delayed Mail (still being retried)", Exchange's "Delivery
# delayed:", Gmail's "Delivery Status Notification (Delay)". Anchored at the start: the
# returned message's own subject may follow.
_DELAY_SUBJECT = re.compile(
    r"^\s*(?:warning\s*:|delayed\b|(?:mail |message )?delivery (?:is |was )?delayed\b"
    r"|message delayed\b|delivery status notification \(delay\))",
    re.IGNORECASE,
)
_DELAY_AUTO_SUBMITTED = re.compile(r"\(\s*delayed\s*\)", re.IGNORECASE)  # auto-generated (delayed)
# What a warning's text says (the MTA keeps trying), and, with a temporary code,
# a plain "delayed".
_DELAY_TEXT = re.compile(
    r"not yet been delivered|has not been delivered yet|will (?:keep|continue) (?:trying|to try)"
    r"|delivery attempts will continue|will be retried|still being retried|is being retried"
    r"|this is a warning only|warning only|no action is required on your part",
    re.IGNORECASE,
)
_DELAYED_WORD = re.compile(r"\bdelay(?:ed)?\b", re.IGNORECASE)
# What a failure's text says: without a status code, flufl.bounce's "permanent" is
# trusted only next to such words (its generic patterns also match warnings).
_FAILURE_TEXT = re.compile(
    r"permanent|fatal|giv(?:e|en|ing) up|could ?n[o']t be delivered|not be delivered"
    r"|undeliver|delivery (?:has |to the following recipients? )?failed|failed permanently"
    r"|unknown user|user unknown|no such (?:user|mailbox|address|recipient)|does not exist"
    r"|returned to (?:the )?sender|unable to deliver|rejected",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(?:mailer-daemon|mailer_daemon|mail-daemon|postmaster)@", re.IGNORECASE)
_MESSAGE_ID_LINE = re.compile(r"^message-id:[ \t]*(<[^<>\s]{1,900}>)", re.IGNORECASE | re.MULTILINE)
_HEADER_PARTS = {"text/rfc822-headers", "message/rfc822-headers", "message/global-headers"}
_RETURNED_PARTS = {"message/rfc822", "message/global", *_HEADER_PARTS}
_REPORT_PARTS = {"message/delivery-status", "message/global-delivery-status"}
MAX_DSN_RECIPIENTS = 100  # recipients kept from one report
MAX_DSN_FIELD = 1000  # characters kept of a report's field (a Diagnostic-Code, say)
MAX_BOUNCE_SCAN = 256 * 1024  # characters of a text part searched for ids and codes
# flufl.bounce's detectors run dozens of patterns over every line: the text they read is
# cut to this, its long runs of blank lines squeezed (256 KiB of line breaks took 3 s).
MAX_FLUFL_SCAN = 64 * 1024


def _field(value: object) -> str | None:
    if value is None:
        return None
    found = _SPACES.sub(" ", one_line(str(value))).strip()[:MAX_DSN_FIELD]
    return found or None


def _recipient_address(value: object) -> str | None:
    """``rfc822; <user@example.com>`` as ``user@example.com``."""
    found = _field(value)
    if found is None:
        return None
    address = found.rpartition(";")[2].strip().strip("<>").strip()
    return address if "@" in address else None


def _status(*values: str | None) -> str | None:
    """The first RFC 3463 enhanced status code (``5.1.1``) in ``values``."""
    for value in values:
        if value and (found := _STATUS.search(value)):
            return ".".join(found.groups())
    return None


def _fields(part: Message) -> dict[str, str]:
    """A header block's fields by lower-case name (the first of each)."""
    out: dict[str, str] = {}
    for name, value in part.raw_items():
        out.setdefault(str(name).lower(), str(value))
    return out


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload[:MAX_BOUNCE_SCAN].decode("utf-8", "replace")
    return payload[:MAX_BOUNCE_SCAN] if isinstance(payload, str) else ""


def _text_blocks(value: str) -> list[dict[str, str]]:
    """Header blocks separated by blank lines (a report the stdlib left as text)."""
    blocks = re.split(r"\r?\n[ \t]*\r?\n", value[:MAX_BOUNCE_SCAN])
    parser = HeaderParser(policy=email.policy.compat32)
    return [
        _fields(parser.parsestr(block.strip("\r\n")))
        for block in blocks[: MAX_DSN_RECIPIENTS + 1]
        if block.strip()
    ]


def _report_blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a delivery-status part, however the stdlib represented it:
    ``message/delivery-status`` as a list of blocks, ``message/global-delivery-status``
    as one message whose body holds the rest, a transfer-encoded one as text."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _text_blocks(_part_text(part))
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable"):  # the stdlib parsed the encoded text
        return _text_blocks(_decoded_blocks(payload, encoding))
    blocks: list[dict[str, str]] = []
    for block in payload:
        if isinstance(block, Message):
            blocks.append(_fields(block))
            body = _part_text(block)
            if body.strip():
                blocks.extend(_text_blocks(body))
    return blocks


def _decoded_blocks(payload: list[Any], encoding: str) -> str:
    """The text of a transfer-encoded report, rebuilt from what the stdlib made of it."""
    source = "\n".join(
        "".join(f"{name}: {value}\n" for name, value in block.raw_items())
        + "\n"
        + _part_text(block)
        for block in payload
        if isinstance(block, Message)
    ).encode("ascii", "replace")
    try:
        data = base64.b64decode(source) if encoding == "base64" else quopri.decodestring(source)
    except ValueError:  # binascii.Error included
        return ""
    return data[:MAX_BOUNCE_SCAN].decode("utf-8", "replace")


def _code(diagnostic: str | None) -> str | None:
    """The status a diagnostic gives: its enhanced code (``4.7.1``), else the class of a
    basic SMTP reply code (``451`` is 4.0.0, ``550`` 5.0.0); None when it quotes neither
    (a status is never made up from nothing)."""
    found = _status(diagnostic)
    if found is None and diagnostic and (reply := _REPLY_CODE.search(diagnostic)):
        found = f"{reply.group(1)}.0.0"
    return found


def _recipient(
    address: str, action: str | None, status: str | None, diagnostic: str | None, mta: str | None
) -> dict[str, str | None]:
    return {
        "recipient": address,
        "action": action,
        "status": status,
        "diagnostic": diagnostic,
        "remote_mta": mta,
    }


def _rfc3464(message: Message) -> tuple[list[dict[str, str | None]], str | None] | None:
    """Per-recipient fields and the Reporting-MTA of the delivery-status parts, or None
    when the message has none."""
    reports = [p for p in message.walk() if p.get_content_type() in _REPORT_PARTS]
    if not reports:
        return None
    recipients: list[dict[str, str | None]] = []
    reporting: str | None = None
    for report in reports:
        for fields in _report_blocks(report):
            reporting = reporting or _field(fields.get("reporting-mta"))
            address = _recipient_address(fields.get("final-recipient")) or _recipient_address(
                fields.get("original-recipient")
            )
            if address is None or len(recipients) >= MAX_DSN_RECIPIENTS:
                continue  # the per-message block, or past the cap
            diagnostic = _field(fields.get("diagnostic-code"))
            status = _status(fields.get("status")) or _code(diagnostic)
            words = (_field(fields.get("action")) or "").lower().split()
            action = _ACTIONS.get(words[0]) if words else None
            if action is None and status is not None:  # Action is required; guess from Status
                action = {"5": "failed", "4": "delayed", "2": "delivered"}[status[0]]
            mta = _field(fields.get("remote-mta"))
            recipients.append(_recipient(address, action, status, diagnostic, mta))
    return recipients, reporting


def _returned_message_id(message: Message, plain: str | None) -> str | None:
    """The Message-ID of the returned message: its attached headers (message/rfc822,
    text/rfc822-headers) or, in a text bounce, a ``Message-ID:`` line of the body."""
    for part in message.walk():
        if part is message or part.get_content_type() not in _RETURNED_PARTS:
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            found = _fields(payload[0]).get("message-id")
        else:
            parser = HeaderParser(policy=email.policy.compat32)
            found = _fields(parser.parsestr(_part_text(part), headersonly=True)).get("message-id")
        if found and (value := _field(found)):
            return value
    if plain and (line := _MESSAGE_ID_LINE.search(plain[:MAX_BOUNCE_SCAN])):
        return line.group(1)
    return None


def _diagnostic_line(plain: str | None) -> str | None:
    """The first line of a text bounce that quotes an SMTP reply (``550 5.1.1 ...``)."""
    for line in (plain or "")[:MAX_BOUNCE_SCAN].splitlines():
        if _SMTP_REPLY.search(line) or _STATUS.search(line):
            return _field(line)
    return None


def _delay_signalled(subject: str | None, headers: Iterable[tuple[str, str]]) -> bool:
    """A delay warning by its headers: its subject, or ``Auto-Submitted: auto-generated
    (delayed)``."""
    if subject and _DELAY_SUBJECT.search(subject[:MAX_DSN_FIELD]):
        return True
    return any(
        name == "auto-submitted" and _DELAY_AUTO_SUBMITTED.search(value[:MAX_DSN_FIELD])
        for name, value in headers
    )


def _heuristic_class(
    permanent: bool, delay_signalled: bool, text: str, status: str | None
) -> tuple[str | None, str | None]:
    """(action, status) of a recipient found in a text bounce. flufl.bounce finds the
    addresses; its permanent/temporary split is no class (its generic patterns take a
    delay warning for a failure). The class comes from the report: a delay warning's
    subject or Auto-Submitted first (the MTA still retries), then the diagnostic's code
    (4.x.x or 4xx: delayed when the text says so, else a failure with that status;
    5.x.x or 5xx: a failure), then the text's wording. None for an action nobody can
    tell, and a status only from a code."""
    klass = status[0] if status else None
    if delay_signalled:
        return "delayed", status if klass == "4" else None
    if klass == "4":
        delayed = _DELAY_TEXT.search(text) or _DELAYED_WORD.search(text)
        return ("delayed" if delayed else "failed"), status
    if klass == "5":
        return "failed", status
    if _DELAY_TEXT.search(text) or not permanent:
        return "delayed", None
    return ("failed" if _FAILURE_TEXT.search(text) else None), None


def _heuristic(
    from_email: str, plain: str | None, subject: str | None, headers: list[tuple[str, str]]
) -> list[dict[str, str | None]]:
    """The recipients flufl.bounce finds in a bounce of another shape (Exim, qmail, an
    old Exchange), classed by ``_heuristic_class``. Its detectors read the start of the
    text part (MAX_FLUFL_SCAN; they scan every line, several times over: a whole 10 MiB
    message would take seconds of CPU)."""
    scanned_text = _LONG_SPACE.sub(_squeeze, (plain or "")[:MAX_FLUFL_SCAN])
    scanned = Message(policy=email.policy.compat32)
    scanned["from"] = from_email  # some detectors read it, and fail without one
    scanned.set_payload(scanned_text)
    temporary, permanent = flufl.bounce.all_failures(scanned)
    diagnostic = _diagnostic_line(plain)
    status = _code(diagnostic)
    signalled = _delay_signalled(subject, headers)
    recipients: list[dict[str, str | None]] = []
    for is_permanent, addresses in ((True, permanent), (False, temporary)):
        action, found = _heuristic_class(is_permanent, signalled, scanned_text, status)
        for address in sorted(addresses)[:MAX_DSN_RECIPIENTS]:
            recipient = address.decode("ascii", "replace")
            recipients.append(_recipient(recipient, action, found, diagnostic, None))
    return recipients[:MAX_DSN_RECIPIENTS]


def verp_token(headers: Iterable[tuple[str, str]]) -> str | None:
    """The token of the first bounce+TOKEN@ address among the envelope headers."""
    for name, value in headers:
        if name in VERP_HEADERS and (found := _VERP.search(value)):
            return found.group(1).lower()
    return None


def delivery_report(
    message: Message,
    headers: list[tuple[str, str]],
    from_email: str,
    plain: str | None,
    subject: str | None = None,
) -> dict[str, Any] | None:
    """The ``dsn`` of the parser's reply: the report's recipients (RFC 3464 first,
    flufl.bounce for other shapes), the VERP token and the returned Message-ID; None
    for a message that is no bounce report. Never raises: a report that cannot be read
    is recorded as mail like any other."""
    try:
        token = verp_token(headers)
        source = "rfc3464"
        found = _rfc3464(message)
        if found is None:
            bounce_like = bool(token or _DAEMON.match(from_email)) or any(
                name == "x-failed-recipients" for name, _ in headers
            )
            if not bounce_like:
                return None
            recipients, reporting = _heuristic(from_email, plain, subject, headers), None
            if not recipients:
                return None
            source = "flufl.bounce"
        else:
            recipients, reporting = found
        return {
            "source": source,
            "verp_token": token,
            "returned_message_id": _returned_message_id(message, plain),
            "reporting_mta": reporting,
            "recipients": recipients,
        }
    except Exception as exc:  # a parser bug must not lose the message
        log.warning("a bounce report could not be read: %r", exc)
        return None


# -- what a reply says -------------------------------------------------------------

REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")  # mailparser-reply has no pt
MAX_REPLY_SCAN = 64 * 1024  # characters of a body searched for the new text
# The library's patterns start with \s*^ (a line start after any whitespace): a run of
# whitespace costs the square of its length (10,000 blank lines: seconds). Runs longer
# than this are squeezed first, so every pattern stays linear in the text.
_LONG_SPACE = re.compile(r"\s{17,}")


def _squeeze(run: re.Match[str]) -> str:
    return "\n\n" if "\n" in run.group() else run.group()[:16]


def reply_text(body: str | None) -> str | None:
    """What the sender wrote, without the quoted history and the signature
    (mail-parser-reply), or None when nothing is left."""
    if not body:
        return None
    scanned = _LONG_SPACE.sub(_squeeze, body[:MAX_REPLY_SCAN].replace("\r\n", "\n"))
    try:
        parsed = EmailReplyParser(languages=list(REPLY_LANGUAGES)).read(scanned)
        latest = str(parsed.replies[0].body) if parsed.replies else ""
    except Exception as exc:  # the full body is still stored
        log.warning("the reply text could not be extracted: %r", exc)
        return None
    # A quote the library found no "On ... wrote:" line to split at: trailing "> " lines.
    lines = latest.splitlines()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    return text("\n".join(lines).strip()) or None


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
    subject = decoded(first["subject"]) if "subject" in first else None
    return {
        "message": {
            "message_id": message_id or None,
            "from_email": from_email,
            "from_name": from_name,
            "to": recipients,
            "subject": subject,
            "in_reply_to": in_reply_to or None,
            "references": one_line(first.get("references", "")).split(),
            "text": bodies["plain"],
            "html": bodies["html"],
            "headers": {text(name): decoded(value) for name, value in first.items()},
            "reply_text": reply_text(bodies["plain"]),
            "dsn": delivery_report(message, raw_headers, from_email, bodies["plain"], subject)
            if with_bodies
            else None,
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
    subject_line = one_line(str(subject)) if subject is not None else None
    plain = _optional_text(email_object.get("text"))
    dsn, raw_url = _resend_report(
        email_object, headers, recipients, from_email, plain, subject_line
    )
    reply: dict[str, Any] = {
        "message": {
            "message_id": message_id or None,
            "from_email": from_email,
            "from_name": from_name,
            "to": recipients,
            "subject": subject_line,
            "in_reply_to": headers.get("in-reply-to") or None,
            "references": headers.get("references", "").split(),
            "text": plain,
            "html": _optional_text(email_object.get("html")),
            "headers": headers,
            "reply_text": reply_text(plain),
            "dsn": dsn,
        },
        "partial": "a recipient could not be parsed" if broken else None,
    }
    if raw_url:
        reply["raw_url"] = raw_url
    return reply


def _resend_report(
    email_object: Mapping[str, Any],
    headers: dict[str, str],
    recipients: list[str],
    from_email: str,
    plain: str | None,
    subject: str | None,
) -> tuple[dict[str, Any] | None, str | None]:
    """A received email's bounce report as far as its JSON tells (the headers and the
    text part), and, for a report, the URL of its raw message: the delivery-status part
    is only in the raw message (web/inbound.py fetches and parses it)."""
    items = [*headers.items(), *(("to", address) for address in recipients)]
    dsn = delivery_report(Message(policy=email.policy.compat32), items, from_email, plain, subject)
    report = headers.get("content-type", "").lower().startswith("multipart/report")
    raw = email_object.get("raw")
    url = raw.get("download_url") if isinstance(raw, Mapping) else None
    wanted = (dsn is not None or report) and isinstance(url, str) and len(url) <= 4096
    return dsn, (url if wanted else None)


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
