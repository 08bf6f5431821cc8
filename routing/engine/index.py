"""The data source the decision steps read: one tenant's routing data in memory, built
from the database and kept current from the change feed (``routing.engine.feed``).

Shape (one :class:`TenantIndex` per tenant, built on the first decision for that tenant):

* ``routes[trunk_id]`` — a dict ``code → links`` holding *every* dialpeer of the trunk as
  a :class:`~routing.engine.refs.LinkRef` (its state and its rule's state), plus the tuple
  of code lengths present. Most codes have one link, stored bare; several are a tuple in
  the steps' rank order (``steps.links_at`` reads either). The loader loads rows; eligibility and ranking are the steps'
  (``steps.pick_link``). A decision probes only the lengths present, longest first: its
  cost does not grow with the dialpeers of the trunk or the rules of the tenant.
* ingress by source IP: per IP version a dict ``prefix length → {network address → trunk
  ids}``, probed once per prefix length present (≤ 33 / 129 probes), never a scan.
* trunks, customers, clients, SIM slots and network membership as dicts of snapshots;
  rate plans as ``code → rates newest first`` plus the lengths present.
* each link also carries what an explanation shows of it (the dialpeer's name, the rule's
  label and assignment), so explaining a call asks the database nothing for its candidates,
  and the winner's dialpeer and rule snapshots are made from it;
* routing policy (SPEC §9): translation sets compiled (``tsets``), number lists as
  :class:`routing.policy.ListMatcher` (``nlists``) and each trunk's list ids
  (``trunk_lists``), schedules compiled (``schedules``), each network's egress set
  (``network_egress``, only networks that have one) and name;
* ``specs[rule_id]`` — every rule's targets (``TargetSpec``, a lone one stored bare),
  loaded with the rest: **no route is cold**. A decision never asks the database, whether
  its route was used a million times or never, and the index's size depends on the data,
  not on the traffic (no per-route cache).

Freshness: database triggers append every change of a routing table to
``routing_routechange`` in the same transaction (see ``routing/engine/feed.py``). An index
polls that log at most every :data:`POLL_INTERVAL` seconds, and immediately on the next
decision after this process wrote anything (a connection execute-wrapper notices every
INSERT/UPDATE/DELETE). It then reloads only what changed: the affected (trunk, code) entries,
one trunk's networks, one client's state, one (plan, code) rate list… On PostgreSQL the
poll asks for rows whose transaction id is ≥ the ``xmin`` of the previous poll's snapshot,
so a transaction that commits late is never missed; rows already applied are skipped.
Rows of this connection's own open transaction are applied too (so a test or view sees its
own writes) and re-applied once that transaction is over, which undoes them if it rolled
back.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import os
import pickle
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connection

from customers.models import Customer, Rate, RatePlan, Trunk, TrunkNetwork, TrunkNumberList
from dialpeers.models import Dialpeer
from routing import policy
from routing.engine import refs as E
from routing.engine.feed import TABLE as CHANGE_TABLE
from routing.engine.steps import links_at, network_by_weight, ranked
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingTarget,
    Schedule,
    ScheduleWindow,
    SimSlot,
    TranslationRule,
    TranslationSet,
    VMGateClient,
)

logger = logging.getLogger(__name__)

#: Seconds between polls of the change log when this process did not write.
POLL_INTERVAL = 0.5
#: Change-log rows older than this are pruned; an index idle for half of it rebuilds.
LOG_RETENTION = timedelta(hours=24)
#: Indexes with more route entries than this are frozen out of the garbage collector.
FREEZE_ABOVE = 100_000

_indexes: dict[int, TenantIndex] = {}
_indexes_lock = threading.Lock()
_write_seq = 0  # bumped whenever this process sends a write statement
_rollback_seq = 0  # bumped on every ROLLBACK [TO SAVEPOINT] statement


def note_write():
    global _write_seq
    _write_seq += 1


def note_rollback():
    global _rollback_seq
    _rollback_seq += 1
    note_write()


_WRITE_VERBS = frozenset(("INSERT", "UPDATE", "DELETE"))


def _write_watcher(execute, sql, params, many, context):
    """Execute-wrapper installed on every connection: a write means "poll before the next
    decision", both now (own transaction) and after commit (other threads' connections)."""
    if isinstance(sql, str):
        verb = sql.lstrip()[:8].upper()
        if verb[:6] in _WRITE_VERBS:
            note_write()
            conn = context["connection"]
            if conn.in_atomic_block:
                conn.on_commit(note_write)
        elif verb == "ROLLBACK":
            note_rollback()
    return execute(sql, params, many, context)


def install_write_watcher(sender=None, connection=None, **kwargs):
    if connection is not None and _write_watcher not in connection.execute_wrappers:
        connection.execute_wrappers.append(_write_watcher)


def reset():
    """Forget every index (tests; a management command after a bulk load)."""
    with _indexes_lock:
        _indexes.clear()
        _ids.clear()  # the shared id objects of the indexes just dropped


def install(idx):
    """Register an index built elsewhere (the route service builds from a snapshot)."""
    with _indexes_lock:
        _indexes[idx.tenant_id] = idx


def all_indexes():
    """The indexes built so far (a copy: safe to iterate while another thread builds)."""
    with _indexes_lock:
        return list(_indexes.values())


def get_index(tenant_id):
    idx = _indexes.get(tenant_id)
    if idx is None:
        with _indexes_lock:
            idx = _indexes.get(tenant_id)
            if idx is None:
                idx = TenantIndex(tenant_id)
                idx.build()
                _indexes[tenant_id] = idx
                return idx
    idx.maybe_sync()
    return idx


