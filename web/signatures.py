"""Svix signature checks for incoming webhooks, with several secrets for rotation.

Verification is the ``svix`` library's (HMAC-SHA256 over ``id.timestamp.body``,
constant-time comparison, ±5 minutes tolerance). This module only decides which
secrets to try and turns every way a request can be wrong into one verdict,
so that malformed input is a 4xx and never an exception.
"""

from __future__ import annotations

import binascii
import enum
from collections.abc import Mapping, Sequence

from svix.webhooks import Webhook, WebhookVerificationError

SVIX_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")


class Verdict(enum.Enum):
    OK = "ok"
    MISSING_HEADERS = "missing headers"
    BAD_SIGNATURE = "bad or stale signature"


class SignatureVerifier:
    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is required")
        self._hooks = [Webhook(secret) for secret in secrets]

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verdict:
        values = {name: headers.get(name, "") for name in SVIX_HEADERS}
        if not all(values.values()):
            return Verdict.MISSING_HEADERS
        for hook in self._hooks:
            try:
                hook.verify(body, values)
            except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
                continue
            return Verdict.OK
        return Verdict.BAD_SIGNATURE
