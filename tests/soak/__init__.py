"""The soak-and-chaos harness (issue 12): ``python -m tests.soak`` or ``make soak``.

Real processes on loopback (the embedded PostgreSQL, two ``intime worker`` and two
``intime web``), real peers (an SMTP sink, a Resend stub, a webhook receiver, SSE
clients), a steady mixed workload, faults on a schedule, then a drain and the
invariants. See ``tests/soak/README.md``. Not collected by pytest.
"""
