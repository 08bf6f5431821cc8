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
