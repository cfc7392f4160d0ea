"""Run every benchmark under bench/ and print one table.

    make bench                       # all benchmarks, default (quick) scale
    python -m bench sla email        # only the named areas

Each bench/bench_<area>.py exposes run() -> list[dict] with keys benchmark, metric, value,
target (optional). Benchmarks set up their own data in the database named by
DATABASE_URL (make bench points it at a separate `_bench` database).
"""

import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Page benchmarks go through Django's test client, whose host is "testserver".
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from django.db import connection

    if connection.vendor == "postgresql":
        _ensure_database(connection.settings_dict["NAME"])
    call_command("migrate", verbosity=0, interactive=False)


def _ensure_database(name: str) -> None:
    import psycopg2
    from django.db import connection

    params = {
        k: v
        for k, v in {
            "host": connection.settings_dict.get("HOST"),
            "port": connection.settings_dict.get("PORT"),
            "user": connection.settings_dict.get("USER"),
            "password": connection.settings_dict.get("PASSWORD"),
        }.items()
        if v
    }
    conn = psycopg2.connect(dbname="postgres", **params)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    columns = ["benchmark", "metric", "value", "target"]
    table = [[_format(row.get(col, "")) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in table)) if table else len(col)
              for i, col in enumerate(columns)]  # fmt: skip
    line = "  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    _setup_django()
    wanted = set(argv)
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_") and (not wanted or m.name.removeprefix("bench_") in wanted)
    )
    if not names:
        print("No benchmarks found.", file=sys.stderr)
        return 1
    rows: list[dict[str, Any]] = []
    for name in names:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        rows.extend(module.run())
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
