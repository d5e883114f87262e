"""InTime core: configuration, database helpers, migrations and the embedded PostgreSQL.

Web, worker and the shell (``intime_cli``) build on it; it imports none of them.
"""
