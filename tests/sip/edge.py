"""Real processes for the SIP edge tests: gunicorn serving the app, Kamailio running the
shipped configuration, sipp sending SIP. Everything binds 127.0.0.1 / 127.0.0.2 on ports
picked free at run time, and every process is stopped by its PID."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
RENDER = REPO / "deploy" / "kamailio" / "render.py"
SIPP = shutil.which("sipp") or "/usr/bin/sipp"


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def udp_port_bound(port: int) -> bool:
    """True once some process has a UDP socket on ``port`` (read from /proc/net/udp)."""
    wanted = f":{port:04X}"
    with open("/proc/net/udp") as f:
        next(f)
        return any(line.split()[1].endswith(wanted) for line in f)


def stop(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM by PID, then SIGKILL if it lingers; a stopped (SIGSTOP) process is resumed."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGCONT)
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def start_app_process(
    args: list[str], database_url: str, log: Path, env_extra: dict | None = None
) -> subprocess.Popen:
    """``python ARGS`` from the repository on ``database_url``, its output appended to ``log``."""
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_CONN_MAX_AGE="60", **(env_extra or {}))
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


class AppProcess:
    """A process of the app's (``proc``), with its children, that a test may freeze."""

    proc: subprocess.Popen

    def freeze(self) -> None:
        """SIGSTOP it and its children: connections are accepted by the kernel, never
        answered."""
        for pid in [self.proc.pid, *children_of(self.proc.pid)]:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in [self.proc.pid, *children_of(self.proc.pid)]:
            os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.thaw()
        stop(self.proc)


