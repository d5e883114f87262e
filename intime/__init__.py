"""InTime shared package: config, db helpers, migrations, embedded PostgreSQL, CLI."""
