"""Malformed and odd SIP messages for the SIP edge (tests/sip/test_corpus.py), in the
categories of RFC 4475 ("SIP Torture Test Messages"): our own messages, not the RFC's.

Each case is a message template for ``edge.exchange`` (``{edge}``, ``{local}``,
``{local_ip}``, ``{local_port}``, ``{tag}``; literal braces doubled) and the answer an
*authorized* source must get: a status code, or None for no answer at all (ACKs, responses,
what Kamailio's core cannot parse). An unauthorized source gets no answer to any of them.

The called number 99937412345 is routed by the test's trunk (tech prefix 999): a
well-formed INVITE gets 302.
"""

from __future__ import annotations

from dataclasses import dataclass

NUMBER = "99937412345"
CRLF = "\r\n"


@dataclass(frozen=True)
class Case:
    name: str
    category: str  # RFC 4475 section this case belongs to
    expect: int | None
    message: str | bytes


def headers(method="INVITE", cseq=None, **replace):
    """The usual header lines of a request, in order; ``replace`` maps a header name
    (underscores for dashes) to a new line (None drops it)."""
    lines = {
        "Via": "Via: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}",
        "Max_Forwards": "Max-Forwards: 70",
        "From": "From: <sip:carrier@{local}>;tag=f-{tag}",
        "To": f"To: <sip:{NUMBER}@{{edge}}>",
        "Call_ID": "Call-ID: {tag}@{local_ip}",
        "CSeq": f"CSeq: {cseq or 1} {method}",
        "Contact": "Contact: <sip:carrier@{local}>",
    }
    for key, value in replace.items():
        lines[key] = value
    return [v for v in lines.values() if v is not None]


def request(
    method="INVITE",
    uri=None,
    version="SIP/2.0",
    hdrs=None,
    extra=(),
    body="",
    content_length=None,
):
    """A request template: start line, header lines, Content-Length (from the body unless
    given; False for none), blank line, body."""
    uri = uri if uri is not None else f"sip:{NUMBER}@{{edge}}"
    lines = [f"{method} {uri} {version}"]
    lines += hdrs if hdrs is not None else headers(method)
    lines += list(extra)
    if content_length is not False:
        n = len(body.encode()) if content_length is None else content_length
        lines.append(f"Content-Length: {n}")
    return CRLF.join(lines) + CRLF + CRLF + body


SDP = (
    "v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
)
SDP_TYPE = "Content-Type: application/sdp"


def invite(**kw):
    return request("INVITE", **kw)


def options(**kw):
    kw.setdefault("uri", "sip:edge@{edge}")
    return request("OPTIONS", **kw)


CASES: list[Case] = []


def case(name, category, expect, message):
    CASES.append(Case(name, category, expect, message))


