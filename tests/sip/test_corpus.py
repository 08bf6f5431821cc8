"""The corpus of malformed and odd messages (tests/sip/corpus.py, RFC 4475's categories),
sent over raw UDP to the edge: nothing at all comes back to a source that no trunk of the
edge's tenant authorizes; an authorized source gets RFC 3261's answer; and after each batch
the edge still routes a valid INVITE."""

from __future__ import annotations

import pytest

from tests.factories import CustomerFactory, TrunkFactory, TrunkNetworkFactory
from tests.sip.corpus import CASES, invite
from tests.sip.edge import exchange, status_code

pytestmark = [pytest.mark.sip, pytest.mark.django_db(transaction=True)]

# How long a source waits for an answer that must not come, after its last message.
SILENCE_S = 0.5
BATCH = 15


def test_the_corpus_covers_rfc_4475s_categories():
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.category.split()[0] for c in CASES} == {"3.1.1", "3.1.2", "3.2", "3.3"}


def still_routes(edge):
    (answers,) = exchange(edge.port, [invite()], "127.0.0.1", 0.5)
    assert 302 in [status_code(a) for a in answers], answers


def test_no_message_of_the_corpus_gets_any_answer_from_strangers(edge, carrier, other_tenant):
    # 127.0.0.3 is authorized, but by another tenant's trunk: a stranger to this edge too.
    other = TrunkFactory(customer=CustomerFactory(tenant=other_tenant), tenant=other_tenant)
    TrunkNetworkFactory(trunk=other, network="127.0.0.3/32")
    edge.wait_authorized("127.0.0.1")  # the networks are loaded (127.0.0.3's too)
    for source in ("127.0.0.2", "127.0.0.3"):
        got = exchange(edge.port, [c.message for c in CASES], source, SILENCE_S)
        loud = {c.name: answers for c, answers in zip(CASES, got, strict=True) if answers}
        assert loud == {}, f"answered {source}"
        still_routes(edge)


def test_an_authorized_source_gets_rfc_3261s_answer_to_each(edge, carrier):
    edge.wait_authorized("127.0.0.1")
    wrong = {}
    for start in range(0, len(CASES), BATCH):
        batch = CASES[start : start + BATCH]
        got = exchange(edge.port, [c.message for c in batch], "127.0.0.1", SILENCE_S)
        for c, answers in zip(batch, got, strict=True):
            codes = [status_code(a) for a in answers]
            final = [code for code in codes if code and code >= 200]
            seen = final[0] if final else None
            if seen != c.expect or len(set(final)) > 1:
                wrong[c.name] = (c.expect, codes)
        still_routes(edge)
    assert wrong == {}, "\n".join(f"{k}: expected {e}, got {g}" for k, (e, g) in wrong.items())


def test_the_answers_carry_what_rfc_3261_asks(edge, carrier):
    """420 lists the unsupported options; 513, 483 and 416 come with their phrases."""
    edge.wait_authorized("127.0.0.1")
    by_name = {c.name: c for c in CASES}
    names = [
        "require-two-headers",
        "over-16k-with-body",
        "max-forwards-zero",
        "tel-request-uri",
        "two-call-ids",
        "missing-call-id",
        "sip-version-7",
        "via-no-host",
    ]
    got = exchange(edge.port, [by_name[n].message for n in names], "127.0.0.1", SILENCE_S)
    first = {n: answers[0].decode() for n, answers in zip(names, got, strict=True)}
    require = first["require-two-headers"]
    assert require.startswith("SIP/2.0 420 Bad Extension\r\n")
    assert "\r\nUnsupported: foo,bar\r\n" in require
    assert first["over-16k-with-body"].startswith("SIP/2.0 513 Message Too Large\r\n")
    assert first["max-forwards-zero"].startswith("SIP/2.0 483 Too Many Hops\r\n")
    assert first["tel-request-uri"].startswith("SIP/2.0 416 Unsupported URI Scheme\r\n")
    # written by hand (Kamailio cannot parse the headers): still matchable by the sender
    twice = first["two-call-ids"]
    assert twice.startswith("SIP/2.0 400 Bad Header\r\n")
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        assert f"\r\n{name}: " in twice, (name, twice)
    # Kamailio's core would drop these three; the script answers them, by hand as well
    missing = first["missing-call-id"]
    assert missing.startswith("SIP/2.0 400 Bad Header\r\n")
    assert "\r\nCall-ID: " not in missing
    for name in ("Via", "From", "To", "CSeq"):
        assert f"\r\n{name}: " in missing, (name, missing)
    assert first["sip-version-7"].startswith("SIP/2.0 505 Version Not Supported\r\n")
    assert first["via-no-host"].startswith("SIP/2.0 400 Bad Request\r\n")