@dataclass(slots=True)
class RuleDetail:
    """The winning rule as step 8 reads it: its snapshot and its targets."""

    ref: E.RuleRef
    specs: tuple


@dataclass(slots=True)
class SetEntry:
    """A translation set as the steps apply it: its rules compiled, in position order."""

    id: int
    name: str
    rules: tuple = ()


@dataclass(slots=True)
class ListEntry:
    """A number list as step 5b checks it."""

    id: int
    name: str
    kind: str
    applies_to: str
    matcher: policy.ListMatcher = None


@dataclass(slots=True)
class PlanEntry:
    id: int
    name: str
    currency: str
    status: str
    table: dict = field(default_factory=dict)
    lengths: tuple = ()


class TenantIndex:
    """Everything one tenant's live decisions read. See the module docstring."""

    def __init__(self, tenant_id):
        self.tenant_id = tenant_id
        self.lock = threading.RLock()
        self.vendor = connection.vendor
        self._clear()

    def _clear(self):
        self.trunks = {}
        self.customers = {}
        self.plans = {}
        self.routes = {}  # trunk id → (table, lengths)
        self.nets = {4: {}, 6: {}}
        self.net_lengths = {4: (), 6: ()}
        self.trunk_nets = {}
        self.clients = {}
        self.slots = {}
        self.client_slots = {}
        self.network_clients = {}
        self.network_order = {}  # network id → its ready clients in weight order (lazy)
        self.specs = {}  # rule id → its TargetSpecs (a lone one bare), in (priority, id) order
        # routing policy (SPEC §9)
        self.tsets = {}  # set id → SetEntry
        self.nlists = {}  # list id → ListEntry
        self.trunk_lists = {}  # trunk id → its list ids, ascending (only trunks with lists)
        self.schedules = {}  # schedule id → policy.CompiledSchedule
        self.network_egress = {}  # network id → egress set id (only networks with one)
        self.network_names = {}  # network id → name (explanations)
        # change-log position
        self.xmin = 0
        self.seen = {}
        self.last_id = 0
        self.last_token = None
        self.tentative_xid = None
        self.tentative = []
        self.build_xid = None
        self.uncertain = False
        self.rollback_seq = _rollback_seq
        self.last_poll = 0.0
        self.last_poll_wall = datetime.now(UTC)
        self.write_seq = _write_seq
        self.builds = 0

    # --- building ------------------------------------------------------------------------

    def build(self, snapshot=None):
        """Load everything ranking needs for the tenant (the cold start): from the database,
        or from ``snapshot`` (a file written by :func:`write_snapshot`, already checked by
        :func:`read_snapshot`), whose change-log position the next poll continues from.

        The garbage collector is off meanwhile: a build allocates millions of objects and no
        cycles, and the collections those allocations set off cost ~40 % of a 1M build's CPU
        (bench/README.md, "Ready")."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self.lock:
                self._clear()
                self.builds += 1
                if snapshot is None:
                    self._mark_position()
                    self._build_from(self.db_rows())
                else:
                    self._restore_position(snapshot.position)
                    self._build_from(snapshot.rows())
        finally:
            if collecting:
                gc.enable()

    def db_rows(self):
        """``kind → rows`` from the database, lazily (each is read when the build gets to
        it, the large ones through a server-side cursor), in :data:`ROW_KINDS` order."""
        tid = self.tenant_id
        return {
            "trunks": Trunk.objects.filter(tenant_id=tid).values_list(*_TRUNK_FIELDS),
            "customers": Customer.objects.filter(tenant_id=tid).values_list(*_CUSTOMER_FIELDS),
            "trunknets": TrunkNetwork.objects.filter(trunk__tenant_id=tid).values_list(
                "trunk_id", "network"
            ),
            "plans": RatePlan.objects.filter(tenant_id=tid).values_list(*_PLAN_FIELDS),
            "rates": Rate.objects.filter(rate_plan__tenant_id=tid)
            .values_list(*_RATE_FIELDS)
            .iterator(chunk_size=20_000),
            "clients": VMGateClient.objects.filter(tenant_id=tid).values_list(*_CLIENT_FIELDS),
            "slots": SimSlot.objects.filter(client__tenant_id=tid).values_list(*_SLOT_FIELDS),
            "links": self._link_rows(None).iterator(chunk_size=50_000),
            "targets": RoutingTarget.objects.filter(rule__tenant_id=tid)
            .order_by()
            .values_list(*_TARGET_FIELDS)
            .iterator(chunk_size=50_000),
            **self._policy_rows(),
        }

    def _policy_rows(self, ids=None):
        """The routing-policy rows (SPEC §9) of the tenant, or only of ``ids`` (kind → ids)."""
        tid = self.tenant_id

        def only(qs, kind, field="id"):
            if ids is None:
                return qs
            if kind not in ids:
                return qs.none()  # asks the database nothing
            return qs.filter(**{f"{field}__in": list(ids[kind])})

        return {
            "networks": only(Network.objects.filter(tenant_id=tid), "network").values_list(
                *_NETWORK_FIELDS
            ),
            "tsets": only(TranslationSet.objects.filter(tenant_id=tid), "tset").values_list(
                "id", "name"
            ),
            "trules": only(
                TranslationRule.objects.filter(translation_set__tenant_id=tid),
                "tset",
                "translation_set_id",
            )
            .order_by("translation_set_id", "position", "id")
            .values_list(*_TRULE_FIELDS),
            "nlists": only(NumberList.objects.filter(tenant_id=tid), "nlist").values_list(
                *_NLIST_FIELDS
            ),
            "nlentries": only(
                NumberListEntry.objects.filter(number_list__tenant_id=tid),
                "nlist",
                "number_list_id",
            )
            .order_by()
            .values_list("number_list_id", "value", "match")
            .iterator(chunk_size=50_000),
            "trunklists": only(
                TrunkNumberList.objects.filter(trunk__tenant_id=tid), "trunk", "trunk_id"
            )
            .order_by()
            .values_list("trunk_id", "number_list_id"),
            "schedules": only(Schedule.objects.filter(tenant_id=tid), "sched").values_list(
                "id", "name", "timezone"
            ),
            "windows": only(
                ScheduleWindow.objects.filter(schedule__tenant_id=tid), "sched", "schedule_id"
            )
            .order_by()
            .values_list("schedule_id", "weekdays", "start", "end"),
        }

    def _set_policy(self, rows, ids=None):
        """Install policy rows (all of them, or those of ``ids``: kind → ids, whose old
        entries are dropped first — a deleted row is one that did not come back)."""
        if ids is not None:
            for network_id in ids.get("network", ()):
                self.network_egress.pop(network_id, None)
                self.network_names.pop(network_id, None)
            for set_id in ids.get("tset", ()):
                self.tsets.pop(set_id, None)
            for list_id in ids.get("nlist", ()):
                self.nlists.pop(list_id, None)
            for trunk_id in ids.get("trunk", ()):
                self.trunk_lists.pop(trunk_id, None)
            for schedule_id in ids.get("sched", ()):
                self.schedules.pop(schedule_id, None)
        for network_id, name, egress_id in rows["networks"]:
            self.network_names[network_id] = name
            if egress_id is not None:
                self.network_egress[network_id] = egress_id
        sets = {set_id: (name, []) for set_id, name in rows["tsets"]}
        for set_id, *rule in rows["trules"]:
            if set_id in sets:
                sets[set_id][1].append(policy.compile_rule(*rule))
        for set_id, (name, rules) in sets.items():
            self.tsets[set_id] = SetEntry(set_id, name, tuple(rules))
        lists = {row[0]: row for row in rows["nlists"]}
        entries = {}
        for list_id, value, match in rows["nlentries"]:
            entries.setdefault(list_id, []).append((value, match))
        for list_id, row in lists.items():
            self.nlists[list_id] = ListEntry(*row, policy.ListMatcher(entries.get(list_id, ())))
        trunk_lists = {}
        for trunk_id, list_id in rows["trunklists"]:
            trunk_lists.setdefault(trunk_id, []).append(list_id)
        for trunk_id, list_ids in trunk_lists.items():
            self.trunk_lists[trunk_id] = tuple(sorted(list_ids))
        schedules = {row[0]: row for row in rows["schedules"]}
        windows = {}
        for schedule_id, *window in rows["windows"]:
            windows.setdefault(schedule_id, []).append(window)
        for schedule_id, (_, name, tz) in schedules.items():
            self.schedules[schedule_id] = policy.compile_schedule(
                schedule_id, name, tz, windows.get(schedule_id, ())
            )

    def _build_from(self, rows):
        for row in rows["trunks"]:
            self.trunks[row[0]] = _trunk_ref(row)
        for c in rows["customers"]:
            self.customers[c[0]] = E.CustomerRef(*c)
        for trunk_id, network in rows["trunknets"]:
            self._add_network(trunk_id, network)
        self._refresh_net_lengths()
        for p in rows["plans"]:
            self.plans[p[0]] = PlanEntry(*p)
        rates = {}
        for r in rows["rates"]:
            rates.setdefault(r[1], []).append(r)
        for plan_id, plan_rates in rates.items():
            plan = self.plans.get(plan_id)
            if plan is not None:
                self._set_plan_rates(plan, plan_rates)
        for c in rows["clients"]:
            self._set_client(E.ClientRef(*c))
        for s in rows["slots"]:
            self.slots[s[0]] = E.SlotRef(*s)
            self.client_slots.setdefault(s[1], set()).add(s[0])
        for ids in self.network_clients.values():
            ids.sort()
        found = self._links(rows["links"])
        self.routes = {t: (table, _lengths(table)) for t, table in found.items()}
        self.specs = _group_specs(rows["targets"])
        self._set_policy(rows)
        if sum(len(table) for table, _ in self.routes.values()) > FREEZE_ABOVE:
            # A large index lives as long as the process: keep its objects out of every
            # future garbage collection (DESIGN.md "Performance shape").
            gc.freeze()

    def _link_rows(self, trunk_ids, codes=None):
        """The dialpeers of every trunk (None), or of ``trunk_ids`` (optionally only ``codes``
        of them): every dialpeer, whatever its state or its rule's — the steps judge them."""
        qs = Dialpeer.objects.filter(tenant_id=self.tenant_id)
        if trunk_ids is not None:
            qs = qs.filter(trunk_id__in=list(trunk_ids))
        if codes is not None:
            qs = qs.filter(rule__code__in=list(codes))
        return qs.order_by().values_list("trunk_id", *E.LINK_SOURCE)

    def _load_routes(self, trunk_ids, codes=None):
        """``{trunk: {code: links}}`` for ``trunk_ids`` (and ``codes``), from the database."""
        return self._links(self._link_rows(trunk_ids, codes))

    def _links(self, rows):
        """``{trunk: {code: links}}`` from link rows (``_link_rows``'s columns)."""
        found, shared = {}, []
        # one string object per distinct code, label and assignment (a dict of this build's
        # own: sys.intern's global table cost 0.2 µs a call, 3M calls at 1M dialpeers)
        canon = {}.setdefault
        same, link = _same_id, E.LinkRef
        for row in rows:
            trunk_id, dp_id, rule_id, code, dp_active, customer_id, rule_active, scope = row[:8]
            name, label, assignment, schedule_id = row[8:]
            code = canon(code, code)
            by_code = found.get(trunk_id)
            if by_code is None:
                by_code = found[trunk_id] = {}
            customer_id, scope = same(customer_id), same(scope)
            ref = link(
                dp_id,
                rule_id,
                code,
                dp_active,
                customer_id,
                rule_active,
                scope,
                name,
                canon(label, label),
                canon(assignment, assignment),
                schedule_id,
            )
            links = by_code.get(code)
            if links is None:
                by_code[code] = ref  # a lone link is stored bare (steps.links_at)
            else:
                by_code[code] = (*links_at(links), ref)
                shared.append((by_code, code))
        for by_code, code in shared:  # a code with several links: in the steps' rank order
            by_code[code] = ranked(by_code[code])
        return found

    def _load_specs(self, rule_ids):
        """(Re)load the targets of ``rule_ids``."""
        rule_ids = list(rule_ids)
        for i in range(0, len(rule_ids), 500):
            chunk = rule_ids[i : i + 500]
            found = _group_specs(
                RoutingTarget.objects.filter(rule__tenant_id=self.tenant_id, rule_id__in=chunk)
                .order_by()
                .values_list(*_TARGET_FIELDS)
            )
            for rule_id in chunk:
                if rule_id in found:
                    self.specs[rule_id] = found[rule_id]
                else:
                    self.specs.pop(rule_id, None)

    def _add_network(self, trunk_id, network):
        net = ipaddress.ip_network(network, strict=False)
        key = (net.version, int(net.network_address), net.prefixlen)
        self.trunk_nets.setdefault(trunk_id, []).append(key)
        bucket = self.nets[net.version].setdefault(net.prefixlen, {})
        bucket.setdefault(key[1], []).append(trunk_id)

    def _remove_networks(self, trunk_id):
        for version, addr, plen in self.trunk_nets.pop(trunk_id, ()):
            bucket = self.nets[version].get(plen, {})
            ids = [t for t in bucket.get(addr, ()) if t != trunk_id]
            if ids:
                bucket[addr] = ids
            else:
                bucket.pop(addr, None)
                if not bucket:
                    self.nets[version].pop(plen, None)

    def _refresh_net_lengths(self):
        self.net_lengths = {v: tuple(sorted(self.nets[v], reverse=True)) for v in (4, 6)}

    def _set_plan_rates(self, plan, rows):
        table = {}
        canon = {}.setdefault  # one string object per code and description
        for r in rows:
            rate = E.RateRef(
                r[0],
                plan.id,
                plan.name,
                plan.currency,
                canon(r[2], r[2]),
                canon(r[3], r[3]),
                *r[4:],
            )
            table.setdefault(rate.code, []).append(rate)
        for versions in table.values():
            versions.sort(key=lambda x: (x.valid_since, x.id), reverse=True)
        plan.table = table
        plan.lengths = _lengths(table)

    def _set_client(self, ref):
        old = self.clients.get(ref.id)
        if old is not None and old.network_id != ref.network_id:
            members = self.network_clients.get(old.network_id)
            if members and ref.id in members:
                members.remove(ref.id)
        self.clients[ref.id] = ref
        members = self.network_clients.setdefault(ref.network_id, [])
        if ref.id not in members:
            members.append(ref.id)
            members.sort()

    # --- the change log ------------------------------------------------------------------

    def _mark_position(self):
        """Remember where the log stands before a build reads anything."""
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                cur.execute(
                    "SELECT txid_snapshot_xmin(txid_current_snapshot()), "
                    "txid_current_if_assigned(), c.id, c.xid "
                    f"FROM (SELECT 1) AS one LEFT JOIN {CHANGE_TABLE} c ON c.tenant_id = %s "
                    "AND c.xid >= txid_snapshot_xmin(txid_current_snapshot())",
                    [self.tenant_id],
                )
                rows = cur.fetchall()
                self.xmin, self.build_xid = rows[0][0], rows[0][1]
                # What is visible now is in the build: later polls need not apply it again.
                self.seen = {cid: xid for _, _, cid, xid in rows if cid is not None}
            else:
                cur.execute(
                    f"SELECT id, token FROM {CHANGE_TABLE} WHERE tenant_id = %s "
                    "ORDER BY id DESC LIMIT 1",
                    [self.tenant_id],
                )
                row = cur.fetchone()
                self.last_id, self.last_token = row if row else (0, None)
                self.build_xid = "atomic" if connection.in_atomic_block else None
        self.uncertain = self.build_xid is not None
        self.rollback_seq = _rollback_seq
        self.last_poll = time.monotonic()
        self.last_poll_wall = datetime.now(UTC)
        self.write_seq = _write_seq

    def _restore_position(self, position):
        """Continue the change log where a snapshot's rows were read (see _mark_position)."""
        self.xmin, self.seen = position["xmin"], dict(position["seen"])
        self.build_xid, self.uncertain = None, False
        self.rollback_seq, self.write_seq = _rollback_seq, _write_seq
        self.last_poll = 0.0  # poll before the first decision
        self.last_poll_wall = datetime.fromtimestamp(position["built_at"], UTC)

    def maybe_sync(self):
        """Poll the change log if this process wrote since the last poll, if the last poll
        is older than POLL_INTERVAL, or if the index holds rows of an open transaction."""
        if (
            not self.uncertain
            and self.write_seq == _write_seq
            and time.monotonic() - self.last_poll < POLL_INTERVAL
        ):
            return
        self.sync()

    def sync(self):
        """Apply every change logged since the last poll."""
        with self.lock:
            if datetime.now(UTC) - self.last_poll_wall > LOG_RETENTION / 2:
                self.build()
                return
            self.write_seq = _write_seq
            self.last_poll = time.monotonic()
            self.last_poll_wall = datetime.now(UTC)
            if self.vendor == "postgresql":
                changes = self._poll_postgresql()
            else:
                changes = self._poll_sqlite()
            if changes is None:
                self.build()
                return
            if changes:
                self._apply(changes)

    def _poll_postgresql(self):
        with connection.cursor() as cur:
            cur.execute(
                "SELECT txid_snapshot_xmin(txid_current_snapshot()), txid_current_if_assigned(), "
                "c.id, c.xid, c.kind, c.obj_id, c.ref_id, c.code "
                f"FROM (SELECT 1) AS one LEFT JOIN {CHANGE_TABLE} c "
                "ON c.tenant_id = %s AND c.xid >= %s ORDER BY c.id",
                [self.tenant_id, self.xmin],
            )
            rows = cur.fetchall()
        xmin, own = rows[0][0], rows[0][1]
        rolled_back = self.rollback_seq != _rollback_seq
        self.rollback_seq = _rollback_seq
        if self.build_xid is not None and (own != self.build_xid or rolled_back):
            return None  # built from a transaction that ended or rolled back: start afresh
        changes = []
        if self.tentative and (own != self.tentative_xid or rolled_back):
            # Rows of our own transaction were applied; it ended or rolled back (part of)
            # its work: reload those items, which keeps a commit and undoes a rollback.
            changes.extend(self.tentative)
            if own != self.tentative_xid:
                self.tentative, self.tentative_xid = [], None
        seen = self.seen  # change id → xid, for rows that polls can still return
        for _, _, cid, xid, kind, obj, ref, code in rows:
            if cid is None or cid in seen:
                continue
            seen[cid] = xid
            item = (xid, kind, obj, ref, code)
            changes.append(item)
            if own is not None and xid == own:
                self.tentative.append(item)
                self.tentative_xid = own
        if xmin > self.xmin:
            self.seen = {cid: x for cid, x in seen.items() if x >= xmin}
            self.xmin = xmin
        self.uncertain = bool(self.tentative) or self.build_xid is not None
        return changes

    def _poll_sqlite(self):
        in_atomic = connection.in_atomic_block
        rolled_back = self.rollback_seq != _rollback_seq
        self.rollback_seq = _rollback_seq
        if self.uncertain and (not in_atomic or rolled_back):
            return None  # we read an open transaction that is over or rolled back
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT id, token, 0, kind, obj_id, ref_id, code FROM {CHANGE_TABLE} "
                "WHERE tenant_id = %s AND id >= %s ORDER BY id",
                [self.tenant_id, self.last_id],
            )
            rows = cur.fetchall()
        if self.last_id:
            if not rows or rows[0][0] != self.last_id or rows[0][1] != self.last_token:
                return None  # a transaction we had read rolled back: start afresh
            rows = rows[1:]
        if rows:
            self.last_id, self.last_token = rows[-1][0], rows[-1][1]
            if in_atomic:
                self.uncertain = True
        return [r[2:] for r in rows]

    def _apply(self, changes):
        """Reload exactly what the change rows name."""
        tid = self.tenant_id
        customers, trunks, trunknets, plans, clients, targets = (set() for _ in range(6))
        rates, buckets, rebuild = set(), set(), set()
        rules = {}
        dps = set()
        policy_ids = {}
        for _, kind, obj, ref, code in changes:
            if kind in _POLICY_KINDS:
                policy_ids.setdefault(kind, set()).add(obj)
            if kind == "customer":
                customers.add(obj)
            elif kind == "trunk":
                trunks.add(obj)  # the trunk's row or its number lists
                policy_ids.setdefault("trunk", set()).add(obj)
            elif kind == "trunknet":
                trunknets.add(obj)
            elif kind == "plan":
                plans.add(obj)
            elif kind == "rate":
                rates.add((obj, code or ""))
            elif kind == "client":
                clients.add(obj)
            elif kind == "rule":
                rules.setdefault(obj, set()).add(code or "")
            elif kind == "target":
                targets.add(obj)
            elif kind == "dp":
                dps.add(obj)
                if code is None:
                    rebuild.add(ref)
                else:
                    buckets.add((ref, code))

        if policy_ids:
            self._set_policy(self._policy_rows(policy_ids), policy_ids)
        if customers:
            found = {
                c[0]: E.CustomerRef(*c)
                for c in Customer.objects.filter(tenant_id=tid, id__in=customers).values_list(
                    *_CUSTOMER_FIELDS
                )
            }
            for cid in customers:
                if cid in found:
                    self.customers[cid] = found[cid]
                else:
                    self.customers.pop(cid, None)
        if trunks:
            found = {
                row[0]: _trunk_ref(row)
                for row in Trunk.objects.filter(tenant_id=tid, id__in=trunks).values_list(
                    *_TRUNK_FIELDS
                )
            }
            for trunk_id in trunks:
                old, new = self.trunks.get(trunk_id), found.get(trunk_id)
                if new is None:
                    self.trunks.pop(trunk_id, None)
                    self.routes.pop(trunk_id, None)
                    continue
                self.trunks[trunk_id] = new
                if old is None or old.customer_id != new.customer_id:
                    rebuild.add(trunk_id)
        if trunknets:
            for trunk_id in trunknets:
                self._remove_networks(trunk_id)
            for trunk_id, network in TrunkNetwork.objects.filter(
                trunk__tenant_id=tid, trunk_id__in=trunknets
            ).values_list("trunk_id", "network"):
                self._add_network(trunk_id, network)
            self._refresh_net_lengths()
        if plans:
            found = {
                p[0]: p
                for p in RatePlan.objects.filter(tenant_id=tid, id__in=plans).values_list(
                    *_PLAN_FIELDS
                )
            }
            for plan_id in plans:
                row = found.get(plan_id)
                if row is None:
                    self.plans.pop(plan_id, None)
                    continue
                old = self.plans.get(plan_id)
                plan = PlanEntry(*row)
                if old is not None and (old.name, old.currency) == (plan.name, plan.currency):
                    plan.table, plan.lengths = old.table, old.lengths
                    self.plans[plan_id] = plan
                else:
                    self.plans[plan_id] = plan
                    self._set_plan_rates(
                        plan,
                        Rate.objects.filter(rate_plan_id=plan_id).values_list(*_RATE_FIELDS),
                    )
                    rates = {(p, c) for p, c in rates if p != plan_id}
        if rates:
            by_plan = {}
            for plan_id, code in rates:
                by_plan.setdefault(plan_id, set()).add(code)
            for plan_id, codes in by_plan.items():
                plan = self.plans.get(plan_id)
                if plan is None:
                    continue
                rows = Rate.objects.filter(
                    rate_plan_id=plan_id, rate_plan__tenant_id=tid, code__in=codes
                ).values_list(*_RATE_FIELDS)
                fresh = PlanEntry(plan.id, plan.name, plan.currency, plan.status)
                self._set_plan_rates(fresh, rows)
                table = dict(plan.table)
                for code in codes:
                    if code in fresh.table:
                        table[code] = fresh.table[code]
                    else:
                        table.pop(code, None)
                plan.table, plan.lengths = table, _lengths(table)
        if clients:
            found = {
                c[0]: E.ClientRef(*c)
                for c in VMGateClient.objects.filter(tenant_id=tid, id__in=clients).values_list(
                    *_CLIENT_FIELDS
                )
            }
            slots = {}
            for s in SimSlot.objects.filter(client_id__in=clients).values_list(*_SLOT_FIELDS):
                slots.setdefault(s[1], []).append(E.SlotRef(*s))
            for client_id in clients:
                for slot_id in self.client_slots.pop(client_id, ()):
                    self.slots.pop(slot_id, None)
                ref = found.get(client_id)
                if ref is None:
                    old = self.clients.pop(client_id, None)
                    if old is not None:
                        members = self.network_clients.get(old.network_id)
                        if members and client_id in members:
                            members.remove(client_id)
                    continue
                self._set_client(ref)
                for slot in slots.get(client_id, ()):
                    self.slots[slot.id] = slot
                    self.client_slots.setdefault(client_id, set()).add(slot.id)
            self.network_order = {}  # after the change: no reader caches a half-made state
        if rules or targets:
            self._load_specs(set(rules) | targets)
        if rules:
            linked = (
                Dialpeer.objects.filter(rule_id__in=list(rules))
                .order_by()
                .values_list("rule_id", "trunk_id")
            )
            for rule_id, trunk_id in linked.distinct():
                for code in rules[rule_id]:
                    buckets.add((trunk_id, code))
        buckets = {(t, c) for t, c in buckets if t not in rebuild}
        if buckets:
            by_trunk = {}
            for trunk_id, code in buckets:
                by_trunk.setdefault(trunk_id, set()).add(code)
            all_codes = {c for _, c in buckets}
            trunk_list = list(by_trunk)
            found = {}
            for i in range(0, len(trunk_list), 500):
                found.update(self._load_routes(trunk_list[i : i + 500], all_codes))
            for trunk_id, codes in by_trunk.items():
                table, _ = self.routes.get(trunk_id, ({}, ()))
                table = dict(table)  # copy-on-write: readers keep a consistent table
                fresh = found.get(trunk_id, {})
                for code in codes:
                    if code in fresh:
                        table[code] = fresh[code]
                    else:
                        table.pop(code, None)
                self._set_routes(trunk_id, table)
        if rebuild:
            rebuild_list = list(rebuild)
            found = {}
            for i in range(0, len(rebuild_list), 500):
                found.update(self._load_routes(rebuild_list[i : i + 500]))
            for trunk_id in rebuild:
                self._set_routes(trunk_id, found.get(trunk_id, {}))

    def _set_routes(self, trunk_id, table):
        if table:
            self.routes[trunk_id] = (table, _lengths(table))
        else:
            self.routes.pop(trunk_id, None)

    # --- the winner's details ------------------------------------------------------------

    def details(self, link, trunk_id):
        """The winning link's dialpeer snapshot and its rule's details (snapshot and
        targets), made from the index alone: no query, whichever route it is."""
        dp = E.DialpeerRef(
            link.dialpeer_id,
            link.name,
            link.dialpeer_active,
            link.customer_id,
            trunk_id,
            link.rule_id,
        )
        ref = E.RuleRef(
            link.rule_id,
            link.code,
            link.label,
            link.assignment,
            link.rule_trunk_id,
            link.rule_active,
        )
        specs = self.specs.get(link.rule_id, ())
        return dp, RuleDetail(ref, specs if specs.__class__ is tuple else (specs,))

    def names(self, links):
        """Display names for an explanation's candidate links: ``("dp", id) → name`` and
        ``("rule", id) → (label, assignment)``. Each link carries them (loaded and kept
        current with it), so an explanation asks the database nothing for them."""
        out = {}
        for link in links:
            if link.name:
                out[("dp", link.dialpeer_id)] = link.name
            out[("rule", link.rule_id)] = (link.label, link.assignment)
        return out

    def name_targets(self, skipped, specs):
        """Skipped targets with the names an explanation shows (network, client, slot);
        ``specs`` are the rule's targets (a network's name is read with the rule's
        details: a rename shows once the rule's targets change)."""
        specs = {spec.id: spec for spec in specs}
        out = []
        for s in skipped:
            spec = specs.get(s.target_id)
            name = s.name
            if spec is not None:
                if spec.kind == "network":
                    name = spec.ref_name or f"network #{spec.ref_id}"
                elif spec.kind == "client":
                    client = self.clients.get(spec.ref_id)
                    name = client.name if client else f"client #{spec.ref_id}"
                else:
                    slot = self.slots.get(spec.ref_id)
                    client = self.clients.get(slot.client_id) if slot else None
                    name = (
                        f"{client.name} · slot {slot.position}"
                        if client
                        else f"SIM slot #{spec.ref_id}"
                    )
            out.append(E.SkippedTarget(s.target_id, s.kind, name, s.reason))
        return out

    def network_by_weight(self, network_id):
        """The network's ready clients in step 8's weight order, kept until a client
        changes (one entry per network used: the data's size, not the traffic's)."""
        cache = self.network_order  # replaced (not cleared) after a client change
        found = cache.get(network_id)
        if found is None:
            clients = self.clients
            members = [clients[c] for c in self.network_clients.get(network_id, ()) if c in clients]
            found = cache[network_id] = network_by_weight(members)
        return found

    def trunk(self, trunk_id):
        """The trunk's snapshot, or None (after one poll: created a moment ago elsewhere?)."""
        trunk = self.trunks.get(trunk_id)
        if trunk is None:
            self.sync()
            trunk = self.trunks.get(trunk_id)
        return trunk

    # --- lookups -------------------------------------------------------------------------

    def ingress_candidates(self, ip):
        """``(trunk id, tech prefix, most specific prefix length)`` for every trunk with
        a network containing ``ip``."""
        version = ip.version
        bits = 32 if version == 4 else 128
        addr = int(ip)
        nets = self.nets[version]
        found = {}
        for plen in self.net_lengths[version]:
            shift = bits - plen
            ids = nets[plen].get(addr >> shift << shift)
            if ids:
                for t in ids:
                    if t not in found:
                        found[t] = plen
        trunks = self.trunks
        return [(t, trunks[t].tech_prefix, plen) for t, plen in found.items() if t in trunks]

    def snapshot(self):
        """A comparable picture of what ranking and ingress read (tests compare an index
        kept up to date by the change log with a freshly built one)."""
        return {
            "trunks": dict(self.trunks),
            "customers": dict(self.customers),
            "routes": {
                t: {code: links_at(links) for code, links in v[0].items()}
                for t, v in self.routes.items()
                if v[0]
            },
            "route_lengths": {t: v[1] for t, v in self.routes.items() if v[0]},
            "nets": {
                v: {p: {a: sorted(ids) for a, ids in b.items()} for p, b in self.nets[v].items()}
                for v in (4, 6)
            },
            "net_lengths": self.net_lengths,
            "plans": {
                p.id: (
                    p.name,
                    p.currency,
                    p.status,
                    {c: list(v) for c, v in p.table.items()},
                    p.lengths,
                )
                for p in self.plans.values()
            },
            "clients": dict(self.clients),
            "slots": dict(self.slots),
            "network_clients": {n: sorted(ids) for n, ids in self.network_clients.items() if ids},
            "specs": {
                r: specs if specs.__class__ is tuple else (specs,)
                for r, specs in self.specs.items()
            },
            "tsets": {
                i: (t.name, [(r.id, r.position, r.match, r.replace, r.stop) for r in t.rules])
                for i, t in self.tsets.items()
            },
            "nlists": {
                i: (
                    n.name,
                    n.kind,
                    n.applies_to,
                    sorted(n.matcher.exact),
                    sorted(n.matcher.prefixes),
                )
                for i, n in self.nlists.items()
            },
            "trunk_lists": dict(self.trunk_lists),
            "schedules": dict(self.schedules),
            "network_egress": dict(self.network_egress),
            "network_names": dict(self.network_names),
        }


