#!/usr/bin/env python3
"""Write a runnable SIP edge configuration directory.

Copies deploy/kamailio/kamailio.cfg into OUT_DIR and writes OUT_DIR/vmgate-edge.cfg (mode
0600, it holds the API token) with the parameters the configuration includes, and
OUT_DIR/run, the one command line that starts it (in the foreground; extra arguments such
as ``-m 256`` are passed on):

    OUT_DIR/run -m 256

Every option falls back to an environment variable (shown in --help), so a service unit can
keep the token out of the command line. Standard library only: it runs without the venv.

Kamailio reads the authorized source networks and the trunks' max_cps from the app's
database (read-only views, customers migration 0005): --db-url, PostgreSQL or the SQLite
file. The edge's tenant (the group it checks sources against) is the token's: asked once
from GET /api/v1/me/ unless --tenant-id gives it.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent

# Kamailio's command line, wherever the edge is started (make sip-edge, the SIP tests, the
# benchmarks): in the foreground, logging to stderr, and with the TLSF memory managers for
# private and shared memory: Debian's default (q_malloc, a first-fit walk) spent 23 % of
# the edge's instructions per call in qm_malloc; TLSF cut them by 21 % (bench/README.md,
# "Instructions per call").
KAMAILIO_ARGS = ("-x", "tlsf", "-X", "tlsf", "-DD", "-E")
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"

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
    """http://HOST:PORT of the route service (manage.py route_service), which answers the
    edge's lookups in RESP and its one GET /api/v1/me/ in HTTP on the same port."""
    parts = urlsplit(value.rstrip("/"))
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None or parts.path:
        raise argparse.ArgumentTypeError("expected http://HOST:PORT of the route service")
    if re.search(r'["$\\\s@;=]', value):
        raise argparse.ArgumentTypeError("URL must not contain quotes, $, \\, @, ;, = or spaces")
    return value.rstrip("/")