# --- 3.1.1 Valid messages that stress the parser: normal answers -----------------------
V = "3.1.1 valid"
case("plain-invite", V, 302, invite())
case("invite-with-sdp", V, 302, invite(extra=[SDP_TYPE], body=SDP))
case("plain-options", V, 200, options())
case(
    "short-header-forms",
    V,
    302,
    invite(
        hdrs=[
            "v: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}",
            "Max-Forwards: 70",
            "f: <sip:carrier@{local}>;tag=f-{tag}",
            f"t: <sip:{NUMBER}@{{edge}}>",
            "i: {tag}@{local_ip}",
            "CSeq: 1 INVITE",
            "m: <sip:carrier@{local}>",
        ],
        extra=["c: application/sdp"],
        body=SDP,
    ),
)
case(
    "header-names-in-odd-case",
    V,
    302,
    invite(
        hdrs=[
            "vIa: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}",
            "max-FORWARDS: 70",
            "FROM: <sip:carrier@{local}>;tag=f-{tag}",
            f"to: <sip:{NUMBER}@{{edge}}>",
            "cAlL-iD: {tag}@{local_ip}",
            "cseq: 1 INVITE",
        ]
    ),
)
case(
    "whitespace-around-colons",
    V,
    302,
    invite(
        hdrs=[
            "Via   :   SIP/2.0/UDP {local};branch=z9hG4bK-{tag}",
            "Max-Forwards:70",
            "From\t: <sip:carrier@{local}>;tag=f-{tag}",
            f"To:<sip:{NUMBER}@{{edge}}>",
            "Call-ID  :{tag}@{local_ip}",
            "CSeq :   1    INVITE",
        ]
    ),
)
case(
    "folded-header-lines",
    V,
    302,
    invite(
        hdrs=headers(
            Via="Via: SIP/2.0/UDP\r\n  {local};branch=z9hG4bK-{tag}",
            Contact="Contact:\r\n\t<sip:carrier@{local}>",
        ),
        extra=["Subject: a subject\r\n  folded on\r\n\ttwo more lines"],
    ),
)
case(
    "unknown-headers",
    V,
    302,
    invite(extra=["X-Odd-Header: !\"#$%&'()*+,-./:;<=>?@[]^_`{{|}}~", "NewFangledHeader: value"]),
)
case(
    "two-via-headers",
    V,
    302,
    invite(
        hdrs=headers(
            Via="Via: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}\r\n"
            "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-upstream"
        )
    ),
)
case(
    "two-vias-in-one-header",
    V,
    302,
    invite(
        hdrs=headers(
            Via="Via: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}, "
            "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-up"
        )
    ),
)
case(
    "quoted-display-name-with-escapes",
    V,
    302,
    invite(hdrs=headers(From='From: "Carrier \\"A\\" \\\\ Ltd" <sip:carrier@{local}>;tag=f-{tag}')),
)
case(
    "from-without-angle-brackets",
    V,
    302,
    invite(hdrs=headers(From="From: sip:carrier@{local_ip};tag=f-{tag}")),
)
case(
    "escaped-characters-in-uris",
    V,
    302,
    invite(hdrs=headers(From="From: <sip:car%72ier@{local}>;tag=f-{tag}")),
)
case("uri-parameters", V, 302, invite(uri=f"sip:{NUMBER}@{{edge}};user=phone;transport=udp"))
case("uppercase-uri-scheme", V, 302, invite(uri=f"SIP:{NUMBER}@{{edge}}"))
case("sips-request-uri", V, 302, invite(uri=f"sips:{NUMBER}@{{edge}}"))
case("cseq-at-its-largest", V, 302, invite(hdrs=headers(cseq=2**31 - 1)))
case("max-forwards-255", V, 302, invite(hdrs=headers(Max_Forwards="Max-Forwards: 255")))
case("max-forwards-1", V, 302, invite(hdrs=headers(Max_Forwards="Max-Forwards: 1")))
case("no-max-forwards", V, 302, invite(hdrs=headers(Max_Forwards=None)))
case("expires-valid", V, 302, invite(extra=["Expires: 180"]))
case("supported-unknown-option", V, 302, invite(extra=["Supported: timer, 100rel, x-odd"]))
case("proxy-require-ignored-by-a-uas", V, 302, invite(extra=["Proxy-Require: foo"]))
case(
    "rfc2543-branch-without-magic-cookie",
    V,
    302,
    invite(hdrs=headers(Via="Via: SIP/2.0/UDP {local};branch=old-{tag}")),
)
case("rfc2543-no-branch", V, 302, invite(hdrs=headers(Via="Via: SIP/2.0/UDP {local}")))
case("from-without-tag", V, 302, invite(hdrs=headers(From="From: <sip:carrier@{local}>")))
case(
    "ipv6-reference-in-to",
    V,
    302,
    invite(hdrs=headers(To=f"To: <sip:{NUMBER}@[2001:db8::10]:5060>")),
)
case(
    "two-contacts",
    V,
    302,
    invite(
        hdrs=headers(Contact="Contact: <sip:carrier@{local}>;q=0.9, <sip:carrier2@{local}>;q=0.1")
    ),
)
case("unknown-content-type", V, 302, invite(extra=["Content-Type: application/x-odd"], body="odd"))
case(
    "unusual-but-legal-token-characters",
    V,
    302,
    invite(extra=["X-Token: a-b.c!d%e*f_g+h`i'j~k"]),
)
case(
    "escaped-hash-in-number",
    V,
    302,
    invite(uri="sip:%39%39%39%33%37%34%31%32%33%34%35@{edge}"),
)
case(
    "utf8-display-name",
    V,
    302,
    invite(hdrs=headers(From='From: "Ереван Ünïcødé" <sip:carrier@{local}>;tag=f-{tag}')),
)
case(
    "long-valid-header",
    V,
    302,
    invite(extra=["X-Long: " + "a" * 2000]),
)
case("empty-body-no-content-length", V, 302, invite(content_length=False))