_CUSTOMER_FIELDS = E.columns(E.CustomerRef)
_RATE_FIELDS = E.RATE_COLUMNS
_CLIENT_FIELDS = E.columns(E.ClientRef)
_SLOT_FIELDS = E.columns(E.SlotRef)
_TRUNK_FIELDS = E.columns(E.TrunkRef)
_PLAN_FIELDS = ("id", "name", "currency", "status")

_TARGET_FIELDS = (
    "id",
    "rule_id",
    "network_id",
    "client_id",
    "sim_slot_id",
    "priority",
    "weight",
    "is_active",
    "network__name",
    "schedule_id",
)
_NETWORK_FIELDS = ("id", "name", "egress_translation_id")
_TRULE_FIELDS = ("translation_set_id", "id", "position", "match", "replace", "stop")
_NLIST_FIELDS = ("id", "name", "kind", "applies_to")
#: change kinds whose objects are reloaded by _policy_rows ("trunk" too: its lists)
_POLICY_KINDS = frozenset(("network", "tset", "nlist", "sched"))


def _group_specs(rows):
    """``rule id → TargetSpecs`` in (priority, id) order; a lone spec is stored bare."""
    found = {}
    spec = E.TargetSpec
    canon = {}.setdefault  # one string object per network name
    for row in rows:
        tid, rule_id, network_id, client_id, slot_id, prio, weight, active, net_name, sched = row
        if network_id:
            net_name = net_name if net_name is None else canon(net_name, net_name)
            item = spec(tid, "network", network_id, prio, weight, bool(active), net_name, sched)
        elif client_id:
            item = spec(tid, "client", client_id, prio, weight, bool(active), "", sched)
        else:
            item = spec(tid, "sim_slot", slot_id, prio, weight, bool(active), "", sched)
        old = found.get(rule_id)
        found[rule_id] = (
            item if old is None else (*(old if old.__class__ is tuple else (old,)), item)
        )
    for rule_id, specs in found.items():
        if specs.__class__ is tuple:
            found[rule_id] = tuple(sorted(specs, key=lambda t: (t.priority, t.id)))
    return found