class Gunicorn(AppProcess):
    """The app under gunicorn on 127.0.0.1:<free port>, using ``database_url``."""

    def __init__(self, database_url: str, log_dir: Path, workers: int = 2, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"gunicorn-{self.port}.log"
        self.proc = start_app_process(
            [
                "-m",
                "gunicorn",
                "vmgate.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "30",
                "--graceful-timeout",
                "2",
            ],
            database_url,
            self.log,
            env,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers (401/403 without a token): ready
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready:\n{self.log.read_text()[-3000:]}")


class RouteService(AppProcess):
    """``manage.py route_service`` on 127.0.0.1:<port> (a free one, or ``port`` to come
    back where a killed one was), using ``database_url``; started, and ready when asked."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        port: int | None = None,
        wait=True,
        snapshot_dir=None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"route-service-{self.port}.log"
        options = ["--snapshot-dir", str(snapshot_dir)] if snapshot_dir else []
        self.proc = start_app_process(
            ["manage.py", "route_service", "--listen", f"127.0.0.1:{self.port}", *options],
            database_url,
            self.log,
        )
        if wait:
            self.wait_ready()

    def ready_status(self) -> int | None:
        return self.ready_answer()[0]

    def ready_answer(self) -> tuple[int | None, str]:
        try:
            with urllib.request.urlopen(f"{self.url}/ready", timeout=2) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except OSError:
            return None, ""

    def wait_ready(self, timeout: float = 60) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"route service exited:\n{self.log.read_text()[-3000:]}")
            status, text = self.ready_answer()
            # SO_REUSEPORT: beside a running service, /ready may be the other one's
            if status == 200 and text.rstrip().endswith(f"pid {self.proc.pid}"):
                return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(f"route service not ready:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """As a crash: SIGKILL, nothing cleaned up."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class Kamailio:
    """Kamailio in the foreground with the configuration rendered by deploy/kamailio/render.py."""

    def __init__(self, api_url: str, token: str, work_dir: Path, **options):
        self.port = free_port(socket.SOCK_DGRAM)
        self.dir = work_dir / f"kamailio-{self.port}"
        args = [
            sys.executable,
            str(RENDER),
            str(self.dir),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--api-url",
            api_url,
            "--children",
            str(options.pop("children", 4)),
        ]
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        rendered = subprocess.run(
            args,
            env=dict(os.environ, VMGATE_API_TOKEN=token),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        assert rendered.returncode == 0, rendered.stderr
        self.log = self.dir / "kamailio.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(self.dir / "run"), "-m", "64"],  # render.py's command line
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while not udp_port_bound(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"kamailio did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        # the listener is bound by the main process before the workers are forked
        time.sleep(0.3)

    def stop(self) -> None:
        stop(self.proc)

    def answers_options(self, source_ip: str = "127.0.0.1", wait: float = 0.3) -> bool:
        """True when an OPTIONS from ``source_ip`` gets any answer within ``wait`` s."""
        return bool(exchange(self.port, [options_message()], source_ip, wait)[0])

    def wait_authorized(self, source_ip: str = "127.0.0.1", timeout: float = 5.0) -> float:
        """Seconds until the edge answers ``source_ip`` (it reloads the authorized
        networks every few seconds); fails after ``timeout``."""
        started = time.monotonic()
        while not self.answers_options(source_ip, wait=0.2):
            assert time.monotonic() - started < timeout, f"{source_ip} never answered"
        return time.monotonic() - started

    def wait_silent(self, source_ip: str = "127.0.0.1", timeout: float = 5.0) -> float:
        """Seconds until the edge stops answering ``source_ip``; fails after ``timeout``."""
        started = time.monotonic()
        while self.answers_options(source_ip, wait=0.3):
            assert time.monotonic() - started < timeout, f"{source_ip} still answered"
            time.sleep(0.1)
        return time.monotonic() - started


def options_message() -> str:
    """An OPTIONS template for ``exchange`` (placeholders filled per socket)."""
    return (
        "OPTIONS sip:edge@{edge} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}\r\n"
        "From: <sip:probe@{local}>;tag={tag}\r\n"
        "To: <sip:edge@{edge}>\r\n"
        "Call-ID: {tag}@{local_ip}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    )


def exchange(
    edge_port: int, templates: list[str | bytes], source_ip: str, wait: float
) -> list[list[bytes]]:
    """Send each message from its own UDP socket on ``source_ip`` (all at once), then collect
    what comes back to each socket for ``wait`` seconds after the last send.

    A template is text or bytes with ``{edge}`` (edge host:port), ``{local}`` (this socket's
    host:port), ``{local_ip}``, ``{local_port}`` and ``{tag}`` (unique per message); ``{{`` and
    ``}}`` are literal braces. Returns the datagrams received, per message."""
    import select
    import uuid

    socks = []
    try:
        for template in templates:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind((source_ip, 0))
            socks.append(sock)
            port = sock.getsockname()[1]
            fields = {
                "edge": f"127.0.0.1:{edge_port}",
                "local": f"{source_ip}:{port}",
                "local_ip": source_ip,
                "local_port": str(port),
                "tag": uuid.uuid4().hex[:16],
            }
            if isinstance(template, bytes):
                data = template
                for key, value in fields.items():
                    data = data.replace(b"{" + key.encode() + b"}", value.encode())
            else:
                data = template.format(**fields).encode("utf-8", "surrogateescape")
            sock.sendto(data, ("127.0.0.1", edge_port))
        received: list[list[bytes]] = [[] for _ in socks]
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select(socks, [], [], left)
            for sock in ready:
                received[socks.index(sock)].append(sock.recv(70000))
        return received
    finally:
        for sock in socks:
            sock.close()


def status_code(datagram: bytes) -> int | None:
    m = re.match(rb"SIP/2\.0 (\d{3}) ", datagram)
    return int(m.group(1)) if m else None


@dataclass
class SipMessage:
    """One message from sipp's message log: the start line and the header fields in order."""

    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    at: float = 0.0

    @property
    def code(self) -> int | None:
        m = re.match(r"SIP/2\.0 (\d{3}) ", self.start_line)
        return int(m.group(1)) if m else None

    @property
    def reason_phrase(self) -> str:
        return self.start_line.split(" ", 2)[2] if self.code else ""

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def one(self, name: str) -> str:
        values = self.all(name)
        assert len(values) == 1, f"{name}: {values} in {self}"
        return values[0]


LOG_SEPARATOR = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$", re.M)


def read_message_log(path: Path) -> tuple[list[SipMessage], list[SipMessage]]:
    """(sent, received) messages of a sipp -trace_msg log, each with its timestamp."""
    from datetime import datetime

    sent, received = [], []
    if not path.exists():
        return sent, received
    text = path.read_text(errors="replace")
    parts = LOG_SEPARATOR.split(text)
    # parts: [preamble, ts1, block1, ts2, block2, ...]; a block follows its timestamp
    for stamp, block in zip(parts[1::2], parts[2::2], strict=True):
        lines = block.strip("\n").split("\n")
        if not lines or "message" not in lines[0]:
            continue
        direction = received if "received" in lines[0] else sent
        body = [ln.rstrip("\r") for ln in lines[1:]]
        while body and not body[0].strip():
            body.pop(0)
        if not body:
            continue
        msg = SipMessage(
            body[0].strip(), at=datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        )
        for ln in body[1:]:
            if not ln.strip():
                break
            name, _, value = ln.partition(":")
            msg.headers.append((name.strip(), value.strip()))
        direction.append(msg)
    return sent, received


@dataclass
class SippRun:
    returncode: int
    sent: list[SipMessage]
    received: list[SipMessage]
    output: str
    stats: dict[str, str]

    @property
    def answers(self) -> list[SipMessage]:
        return [m for m in self.received if m.code and m.code >= 200]

    @property
    def answer(self) -> SipMessage:
        codes = {(m.code, m.reason_phrase) for m in self.answers}
        assert len(codes) == 1, f"expected one final answer, got {codes}\n{self.output}"
        return self.answers[0]


def sipp(
    edge_port: int,
    scenario: str,
    work_dir: Path,
    *,
    number: str = "0",
    source_ip: str = "127.0.0.1",
    calls: int = 1,
    rate: int | None = None,
    trace: bool = True,
    timeout_s: int = 20,
    recv_timeout_ms: int | None = None,
    caller: str = "caller",
) -> SippRun:
    """Run one sipp scenario from ``source_ip`` against the edge and read what it saw.

    ``recv_timeout_ms`` ends a call whose expected answer does not come (for sources that
    must get no answer). Of sipp's default behaviours only "abort the call on an unexpected
    message" stays on: sipp sends nothing but the scenario's own messages (no BYE/CANCEL)."""
    port = free_port(socket.SOCK_DGRAM, source_ip)
    tag = f"{scenario.removesuffix('.xml')}-{port}"
    message_log = work_dir / f"{tag}-messages.log"
    stat_file = work_dir / f"{tag}-stats.csv"
    args = [
        SIPP,
        f"127.0.0.1:{edge_port}",
        "-sf",
        str(SCENARIOS / scenario),
        "-i",
        source_ip,
        "-p",
        str(port),
        "-s",
        number,
        "-m",
        str(calls),
        "-timeout",
        f"{timeout_s}s",
        "-nostdin",
        "-trace_stat",
        "-stf",
        str(stat_file),
        "-fd",
        "1",
        "-default_behaviors",
        "abortunexp",
        "-key",
        "caller",
        caller,
    ]
    if recv_timeout_ms:
        args += ["-recv_timeout", str(recv_timeout_ms)]
    if rate:
        args += ["-r", str(rate), "-l", str(max(rate * 2, 10))]
    if trace:
        args += ["-trace_msg", "-message_file", str(message_log)]
    proc = subprocess.run(
        args,
        cwd=work_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s + 30,
    )
    sent, received = read_message_log(message_log)
    return SippRun(
        proc.returncode, sent, received, proc.stdout + proc.stderr, read_stats(stat_file)
    )


def load_302(edge_port: int, work_dir: Path, number: str, calls: int, rate: int) -> SippRun:
    """``calls`` INVITEs at ``rate`` per second, each of which must get its 302."""
    return sipp(
        edge_port,
        "invite_302.xml",
        work_dir,
        number=number,
        calls=calls,
        rate=rate,
        trace=False,
        timeout_s=calls // rate + 30,
    )


def read_stats(path: Path) -> dict[str, str]:
    """The last row of sipp's -trace_stat CSV, by column name."""
    if not path.exists():
        return {}
    rows = [r for r in path.read_text().splitlines() if r.strip()]
    if len(rows) < 2:
        return {}
    head, last = rows[0].split(";"), rows[-1].split(";")
    return dict(zip(head, last, strict=False))