# --- 3.1.2 Invalid messages: 400, 505, 416 ---------------------------------------------
INV = "3.1.2 invalid"
for name in ("Via", "From", "To", "Call_ID", "CSeq"):
    case(
        f"missing-{name.lower().replace('_', '-')}", INV, 400, invite(hdrs=headers(**{name: None}))
    )
    case(
        f"options-missing-{name.lower().replace('_', '-')}",
        INV,
        400,
        options(hdrs=headers("OPTIONS", **{name: None})),
    )
case(
    "missing-all-mandatory-headers",
    INV,
    400,
    invite(hdrs=["Max-Forwards: 70", "Contact: <sip:carrier@{local}>"]),
)
case("sip-version-7", INV, 505, invite(version="SIP/7.0"))
case("sip-version-1", INV, 505, invite(version="SIP/1.0"))
case("options-sip-version-3", INV, 505, options(version="SIP/3.0"))
case("negative-content-length", INV, 400, invite(content_length=-999))
case("content-length-larger-than-body", INV, 400, invite(body="v=0\r\n", content_length=900))
case("content-length-not-a-number", INV, 400, invite(content_length="abc"))
case("content-length-overflow", INV, 400, invite(content_length=2**32 + 5))
case("two-content-lengths", INV, 400, invite(extra=["Content-Length: 0"]))
case("cseq-not-a-number", INV, 400, invite(hdrs=headers(CSeq="CSeq: one INVITE")))
case("cseq-overflow", INV, 400, invite(hdrs=headers(CSeq="CSeq: 4294967296 INVITE")))
case("cseq-negative", INV, 400, invite(hdrs=headers(CSeq="CSeq: -1 INVITE")))
case("cseq-method-mismatch", INV, 400, invite(hdrs=headers(CSeq="CSeq: 1 OPTIONS")))
case("cseq-without-method", INV, 400, invite(hdrs=headers(CSeq="CSeq: 1")))
case("max-forwards-not-a-number", INV, 400, invite(hdrs=headers(Max_Forwards="Max-Forwards: abc")))
case("max-forwards-negative", INV, 400, invite(hdrs=headers(Max_Forwards="Max-Forwards: -1")))
case("max-forwards-over-255", INV, 400, invite(hdrs=headers(Max_Forwards="Max-Forwards: 300")))
case(
    "max-forwards-huge",
    INV,
    400,
    invite(hdrs=headers(Max_Forwards="Max-Forwards: 12345678901234567890")),
)
case("max-forwards-empty", INV, 400, invite(hdrs=headers(Max_Forwards="Max-Forwards: ")))
case("two-max-forwards", INV, 400, invite(extra=["Max-Forwards: 69"]))
case("expires-not-a-number", INV, 400, invite(extra=["Expires: soon"]))
case("expires-overflow", INV, 400, invite(extra=["Expires: 99999999999999999999"]))
case("two-call-ids", INV, 400, invite(extra=["Call-ID: second-{tag}"]))
case("two-cseqs", INV, 400, invite(extra=["CSeq: 2 INVITE"]))
case("two-from-headers", INV, 400, invite(extra=["From: <sip:other@{local}>;tag=x"]))
case("two-to-headers", INV, 400, invite(extra=[f"To: <sip:{NUMBER}@192.0.2.1>"]))
case(
    "unterminated-quoted-display-name",
    INV,
    400,
    invite(hdrs=headers(From='From: "Carrier <sip:carrier@{local}>;tag=f-{tag}')),
)
case("from-uri-broken", INV, 400, invite(hdrs=headers(From="From: <sip:@:x>;tag=f-{tag}")))
case("to-uri-broken", INV, 400, invite(hdrs=headers(To="To: <sip:>")))
case("to-without-uri", INV, 400, invite(hdrs=headers(To="To: ")))
case("request-uri-in-angle-brackets", INV, 400, invite(uri=f"<sip:{NUMBER}@{{edge}}>"))
case("request-uri-broken-host", INV, 400, invite(uri=f"sip:{NUMBER}@[not-an-address"))
case("request-uri-bad-port", INV, 400, invite(uri=f"sip:{NUMBER}@127.0.0.1:99999999"))
case("tel-request-uri", INV, 416, invite(uri="tel:+37412345"))
case("tels-request-uri", INV, 416, invite(uri="tels:+37412345"))
case("http-request-uri", INV, 416, invite(uri="http://example.com/call"))
case("urn-request-uri", INV, 416, invite(uri="urn:service:sos"))
case("im-request-uri-options", INV, 416, options(uri="im:someone@example.com"))
case(
    "duplicate-to-tags",
    INV,
    400,
    invite(hdrs=headers(To=f"To: <sip:{NUMBER}@{{edge}}>;tag=a;tag=b")),
)
case(
    "duplicate-from-tags",
    INV,
    400,
    invite(hdrs=headers(From="From: <sip:carrier@{local}>;tag=a;tag=b")),
)
case("number-with-a-letter", INV, 484, invite(uri="sip:999374A2345@{edge}"))
case("number-broken-escape", INV, 484, invite(uri="sip:999374%G12@{edge}"))
case("number-with-escaped-newline", INV, 484, invite(uri="sip:374%0A12@{edge}"))
case("wrong-tech-prefix", INV, 404, invite(uri="sip:11137412345@{edge}"))

