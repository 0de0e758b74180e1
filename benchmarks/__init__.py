"""Benchmarks: run with `scripts/bench`; figures are recorded in the README."""
