"""Benchmarks: python -m bench runs the run() of every bench/bench_*.py module."""
