"""Index snapshots (issue 16: the route service starts from one): an index built from a
snapshot and caught up with the change feed equals a fresh build, whatever was edited after
the snapshot was written; a snapshot that cannot be trusted is not used."""

import os
import stat

import pytest
from django.db import connection, transaction

from routing.engine import index as route_index
from routing.engine.steps import decide
from tests.factories import TenantFactory
from tests.routing.test_route_index import AT, EDITS, NUMBERS, Shop

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="snapshots keep a PostgreSQL transaction id"
)


@pytest.fixture
def shop(transactional_db):
    route_index.reset()
    return Shop(TenantFactory())


def same_as_fresh(idx, shop):
    fresh = route_index.TenantIndex(shop.tenant.pk)
    fresh.build()
    assert idx.snapshot() == fresh.snapshot()
    for trunk in (shop.t1, shop.t2, shop.t3):
        for n in NUMBERS:
            raw = trunk.tech_prefix + n
            got = decide(idx, raw, trunk.pk, None, AT, True, shop.tenant.currency)
            want = decide(fresh, raw, trunk.pk, None, AT, True, shop.tenant.currency)
            assert got.as_dict() == want.as_dict(), raw


def test_a_snapshot_builds_the_index_a_database_build_would(shop, tmp_path):
    path = route_index.snapshot_path(tmp_path, shop.tenant.pk)
    assert route_index.write_snapshot(shop.tenant.pk, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    idx = route_index.build_from_snapshot(shop.tenant.pk, path)
    assert idx is not None and idx.specs  # targets included
    same_as_fresh(idx, shop)


@pytest.mark.parametrize("edit", EDITS, ids=lambda f: f.__name__)
def test_edits_after_the_snapshot_are_caught_up_from_the_change_feed(shop, tmp_path, edit):
    path = route_index.snapshot_path(tmp_path, shop.tenant.pk)
    route_index.write_snapshot(shop.tenant.pk, path)
    edit(shop)
    idx = route_index.build_from_snapshot(shop.tenant.pk, path)
    same_as_fresh(idx, shop)


def test_a_snapshot_is_never_written_inside_a_transaction(shop, tmp_path):
    path = route_index.snapshot_path(tmp_path, shop.tenant.pk)
    with transaction.atomic():
        assert not route_index.write_snapshot(shop.tenant.pk, path)
    assert not path.exists()


def test_a_snapshot_that_cannot_be_trusted_is_not_used(shop, tmp_path, monkeypatch):
    path = route_index.snapshot_path(tmp_path, shop.tenant.pk)
    assert route_index.build_from_snapshot(shop.tenant.pk, path) is None  # missing
    route_index.write_snapshot(shop.tenant.pk, path)
    assert route_index.read_snapshot(path, shop.tenant.pk + 1) is None  # another tenant's
    monkeypatch.setattr(route_index, "SNAPSHOT_FORMAT", route_index.SNAPSHOT_FORMAT + 1)
    assert route_index.read_snapshot(path, shop.tenant.pk) is None  # another format
    monkeypatch.undo()
    monkeypatch.setattr(route_index, "LOG_RETENTION", route_index.timedelta(seconds=0))
    assert route_index.read_snapshot(path, shop.tenant.pk) is None  # too old for the feed
    monkeypatch.undo()
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])  # cut short: the build fails, nothing installed
    assert route_index.build_from_snapshot(shop.tenant.pk, path) is None
    path.write_bytes(b"not a snapshot")
    assert route_index.read_snapshot(path, shop.tenant.pk) is None
