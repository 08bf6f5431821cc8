"""RFC 3261 §25.1 SIP-URI / SIPS-URI, checked part by part so a refusal says what is wrong.

    SIP-URI  = ("sip:" / "sips:") [ userinfo ] hostport uri-parameters [ headers ]
    userinfo = user [ ":" password ] "@"
    hostport = host [ ":" port ]        host = hostname / IPv4address / "[" IPv6address "]"
    uri-parameters = *( ";" pname [ "=" pvalue ] )
    headers  = "?" hname "=" hvalue *( "&" hname "=" hvalue )

Only the ASCII characters the grammar allows: no space, CR/LF or other control character,
no ``<``, ``>``, ``"`` or ``@`` outside its place (the SIP edge copies the URI into a
``Contact`` header). Ports are 1–65535 (the grammar's ``1*DIGIT`` would allow 0).
"""

import ipaddress
import re

from django.core.exceptions import ValidationError

ALNUM = "A-Za-z0-9"
MARK = re.escape("-_.!~*'()")
UNRESERVED = f"{ALNUM}{MARK}"
ESCAPED = "%[0-9A-Fa-f]{2}"

USER = re.compile(rf"(?:[{UNRESERVED}{re.escape('&=+$,;?/')}]|{ESCAPED})+\Z")
PASSWORD = re.compile(rf"(?:[{UNRESERVED}{re.escape('&=+$,')}]|{ESCAPED})*\Z")
PARAMCHARS = rf"(?:[{UNRESERVED}{re.escape('[]/:&+$')}]|{ESCAPED})"
PARAM = re.compile(rf"{PARAMCHARS}+(?:={PARAMCHARS}+)?\Z")
HNVCHARS = rf"(?:[{UNRESERVED}{re.escape('[]/?:+$')}]|{ESCAPED})"
HEADER = re.compile(rf"{HNVCHARS}+={HNVCHARS}*\Z")
DOMAINLABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
TOPLABEL = r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"(?:{DOMAINLABEL}\.)*{TOPLABEL}\.?\Z")
IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}\Z")
IPV6 = re.compile(r"[0-9A-Fa-f:.]+\Z")
PORT = re.compile(r"[0-9]{1,5}\Z")

EXAMPLE = "e.g. sip:10.8.0.12:5060 or sips:gw1.example.net;transport=tls"


def _refuse(reason):
    raise ValidationError(f"Not a valid SIP URI: {reason} ({EXAMPLE}).", code="invalid_sip_uri")


def _check_host(host):
    if host.startswith("["):
        inner = host[1:-1] if host.endswith("]") else None
        try:
            if inner is None or not IPV6.match(inner):
                raise ValueError
            ipaddress.IPv6Address(inner)
        except ValueError:
            _refuse(f"“{host}” is not an IPv6 address in brackets")
        return
    if IPV4.match(host):
        if any(int(part) > 255 for part in host.split(".")):
            _refuse(f"“{host}” is not an IPv4 address (each part is 0–255)")
        return
    if not host:
        _refuse("the host is missing")
    if len(host) > 253 or not HOSTNAME.match(host):
        _refuse(
            f"“{host}” is not a host name (letters, digits, hyphens and dots), "
            "an IPv4 address or an [IPv6] address"
        )


def validate_sip_uri(value):
    """Raise ValidationError unless ``value`` is a SIP-URI or SIPS-URI of RFC 3261."""
    if not value:
        return
    if not value.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        _refuse("no spaces, line breaks, control or non-ASCII characters")
    if any(c in value for c in '<>"'):
        _refuse('no <, > or " characters')
    scheme, sep, rest = value.partition(":")
    if not sep or scheme.lower() not in ("sip", "sips"):
        _refuse("it must start with sip: or sips:")
    # "@" appears nowhere but between userinfo and host (the user part may hold ; ? /).
    if rest.count("@") > 1:
        _refuse("at most one @, between the user part and the host")
    userinfo, at, rest = rest.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if not USER.match(user) or (colon and not PASSWORD.match(password)):
            _refuse(f"the user part “{userinfo}” has a character SIP does not allow there")
    hostpart, qmark, headers = rest.partition("?")
    if qmark and not all(HEADER.match(h) for h in headers.split("&")):
        _refuse("the ?headers must be name=value pairs joined by &")
    hostport, *params = hostpart.split(";")
    if not all(PARAM.match(p) for p in params):
        _refuse("each ;parameter must be a name or name=value")
    if hostport.startswith("["):
        host, bracket, port_part = hostport.partition("]")
        host += bracket
        if port_part and not port_part.startswith(":"):
            _refuse(f"“{hostport}” is not an [IPv6] address with an optional :port")
        port = port_part[1:] if port_part else None
    else:
        host, colon, port = hostport.partition(":")
        port = port if colon else None
    _check_host(host)
    if port is not None and not (PORT.match(port) and 1 <= int(port) <= 65535):
        _refuse(f"the port “{port}” must be a number 1–65535")
