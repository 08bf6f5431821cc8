#!/usr/bin/env python3
"""Write a runnable SIP edge configuration directory.

Copies deploy/kamailio/kamailio.cfg into OUT_DIR and writes OUT_DIR/vmgate-edge.cfg (mode
0600, it holds the API token) with the parameters the configuration includes. Then run:

    kamailio -f OUT_DIR/kamailio.cfg -DD -E

Every option falls back to an environment variable (shown in --help), so a service unit can
keep the token out of the command line. Standard library only: it runs without the venv.
"""

import argparse
import ipaddress
import os
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent

TOKEN_RE = re.compile(r"^[A-Za-z0-9._~-]{8,200}$")


def _listen(value: str) -> str:
    """udp:ADDRESS:PORT (the only transport this edge listens on)."""
    m = re.fullmatch(r"(?:udp:)?(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})", value)
    if not m:
        raise argparse.ArgumentTypeError("expected ADDRESS:PORT, e.g. 127.0.0.1:5060")
    host, port = m.group(1), int(m.group(2))
    ipaddress.ip_address(host.strip("[]"))
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError("port out of range")
    return f"udp:{host}:{port}"


def _api_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError("expected http(s)://host:port of the app")
    if re.search(r'["$\\\s]', value):
        raise argparse.ArgumentTypeError("URL must not contain quotes, $, \\ or spaces")
    return value.rstrip("/") + "/api/v1/route/?format=rtjson"


def _token(value: str) -> str:
    value = value.strip()
    if not TOKEN_RE.match(value):
        raise argparse.ArgumentTypeError("API token: 8-200 characters of A-Z a-z 0-9 . _ ~ -")
    return value


def parse_args(argv=None):
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("out_dir", type=Path, help="directory to write (created if missing)")
    p.add_argument(
        "--listen",
        type=_listen,
        default=env("VMGATE_SIP_LISTEN", "127.0.0.1:5060"),
        help="UDP address:port to listen on (VMGATE_SIP_LISTEN, default 127.0.0.1:5060)",
    )
    p.add_argument(
        "--api-url",
        type=_api_url,
        default=env("VMGATE_API_URL", "http://127.0.0.1:8000"),
        help="base URL of the app (VMGATE_API_URL, default http://127.0.0.1:8000)",
    )
    p.add_argument(
        "--token",
        type=_token,
        default=env("VMGATE_API_TOKEN"),
        help="API token of a tenant login (VMGATE_API_TOKEN; or --token-file)",
    )
    p.add_argument(
        "--token-file",
        type=Path,
        default=env("VMGATE_API_TOKEN_FILE"),
        help="file holding the API token (VMGATE_API_TOKEN_FILE)",
    )
    p.add_argument(
        "--children",
        type=int,
        default=int(env("VMGATE_SIP_CHILDREN", "8")),
        help="UDP worker processes; each waits on one API call at a time "
        "(VMGATE_SIP_CHILDREN, default 8)",
    )
    p.add_argument(
        "--api-timeout",
        type=int,
        choices=range(1, 11),
        metavar="SECONDS",
        default=int(env("VMGATE_API_TIMEOUT", "1")),
        help="route API timeout in whole seconds, then 503 (VMGATE_API_TIMEOUT, default 1)",
    )
    p.add_argument(
        "--pike-density",
        type=int,
        default=int(env("VMGATE_PIKE_DENSITY", "3000")),
        help="requests per source per sampling unit before it is blocked "
        "(VMGATE_PIKE_DENSITY, default 3000)",
    )
    p.add_argument(
        "--pike-unit",
        type=int,
        default=int(env("VMGATE_PIKE_UNIT", "2")),
        help="pike sampling unit in seconds (VMGATE_PIKE_UNIT, default 2)",
    )
    p.add_argument(
        "--max-contacts",
        type=int,
        choices=range(1, 101),
        metavar="N",
        default=int(env("VMGATE_MAX_CONTACTS", "100")),
        help="most Contacts in a 302 (q 1.0 down to 0.01; VMGATE_MAX_CONTACTS, default 100)",
    )
    p.add_argument(
        "--log-level",
        type=int,
        choices=range(-3, 4),
        default=int(env("VMGATE_SIP_LOG_LEVEL", "-1")),
        help="Kamailio debug level (-3..3; VMGATE_SIP_LOG_LEVEL, default -1 = errors)",
    )
    args = p.parse_args(argv)
    if args.token is None and args.token_file is not None:
        args.token = _token(args.token_file.read_text())
    if args.token is None:
        p.error("an API token is required (--token, --token-file or VMGATE_API_TOKEN)")
    for name in ("children", "pike_density", "pike_unit"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def render(args) -> Path:
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "kamailio.cfg", out / "kamailio.cfg")
    defines = {
        "VMGATE_LISTEN": args.listen,
        "VMGATE_API_URL": f'"{args.api_url}"',
        "VMGATE_API_HEADERS": f'"Content-Type: application/json\\r\\nAuthorization: Token {args.token}"',
        "VMGATE_API_TIMEOUT": str(args.api_timeout),
        "VMGATE_CHILDREN": str(args.children),
        "VMGATE_PIKE_DENSITY": str(args.pike_density),
        "VMGATE_PIKE_UNIT": str(args.pike_unit),
        "VMGATE_MAX_CONTACTS": str(args.max_contacts),
        "VMGATE_LOG_LEVEL": str(args.log_level),
    }
    lines = ["# Written by deploy/kamailio/render.py; holds the API token: keep it private.\n"]
    lines += [f"#!define {k} {v}\n" for k, v in defines.items()]
    local = out / "vmgate-edge.cfg"
    fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(lines)
    os.chmod(local, 0o600)
    return out / "kamailio.cfg"


def main(argv=None) -> int:
    cfg = render(parse_args(argv))
    print(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
