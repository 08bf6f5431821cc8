"""Parsing and normalising authorized networks (IPv4/IPv6 hosts and CIDR ranges)."""

import ipaddress

from django.core.exceptions import ValidationError


def normalise_network(value):
    """Return ``value`` as a canonical network string (``203.0.113.10/32``).

    Refuses zone ids, the whole address space, and ranges with host bits set (suggesting
    the corrected range). A host is stored as /32 (IPv4) or /128 (IPv6).
    """
    text = (value or "").strip()
    if not text:
        raise ValidationError("Enter an IPv4 or IPv6 host or CIDR range.", code="required")
    if "\x00" in text or len(text) > 64:
        raise ValidationError("Enter an IPv4 or IPv6 host or CIDR range.", code="invalid")
    if "%" in text:
        raise ValidationError(
            "Zone ids (the part after %) are not allowed; enter the address without it.",
            code="zone_id",
        )
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValidationError(
                f"“{text}” is not an IPv4 or IPv6 host or CIDR range.", code="invalid"
            ) from exc
        raise ValidationError(
            f"{text} has host bits set: did you mean {loose}?",
            code="host_bits",
            params={"suggestion": str(loose)},
        ) from exc
    if net.prefixlen == 0:
        raise ValidationError(
            f"{net} would authorize every address; list the customer's hosts or ranges.",
            code="everything",
        )
    if isinstance(net, ipaddress.IPv6Network) and net.network_address.ipv4_mapped:
        mapped = net.network_address.ipv4_mapped
        plen = net.prefixlen - 96
        if plen > 0:
            net = ipaddress.ip_network(f"{mapped}/{plen}", strict=False)
    return str(net)


def parse_ip(value):
    """Parse a source IP for ingress matching; IPv4-mapped IPv6 becomes IPv4."""
    ip = ipaddress.ip_address(value.strip())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def networks_overlap(a, b):
    na, nb = ipaddress.ip_network(a), ipaddress.ip_network(b)
    return na.version == nb.version and na.overlaps(nb)