# --- 3.1.2 / 3.4 Messages the core of Kamailio cannot parse ---------------------------------
# A request line "METHOD URI SIP/2.0" with headers that do not parse gets 400, written by the
# script and sent to the packet's source (event_route[core:receive-parse-error]); no request
# line at all, one without a SIP version, or a reply: never an answer.
P = "3.1.2 unparseable"
case("empty-datagram-crlf", P, None, "\r\n\r\n")
case("garbage", P, None, "this is not SIP at all\r\n\r\n")
case("binary-garbage", P, None, bytes(range(256)))
case("nul-bytes", P, None, b"\x00" * 64)
case("start-line-only", P, 400, f"INVITE sip:{NUMBER}@{{edge}} SIP/2.0\r\n\r\n")
case("no-via-parseable", P, 400, invite(hdrs=headers(Via="Via: this is not a via")))
case(
    "via-bad-version",
    P,
    400,
    invite(hdrs=headers(Via="Via: SIP/3.0/UDP {local};branch=z9hG4bK-{tag}")),
)
case("via-no-host", P, 400, invite(hdrs=headers(Via="Via: SIP/2.0/UDP ;branch=z9hG4bK-{tag}")))
case(
    "via-bad-port",
    P,
    400,
    invite(hdrs=headers(Via="Via: SIP/2.0/UDP {local_ip}:99999999;branch=z9hG4bK-{tag}")),
)
case("request-line-missing-version", P, None, invite(version=""))
case(
    "request-line-extra-spaces-tolerated",
    INV,
    302,
    invite(uri=f"sip:{NUMBER}@{{edge}}  ", version=" SIP/2.0"),
)
case("request-uri-with-embedded-spaces", P, 400, invite(uri=f"sip:{NUMBER} @{{edge}}"))
case("method-missing", P, None, invite(uri="", version=""))
case("header-without-colon", INV, 400, invite(extra=["NoColonHere"]))
case("headers-not-terminated", INV, 400, invite().rstrip("\r\n"))
case(
    "response-200",
    P,
    None,
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {edge};branch=z9hG4bK-x\r\n"
    "Via: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}\r\n"
    "From: <sip:a@{local}>;tag=1\r\nTo: <sip:b@{edge}>;tag=2\r\nCall-ID: {tag}\r\n"
    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
)
case(
    "response-180-unmatched",
    P,
    None,
    "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}\r\n"
    "From: <sip:a@{local}>;tag=1\r\nTo: <sip:b@{edge}>;tag=2\r\nCall-ID: {tag}\r\n"
    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
)
case(
    "response-bad-code",
    P,
    None,
    "SIP/2.0 9999 Odd\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{tag}\r\n\r\n",
)
case("keepalive-crlf", P, None, "\r\n")
case("stun-like-binary", P, None, b"\x00\x01\x00\x00\x21\x12\xa4\x42" + b"\x00" * 12)