_ids = {}
_TRUNK_ID, _TRUNK_CUSTOMER = _TRUNK_FIELDS.index("id"), _TRUNK_FIELDS.index("customer_id")


def _same_id(value):
    """One int object per id: a link's customer and scope and the trunk's own ids are then
    the same objects, so step 6 compares objects already in the CPU cache (a million links'
    ids would otherwise each be a separate object in memory). Speed only."""
    return value if value is None else _ids.setdefault(value, value)


def _trunk_ref(row):
    row = list(row)
    row[_TRUNK_ID], row[_TRUNK_CUSTOMER] = _same_id(row[_TRUNK_ID]), _same_id(row[_TRUNK_CUSTOMER])
    return E.TrunkRef(*row)


def _lengths(table):
    return tuple(sorted({len(c) for c in table}, reverse=True))


# --- snapshots (the route service's fast start) ----------------------------------------------

#: What an index is built from, in the order ``_build_from`` reads it.
ROW_KINDS = (
    "trunks",
    "customers",
    "trunknets",
    "plans",
    "rates",
    "clients",
    "slots",
    "links",
    "targets",
    "networks",
    "tsets",
    "trules",
    "nlists",
    "nlentries",
    "trunklists",
    "schedules",
    "windows",
)
SNAPSHOT_FORMAT = 2
SNAPSHOT_CHUNK = 50_000


