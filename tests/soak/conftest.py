"""pytest never collects the soak harness: it runs as ``python -m tests.soak``."""

collect_ignore_glob = ["*.py"]