def _db_url(value: str) -> str:
    """Django's DATABASE_URL (postgres://, postgresql://, sqlite:///PATH) → Kamailio's."""
    if re.search(r'["$\\\s]', value):
        raise argparse.ArgumentTypeError("database URL must not contain quotes, $, \\ or spaces")
    parts = urlsplit(value)
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        if not parts.hostname or not parts.path.strip("/"):
            raise argparse.ArgumentTypeError("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DB")
        return "postgres://" + value.split("://", 1)[1]
    if parts.scheme == "sqlite":
        path = Path(unquote(parts.path))
        if not path.is_absolute() or not path.is_file():
            raise argparse.ArgumentTypeError(
                "expected sqlite:////absolute/path of an existing file"
            )
        return f"sqlite://{path}"
    raise argparse.ArgumentTypeError("expected a postgres:// or sqlite:/// database URL")


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
        default=env("VMGATE_API_URL", "http://127.0.0.1:8701"),
        help="the route service of this host, manage.py route_service "
        "(VMGATE_API_URL, default http://127.0.0.1:8701)",
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
        "--db-url",
        type=_db_url,
        default=env("VMGATE_DB_URL") or env("DATABASE_URL"),
        help="the app's database, read for authorized networks and max_cps "
        "(VMGATE_DB_URL, else DATABASE_URL; postgres://… or sqlite:////path)",
    )
    p.add_argument(
        "--tenant-id",
        type=int,
        default=int(env("VMGATE_TENANT_ID", "0")) or None,
        help="the tenant whose trunks may send (VMGATE_TENANT_ID; default: the API "
        "token's tenant, from GET /api/v1/me/)",
    )
    p.add_argument(
        "--reload-interval",
        type=int,
        choices=range(1, 61),
        metavar="SECONDS",
        default=int(env("VMGATE_RELOAD_INTERVAL", "2")),
        help="reload authorized networks and max_cps every SECONDS (VMGATE_RELOAD_INTERVAL, "
        "default 2)",
    )
    p.add_argument(
        "--max-message-size",
        type=int,
        default=int(env("VMGATE_MAX_MESSAGE_SIZE", "16384")),
        help="larger requests get 513 (bytes; VMGATE_MAX_MESSAGE_SIZE, default 16384)",
    )
    p.add_argument(
        "--max-subnets",
        type=int,
        default=int(env("VMGATE_MAX_SUBNETS", "65536")),
        help="room for authorized ranges (not /32 or /128) over all tenants "
        "(VMGATE_MAX_SUBNETS, default 65536)",
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
    if args.db_url is None:
        p.error("the database URL is required (--db-url, VMGATE_DB_URL or DATABASE_URL)")
    for name in ("children", "pike_density", "pike_unit", "max_subnets"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.pike_density > 65535:
        # pike counts in 16 bits: 1,000,000 blocked a source at 9,000 requests/s in
        # bench/sip_bench.sh (2 s unit), where 65535 per 1 s unit did not
        p.error("--pike-density must be at most 65535 (pike's counters are 16-bit)")
    if not 1024 <= args.max_message_size <= 65535:
        p.error("--max-message-size must be 1024..65535")
    if args.tenant_id is None:
        try:
            args.tenant_id = tenant_of_token(args.api_url, args.token)
        except (OSError, ValueError, KeyError) as exc:
            p.error(
                f"could not ask the API for the token's tenant ({exc}); give --tenant-id "
                "(an app with DJANGO_DEBUG=0 redirects plain HTTP to HTTPS except the route API)"
            )
    if args.tenant_id < 1:
        p.error("--tenant-id must be at least 1")
    return args


def tenant_of_token(api_url: str, token: str) -> int:
    """The tenant id of the API token, from GET /api/v1/me/ of the route service."""
    url = api_url + "/api/v1/me/"
    req = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        tenant_id = json.loads(resp.read())["tenant_id"]
    if type(tenant_id) is not int:
        raise ValueError(f"tenant_id {tenant_id!r}")
    return tenant_id


def route_server(api_url: str) -> str:
    """ndb_redis's server "vmgate": the route service's address (no password: the token
    goes with each command, see kamailio.cfg)."""
    parts = urlsplit(api_url)
    return f"name=vmgate;addr={parts.hostname};port={parts.port}"


def render(args) -> Path:
    out = args.out_dir
    if re.search(r'["$\\\s]', str(out.resolve())):
        sys.exit("the output directory's path must not contain quotes, $, \\ or spaces")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "kamailio.cfg", out / "kamailio.cfg")
    defines = {
        "VMGATE_LISTEN": args.listen,
        "VMGATE_ROUTE_SERVER": f'"{route_server(args.api_url)}"',
        # the route lookup's command, with the token; %s: the number and the source IP
        "VMGATE_ROUTE_COMMAND": f'"ROUTE {args.token} %s %s %s"',
        # each of the two tries (see kamailio.cfg) gets half of --api-timeout
        "VMGATE_ROUTE_TIMEOUT_MS": str(args.api_timeout * 500),
        "VMGATE_CHILDREN": str(args.children),
        "VMGATE_PIKE_DENSITY": str(args.pike_density),
        "VMGATE_PIKE_UNIT": str(args.pike_unit),
        "VMGATE_MAX_CONTACTS": str(args.max_contacts),
        "VMGATE_LOG_LEVEL": str(args.log_level),
        "VMGATE_DB_URL": f'"{args.db_url}"',
        "VMGATE_SQLCON": f'"edge=>{args.db_url}"',
        "VMGATE_TENANT_ID": f'"{args.tenant_id}"',
        "VMGATE_RELOAD_TIMER": f'"name=reload;interval={args.reload_interval};mode=1;"',
        "VMGATE_MAX_MESSAGE_SIZE": str(args.max_message_size),
        "VMGATE_MAX_SUBNETS": str(args.max_subnets),
        "VMGATE_RPC_FIFO": f'"{out.resolve() / "rpc.fifo"}"',
    }
    if args.db_url.startswith("sqlite://"):
        defines["VMGATE_DB_SQLITE"] = "1"
    lines = [
        "# Written by deploy/kamailio/render.py; holds the API token and the database URL:"
        " keep it private.\n"
    ]
    lines += [f"#!define {k} {v}\n" for k, v in defines.items()]
    local = out / "vmgate-edge.cfg"
    fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(lines)
    os.chmod(local, 0o600)
    run = out / "run"
    run.write_text(
        "#!/bin/sh\n# Written by deploy/kamailio/render.py: starts this edge in the foreground.\n"
        f'exec {KAMAILIO} {" ".join(KAMAILIO_ARGS)} -f "{out.resolve() / "kamailio.cfg"}" "$@"\n'
    )
    run.chmod(0o755)
    return out / "kamailio.cfg"


def main(argv=None) -> int:
    cfg = render(parse_args(argv))
    print(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