def _row_signature():
    """The snapshot format and every row's columns: a file written by other code is not read."""
    return (
        SNAPSHOT_FORMAT,
        _TRUNK_FIELDS,
        _CUSTOMER_FIELDS,
        ("trunk_id", "network"),
        _PLAN_FIELDS,
        _RATE_FIELDS,
        _CLIENT_FIELDS,
        _SLOT_FIELDS,
        ("trunk_id", *E.LINK_SOURCE),
        _TARGET_FIELDS,
        _NETWORK_FIELDS,
        _TRULE_FIELDS,
        _NLIST_FIELDS,
    )


def snapshot_path(directory, tenant_id):
    return Path(directory) / f"tenant-{tenant_id}.routes"


def write_snapshot(tenant_id, path):
    """Read the tenant's rows from the database, as a build does, into ``path`` (replaced
    atomically) with the change-log position they were read at. PostgreSQL only (the
    position is a transaction id); never inside a transaction. Returns whether it wrote."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    reader = TenantIndex(tenant_id)
    reader._mark_position()
    header = {
        "format": _row_signature(),
        "tenant": tenant_id,
        "built_at": time.time(),
        "xmin": reader.xmin,
        "seen": reader.seen,
    }
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            pickle.dump(header, out, protocol=5)
            for kind, rows in reader.db_rows().items():
                chunk = []
                for row in rows:
                    chunk.append(row)
                    if len(chunk) == SNAPSHOT_CHUNK:
                        pickle.dump(chunk, out, protocol=5)
                        chunk = []
                if chunk:
                    pickle.dump(chunk, out, protocol=5)
                pickle.dump(kind, out, protocol=5)  # the end of this kind
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


class Snapshot:
    """An open snapshot file whose header was checked; ``rows()`` reads it once, in order."""

    def __init__(self, file, header):
        self.file, self.header = file, header
        self.position = {k: header[k] for k in ("xmin", "seen", "built_at")}

    def rows(self):
        return {kind: self._kind(kind) for kind in ROW_KINDS}

    def _kind(self, kind):
        while True:
            item = pickle.load(self.file)
            if item == kind:
                return
            yield from item

    def close(self):
        self.file.close()


def read_snapshot(path, tenant_id):
    """The snapshot at ``path`` when it can be built from, else None: missing or unreadable,
    another format or tenant, or older than half the change log's retention (the rows since
    may be pruned). Its contents are trusted: the route service's own file, mode 0600."""
    if connection.vendor != "postgresql":
        return None
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed by the caller (Snapshot.close)
    except OSError:
        return None
    try:
        header = pickle.load(file)
        usable = (
            isinstance(header, dict)
            and header.get("format") == _row_signature()
            and header.get("tenant") == tenant_id
            and time.time() - header["built_at"] < LOG_RETENTION.total_seconds() / 2
        )
    except Exception:  # noqa: BLE001 - a damaged file is a missing one
        usable = False
    if not usable:
        file.close()
        return None
    return Snapshot(file, header)


def build_from_snapshot(tenant_id, path):
    """A ready index for the tenant from the snapshot at ``path`` (caught up with the change
    log), or None when there is none to use."""
    snapshot = read_snapshot(path, tenant_id)
    if snapshot is None:
        return None
    try:
        idx = TenantIndex(tenant_id)
        idx.build(snapshot=snapshot)
    except Exception:  # noqa: BLE001 - a damaged file: build from the database instead
        logger.exception("route snapshot %s unusable", path)
        return None
    finally:
        snapshot.close()
    idx.sync()  # apply what changed since the rows were read
    return idx
