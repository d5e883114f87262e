"""Benchmarks. Run with `make bench`; each prints a table against a baseline."""
