"""Helpers shared by the page benchmarks."""

import subprocess
from urllib.parse import urlparse


def psql(sql, url):
    """Run one SQL statement (e.g. CREATE/DROP DATABASE) on the server of ``url``, as its
    user, connected to the ``postgres`` maintenance database."""
    parsed = urlparse(url)
    subprocess.run(
        [
            "psql",
            "-h",
            parsed.hostname or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            "-d",
            "postgres",
            "-qc",
            sql,
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )


def run_on_scratch_database(run, args, *, reuse=False):
    """``run(args)`` on the PostgreSQL database named by DATABASE_URL (its name must contain
    "bench"): dropped and created first (unless ``reuse``), dropped afterwards unless
    ``args.keep``."""
    import os
    import sys

    url = os.environ.get("DATABASE_URL", "")
    dbname = urlparse(url).path.lstrip("/")
    if "bench" not in dbname:
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
    if not reuse:
        psql(f'DROP DATABASE IF EXISTS "{dbname}"', url)
        psql(f'CREATE DATABASE "{dbname}"', url)
    try:
        run(args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            psql(f'DROP DATABASE IF EXISTS "{dbname}"', url)
