"""Benchmarks: each bench_<area>.py has run() -> rows; `make bench` prints one table."""
