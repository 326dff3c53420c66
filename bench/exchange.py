"""Mailbox benchmark: messages delivered per second, and the latency of listing an inbox.

    python bench/exchange.py                     # SQLite, and PostgreSQL when
                                                 # REDLANE_TEST_DATABASE_URL is set
    python bench/exchange.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/exchange.py --messages 200 --inbox 20000    # a quick run

For each database, in a fresh store:

- delivery: `--messages` (1,000) messages, each to `--addressees` (10) agencies, sent one by
  one, each in its own durable transaction (SQLite: WAL synced at every commit; PostgreSQL:
  synchronous commit). The baseline is the bare database work of the same sending: the message
  row in clear and its deliveries inserted with one durable commit, no validation, no
  encryption, no audit. Ours is `redlane.exchange.mailbox.send` (validation, routing, a key per
  message, AES-GCM body and subject, entity index, deliveries, audit entry).
- inbox: `--inbox` (100,000) messages stored (sent in bulk with `send_many`), of which the
  reader's agency and desks receive most; the first page (50, newest first) listed
  `--repeat` (300) times. The baseline is the straightforward need-to-know query (sender or
  an addressee among the reader's addresses, `ORDER BY sent_at DESC LIMIT 50`, ids only);
  ours is `mailbox.inbox` (the merged per-address index scans, then envelopes with decrypted
  subjects). Target: p99 at most 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, exists, insert, or_, select, text
from sqlalchemy.engine import make_url

from redlane import security
from redlane.exchange import mailbox
from redlane.exchange.crypto import Kek
from redlane.exchange.model import Entity, Grading, Message
from redlane.security.keys import NodeKey
from redlane.store.database import Database
from redlane.store.schema import deliveries, messages

TARGET_P99_MS = 50.0
PASSWORD = "benchmark passphrase"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _message(n: int) -> Message:
    return Message(
        kind="intelligence_report",
        subject=f"Report {n}: suspected rip-on",
        facts="Containers from Guayaquil with rip-on bags behind the reefer unit. " * 4,
        assessment="Likely the same network as in earlier reports.",
        entities=[
            Entity(kind="vessel", identifier=f"9{n % 900000:06d}"),
            Entity(kind="person", identifier=f"Person {n % 5000}", data_subject="suspect"),
        ],
        grading=Grading(source="2", intelligence="B", handling="P"),
    )


@contextmanager
def _store(kind: str, postgres: str | None) -> Iterator[Database]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
            db.upgrade()
            yield db
            db.dispose()
        return
    assert postgres is not None
    admin_url = make_url(postgres).set(drivername="postgresql+psycopg")
    name = f"redlane_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(admin_url.set(database=name).render_as_string(hide_password=False))
    try:
        db.upgrade()
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _people(db: Database, addressees: int) -> tuple[security.User, security.User, list[str]]:
    security.add_agency(db, "CO-DIJIN", "DIJIN", "police", "CO")
    codes = [f"NL-R{i:02d}" for i in range(addressees)]
    for code in codes:
        security.add_agency(db, code, code, "customs", "NL")
    for desk in ("NL-R00-RTM", "NL-R00-AMS"):
        security.add_desk(db, desk, desk, codes[0])
    sender = security.add_user(db, "sender", "CO-DIJIN", PASSWORD, ["intelligence_officer"])
    security.add_user(db, "reader", codes[0], PASSWORD, ["targeter"])
    security.add_desk_member(db, "NL-R00-RTM", "reader")
    security.add_desk_member(db, "NL-R00-AMS", "reader")
    return sender, security.get_user(db, "reader"), codes


def _node_key() -> NodeKey:
    folder = tempfile.mkdtemp(prefix="redlane-bench-")
    return security.generate_node_key(Path(folder) / "node.key")


def bench_delivery(db: Database, count: int, addressees: int) -> dict[str, float]:
    sender, _reader, codes = _people(db, addressees)
    kek = Kek(os.urandom(32))
    signer = _node_key()
    with db.engine.connect() as conn:
        ids = {
            code: conn.execute(
                text("SELECT id FROM agencies WHERE code = :c"), {"c": code}
            ).scalar_one()
            for code in [*codes, "CO-DIJIN"]
        }
    plain = [_message(n) for n in range(count)]

    started = time.perf_counter()
    for message in plain:
        moment = datetime.now(UTC)
        message_id = mailbox.new_id(moment)
        with db.engine.connect() as conn:
            if db.is_sqlite:
                conn.exec_driver_sql("PRAGMA synchronous=FULL")
                conn.commit()
            with conn.begin():
                conn.execute(insert(messages).values(
                    id=message_id, kind="intelligence_report", sender_agency_id=ids["CO-DIJIN"],
                    author="sender", sent_at=moment, thread_id=message_id, grading="2BP",
                    tlp="amber", no_forward=False, no_court_use=False, no_export=False,
                    subject=message.subject.encode(), body=message.model_dump_json().encode(),
                ))  # fmt: skip
                conn.execute(insert(deliveries), [
                    {"message_id": message_id, "address": f"a{ids[c]}", "agency_id": ids[c],
                     "desk_id": None, "delivered_at": moment, "forward_id": None}
                    for c in codes
                ])  # fmt: skip
            if db.is_sqlite:
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                conn.commit()
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    for message in plain:
        mailbox.send(db, sender, message, codes, kek=kek, signer=signer)
    ours = time.perf_counter() - started
    return {"baseline": count / baseline, "ours": count / ours}


def _fill(db: Database, count: int, kek: Kek) -> tuple[security.User, list[str]]:
    sender, reader, codes = _people(db, 10)
    signer = _node_key()
    rng = random.Random(5)
    batch: list[tuple[Message, list[str]]] = []
    start = T0
    made = 0
    while made < count:
        to = [codes[0]] if rng.random() < 0.6 else [rng.choice(codes[1:])]
        if rng.random() < 0.3:
            to.append(f"desk:{rng.choice(['NL-R00-RTM', 'NL-R00-AMS'])}")
        batch.append((_message(made), to))
        made += 1
        if len(batch) == 2000 or made == count:
            mailbox.send_many(
                db, sender, batch, now=start + timedelta(seconds=made), kek=kek, signer=signer
            )
            batch = []
            print(f"\r  stored {made:,} messages", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return reader, codes


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_inbox(db: Database, count: int, repeat: int) -> dict[str, float]:
    kek = Kek(os.urandom(32))
    reader, _codes = _fill(db, count, kek)
    with db.engine.connect() as conn:
        agency_id = conn.execute(
            text("SELECT id FROM agencies WHERE code = :c"), {"c": reader.agency}
        ).scalar_one()
        desk_ids = conn.execute(text("SELECT id FROM desks")).scalars().all()
    addresses = [f"a{agency_id}", *(f"d{d}" for d in desk_ids)]
    naive = (
        select(messages.c.id)
        .where(
            or_(
                messages.c.sender_agency_id == agency_id,
                exists().where(
                    deliveries.c.message_id == messages.c.id,
                    deliveries.c.address.in_(addresses),
                ),
            )
        )
        .order_by(messages.c.sent_at.desc())
        .limit(50)
    )
    timings: dict[str, list[float]] = {"baseline": [], "ours": []}
    for _ in range(repeat):
        started = time.perf_counter()
        with db.engine.connect() as conn:
            first = conn.execute(naive).scalars().all()
        timings["baseline"].append(time.perf_counter() - started)
        started = time.perf_counter()
        page = mailbox.inbox(db, reader, limit=50, kek=kek)
        timings["ours"].append(time.perf_counter() - started)
    assert len(page) == 50 and len(first) == 50
    with db.engine.connect() as conn:
        received = conn.execute(
            select(text("count(DISTINCT message_id)"))
            .select_from(deliveries)
            .where(deliveries.c.address.in_(addresses))
        ).scalar_one()
    return {
        "received": float(received),
        **{f"{k}_p50": statistics.median(v) * 1000 for k, v in timings.items()},
        **{f"{k}_p99": _p(v, 0.99) * 1000 for k, v in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("REDLANE_TEST_DATABASE_URL"))
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--addressees", type=int, default=10)
    parser.add_argument("--inbox", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--sqlite-only", action="store_true", help="Skip PostgreSQL.")
    parser.add_argument(
        "--only", choices=["delivery", "inbox"], help="Run one of the two benchmarks."
    )
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgresql"] if args.postgres and not args.sqlite_only else [])
    rows = []
    for backend in backends:
        delivery: dict[str, float] = {}
        listing: dict[str, float] = {}
        if args.only in (None, "delivery"):
            print(f"{backend}: delivery", file=sys.stderr)
            with _store(backend, args.postgres) as db:
                delivery = bench_delivery(db, args.messages, args.addressees)
        if args.only in (None, "inbox"):
            print(f"{backend}: inbox", file=sys.stderr)
            with _store(backend, args.postgres) as db:
                listing = bench_inbox(db, args.inbox, args.repeat)
        rows.append((backend, delivery, listing))
    if args.only != "inbox":
        _print_delivery(rows, args.messages, args.addressees)
    if args.only != "delivery":
        _print_inbox(rows, args.inbox, args.repeat)


Rows = list[tuple[str, dict[str, float], dict[str, float]]]


def _print_delivery(rows: Rows, messages: int, addressees: int) -> None:
    print(
        f"\nDelivery: {messages:,} messages x {addressees} addressees, one durable transaction each"
    )
    print(
        f"{'database':<11} {'bare msg/s':>11} {'ours msg/s':>11} {'deliveries/s':>13} {'ratio':>6}"
    )
    for backend, delivery, _ in rows:
        print(
            f"{backend:<11} {delivery['baseline']:>11,.0f} {delivery['ours']:>11,.0f} "
            f"{delivery['ours'] * addressees:>13,.0f} "
            f"{delivery['ours'] / delivery['baseline']:>6.2f}"
        )


def _print_inbox(rows: Rows, stored: int, repeat: int) -> None:
    print(
        f"\nInbox: first page of 50, newest first, {stored:,} messages stored, "
        f"{repeat} listings (target p99 <= {TARGET_P99_MS:.0f} ms)"
    )
    print(
        f"{'database':<11} {'received':>9} {'bare p50':>9} {'bare p99':>9} {'ours p50':>9} "
        f"{'ours p99':>9}  target"
    )
    for backend, _, listing in rows:
        ok = "met" if listing["ours_p99"] <= TARGET_P99_MS else "MISSED"
        print(
            f"{backend:<11} {listing['received']:>9,.0f} {listing['baseline_p50']:>7.1f}ms "
            f"{listing['baseline_p99']:>7.1f}ms {listing['ours_p50']:>7.1f}ms "
            f"{listing['ours_p99']:>7.1f}ms  {ok}"
        )


if __name__ == "__main__":
    main()
