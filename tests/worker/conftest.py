"""Worker fixtures come from tests/peers.py (shared with the web tests)."""

from __future__ import annotations

from tests.peers import fake_resend, smtp_server

__all__ = ["fake_resend", "smtp_server"]
