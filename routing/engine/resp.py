"""The route service's second protocol: the SIP edge's route lookups in RESP, the Redis
protocol (issue 16; bench/README.md, "One index per host").

Why: Kamailio's ``ndb_redis`` module (hiredis) sends one command and reads one answer with
two system calls and a few thousand instructions; its ``http_client`` (libcurl) spent ~80k
instructions and more system calls per request on HTTP framing, and a JSON answer more on
parsing. The service tells the two protocols apart by a connection's first byte (a RESP
command is an array, ``*``; an HTTP request starts with its method), so one address
serves both. Only what the edge needs is spoken:

- ``ROUTE <API token> <called_number> <source_ip> [<calling_number>]``: the decision (the
  calling number is the From user part; empty = not given) as the ``?format=edge``
  text (``routing.engine.http.edge_answer``: the API's validation, engine and rendering),
  the error ``INVALID <field errors as JSON>`` where the API answers 400, or ``NOAUTH …``
  where it answers 401/403. The token is checked on every command as the API checks it
  (``TokenAuthentication``, whose cache keeps a resolved token one second): a revoked
  token stops working within that second, as for HTTP. It travels with each command, not
  in an ``AUTH`` when connecting, because ``ndb_redis`` sends that ``AUTH`` before it sets
  its command timeout: a hung service would hold a Kamailio worker for good.
- ``PING`` and ``SELECT <n>`` (what ``ndb_redis`` sends on connecting).

Anything else is an error reply; a malformed frame is answered with an error and closes the
connection.
"""

from __future__ import annotations

import json

from rest_framework.exceptions import AuthenticationFailed

from routing.engine.http import edge_answer
from vmgate.api_auth import TokenAuthentication

MAX_ARGS = 8
MAX_ARG = 4096


class ProtocolError(ValueError):
    """A frame that is not a RESP array of bulk strings within the limits."""


def take_command(buffer):
    """``(arguments as bytes, bytes consumed)`` of the first whole command in ``buffer``;
    None when more bytes are needed; ProtocolError when it cannot be one."""
    end = buffer.find(b"\r\n")
    if end < 0:
        if len(buffer) > 32:
            raise ProtocolError("array header too long")
        return None
    count = _length(buffer, 0, end, b"*", MAX_ARGS)
    pos = end + 2
    args = []
    for _ in range(count):
        end = buffer.find(b"\r\n", pos)
        if end < 0:
            if len(buffer) - pos > 32:
                raise ProtocolError("bulk header too long")
            return None
        size = _length(buffer, pos, end, b"$", MAX_ARG)
        start, stop = end + 2, end + 2 + size
        if len(buffer) < stop + 2:
            return None
        if buffer[stop : stop + 2] != b"\r\n":
            raise ProtocolError("bulk string not terminated")
        args.append(buffer[start:stop])
        pos = stop + 2
    if not args:
        raise ProtocolError("empty command")
    return args, pos


def _length(buffer, start, end, kind, limit):
    digits = buffer[start + 1 : end]
    if buffer[start : start + 1] != kind or not digits.isdigit() or len(digits) > 5:
        raise ProtocolError("bad length")
    value = int(digits)
    if value > limit:
        raise ProtocolError("too long")
    return value


def bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def error(text: str) -> bytes:
    return b"-" + " ".join(text.split()).encode("utf-8", "replace") + b"\r\n"


OK = b"+OK\r\n"
PONG = b"+PONG\r\n"


def answer(args):
    """The reply (bytes) to one command (a list of bytes)."""
    name = args[0].upper()
    if name == b"ROUTE" and len(args) in (4, 5):
        return route(*args[1:])
    if name == b"PING" and len(args) == 1:
        return PONG
    if name == b"SELECT" and len(args) == 2:
        return OK
    return error("ERR unknown command or wrong number of arguments")


def membership_of(raw_key):
    """The membership of a token key (bytes), or None (unknown, malformed, no tenant)."""
    try:
        key = raw_key.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not key or any(c.isspace() for c in key):
        return None
    try:
        found = TokenAuthentication.authenticate_header_value(f"Token {key}")
    except AuthenticationFailed:
        return None
    if found is None or found[1] is None:
        return None
    return found[1]


def route(key, number, source_ip, calling=b""):
    membership = membership_of(key)
    if membership is None:
        return error("NOAUTH the API token of a tenant login is required")
    try:
        number, source_ip = number.decode("utf-8"), source_ip.decode("utf-8")
    except UnicodeDecodeError:
        return error('INVALID {"called_number": ["Not valid UTF-8."]}')
    try:
        calling = calling.decode("utf-8") or None
    except UnicodeDecodeError:
        return error('INVALID {"calling_number": ["Not valid UTF-8."]}')
    text, errors = edge_answer(membership.tenant, number, source_ip, calling)
    if text is None:
        return error("INVALID " + json.dumps(errors, ensure_ascii=True))
    return bulk(text.encode())
