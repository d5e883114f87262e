"""Bounds on what the web app accepts, in one place (documented in docs/email.md).

Pure values and helpers, no web framework: the MIME parser process
(``web.mime``) imports this module too.
"""

from __future__ import annotations

import json
from typing import Any

# Bodies, checked against Content-Length before reading and while streaming.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # a raw message on /webhooks/inbound
MAX_EVENT_BYTES = 1024 * 1024  # a Resend webhook event (they are small)
MAX_FETCHED_BYTES = 10 * 1024 * 1024  # a received email fetched from Resend's API
MAX_READ_BODY_BYTES = 65_536  # POST /notifications/read
# The JSON API under /api/v1 (web/api.py, docs/http-api.md): bodies are at most
# MAX_READ_BODY_BYTES too.
MAX_API_IDS = 1000  # notification ids in one read, seen or archive
MAX_API_TEXT = 4000  # characters of an approval's comment or a reason

# A body must arrive in full within BODY_SECONDS plus one second per BODY_MIN_RATE
# bytes announced (the route's cap when no Content-Length is sent), or 408: a
# client that trickles its body does not hold a connection and its buffer for ever.
# A 10 MiB message gets 330 s, enough for a 256 kbit/s link.
BODY_SECONDS = 10.0
BODY_MIN_RATE = 32 * 1024  # bytes a second

# What a message may contain before it is refused (422) or recorded in part.
MAX_HEADERS = 500  # header fields of the message (Postfix stops a mail loop at 50 hops)
MAX_ADDRESSES = 1000  # To + Cc + Delivered-To
MAX_MIME_DEPTH = 20  # nesting of multipart and message/* parts
MAX_MIME_PARTS = 200  # parts in the whole tree, the message itself included
MAX_DECODED_HEADER = 65_536  # longer header values are kept without RFC 2047 decoding

MAX_JSON_DEPTH = 32  # nesting of arrays and objects in any JSON body

# The MIME parser processes (web/sandbox.py).
PARSE_PROCESSES = 2  # parses running at once, one process each
PARSE_QUEUE = 8  # requests admitted to wait for a process; more answer 503
PARSE_CPU_SECONDS = 10  # CPU one parse may use; the kernel kills it past that (422)
PARSE_WALL_SECONDS = 60.0  # wall-clock backstop: an overloaded machine (503)
PARSE_MEMORY = 1024 * 1024 * 1024  # address space of a parser process (RLIMIT_AS)

RETRY_AFTER_SECONDS = 5  # Retry-After on a 503
# Bytes of Svix-signed bodies being read before their signature could be checked, per
# process: past it, 503 (Retry-After). Resend events are about a kilobyte; a flood of
# connections that merely carry the three svix-* headers cannot buffer more than this.
UNVERIFIED_BODY_BUDGET = 16 * 1024 * 1024
# A svix-timestamp further than this from now is refused before the body is read (the
# svix library's own tolerance).
SIGNATURE_TOLERANCE_SECONDS = 5 * 60


def body_deadline(size: int) -> float:
    """Seconds a request body of ``size`` bytes is given to arrive in full."""
    return BODY_SECONDS + size / BODY_MIN_RATE


class JsonRefused(ValueError):
    """A body that is not JSON, or nested deeper than allowed."""


def deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def load_json(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``raw`` parsed as UTF-8 JSON, or ``JsonRefused`` (never ``RecursionError``)."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        value = json.loads(text)
    except RecursionError as exc:
        raise JsonRefused(f"JSON nested deeper than {max_depth} levels") from exc
    except ValueError as exc:  # also UnicodeDecodeError
        raise JsonRefused("the body is not UTF-8 JSON") from exc
    if isinstance(value, dict | list) and deeper_than(value, max_depth):
        raise JsonRefused(f"JSON nested deeper than {max_depth} levels")
    return value
