"""Benchmarks with floors: `./dev bench` (docs/benchmarks.md has the figures)."""
