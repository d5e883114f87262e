"""SignatureVerifier against the shared Svix / Standard Webhooks vectors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import standardwebhooks.webhooks as stdwh

from tests.support import TESTDATA
from web.signatures import SignatureVerifier, Verdict

VECTORS = json.loads((TESTDATA / "svix_vectors.json").read_text())
VERIFY_CASES = [c for c in VECTORS["cases"] if c["kind"] == "verify"]


class _FrozenDatetime(datetime):
    frozen: datetime

    @classmethod
    def now(cls, tz=None):
        return cls.frozen


@pytest.mark.parametrize("case", VERIFY_CASES, ids=[c["id"] for c in VERIFY_CASES])
def test_svix_vector(case: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    if case["clock"] == "mock_now_equals_timestamp" and case["timestamp"] is not None:
        _FrozenDatetime.frozen = datetime.fromtimestamp(case["timestamp"], tz=UTC)
        monkeypatch.setattr(stdwh, "datetime", _FrozenDatetime)
    headers = {k.lower(): v for k, v in case["headers"].items()}
    # Resend sends svix-* headers; the unbranded webhook-* spelling maps onto them.
    for name in ("id", "timestamp", "signature"):
        if f"webhook-{name}" in headers:
            headers.setdefault(f"svix-{name}", headers[f"webhook-{name}"])
    verdict = SignatureVerifier([case["secret"]]).verify(case["payload"].encode(), headers)
    assert (verdict is Verdict.OK) == (case["expected"] == "valid"), verdict


def test_the_reference_vector_is_stale_on_the_real_clock() -> None:
    case = next(c for c in VECTORS["cases"] if c["id"] == "real_clock_old_timestamp")
    verdict = SignatureVerifier([case["secret"]]).verify(case["payload"].encode(), case["headers"])
    assert verdict is Verdict.BAD_SIGNATURE