# --- 3.2 Transport layer: size -------------------------------------------------------------
T = "3.2 transport"
case(
    "over-16k-with-body",
    T,
    513,
    invite(extra=["Content-Type: text/plain"], body="x" * 17000),
)
case(
    "over-16k-in-headers",
    T,
    513,
    invite(extra=[f"X-Pad-{i}: " + "p" * 990 for i in range(18)]),
)
case("near-64k", T, 513, invite(extra=["Content-Type: text/plain"], body="y" * 65000))
case(
    "options-over-16k",
    T,
    513,
    options(extra=["Content-Type: text/plain"], body="z" * 20000),
)
case(
    "just-under-the-limit",
    T,
    302,
    invite(extra=["Content-Type: text/plain"], body="w" * 15000),
)

# --- 3.3 Application layer semantics ------------------------------------------------------
A = "3.3 semantics"
case("max-forwards-zero", A, 483, invite(hdrs=headers(Max_Forwards="Max-Forwards: 0")))
case(
    "options-max-forwards-zero",
    A,
    483,
    options(hdrs=headers("OPTIONS", Max_Forwards="Max-Forwards: 0")),
)
case(
    "max-forwards-zero-padded",
    A,
    483,
    invite(hdrs=headers(Max_Forwards="Max-Forwards: 000")),
)
case("require-100rel", A, 420, invite(extra=["Require: 100rel"]))
case("require-two-options", A, 420, invite(extra=["Require: foo, bar"]))
case("require-two-headers", A, 420, invite(extra=["Require: foo", "Require: bar"]))
case("options-require-unknown", A, 420, options(extra=["Require: nonsenseext"]))
case("stray-cancel", A, 481, request("CANCEL"))
case("cancel-with-require", A, 481, request("CANCEL", extra=["Require: foo"]))
case("stray-ack", A, None, request("ACK"))
case("ack-missing-headers", A, None, request("ACK", hdrs=headers("ACK", From=None, CSeq=None)))
for method in ("REGISTER", "BYE", "INFO", "MESSAGE", "SUBSCRIBE", "NOTIFY", "UPDATE", "REFER"):
    case(f"method-{method.lower()}", A, 405, request(method, hdrs=headers(method)))
case("unknown-method", A, 405, request("NEWMETHOD", hdrs=headers("NEWMETHOD")))
case("lowercase-method-is-another-method", A, 405, request("invite", hdrs=headers("invite")))
case("prack-without-dialog", A, 405, request("PRACK", hdrs=headers("PRACK")))
