"""Load a synthetic review table into PostgreSQL with COPY, for the batch-detection benchmark.

    .venv/bin/python -m bench.detect_load --reviews 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/reviewguard_detect

Creates the database when missing, migrates it, empties the review tables and
COPYs partners, establishments, reviewers and reviews generated with numpy: an
ordinary background (heavy-tailed reviewer activity, popular and quiet places,
diverse texts, mostly verified stays) with planted sock-puppet rings and
review-bombing bursts, so the detectors have something to find. Deterministic
for a given --seed. Identifier "hashes" are random 64-hex strings (what matters
is which rows share them), never real HMACs of anything.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/reviewguard_detect"
DAY = 86_400.0

SENTENCES = [
    "Quiet room and a spotless bathroom.", "The front desk sorted out our late check-in.",
    "Breakfast had fresh pastries and good coffee.", "Generous portions at fair prices.",
    "Chambre calme et très propre.", "Personnel aux petits soins.",
    "Le petit-déjeuner est excellent.", "Literie confortable, on a bien dormi.",
    "The street side is a bit noisy at night.", "Parking nearby was easy to find.",
    "Emplacement idéal pour visiter la ville.", "Service un peu lent le samedi soir.",
    "Our waiter recommended a lovely local wine.", "The terrace is perfect on a sunny day.",
    "Wifi was patchy in the room.", "Kids loved the pool.", "Rooms are small but well designed.",
    "Desserts were the highlight.", "On reviendra pour le menu du marché.",
    "Bon rapport qualité-prix.", "Staff spoke French and English.", "A short walk to the metro.",
    "The lobby smelled of fresh flowers.", "Our room overlooked the courtyard.",
    "Check-out was quick.", "The spa was worth the extra.", "Portions were a little small.",
    "Music was too loud for a quiet dinner.", "Très bon accueil à la réception.",
    "La vue sur le port est superbe.", "Nous avons attendu longtemps nos plats.",
    "The bed was huge and comfortable.", "Great value for the city centre.",
    "The bathroom needs a refresh.", "Friendly bartender, good cocktails.",
    "Le quartier est animé le soir.", "Air conditioning worked well in the heat.",
    "We loved the local cheese platter.", "The lift was slow but the stairs were fine.",
    "Housekeeping was discreet and thorough.",
]
RING_TEXT = ("Absolutely the best {kind} in town!!! Amazing staff, perfect rooms, I recommend it "
             "to everyone, five stars without hesitation.")
BOMB_TEXT = "Dirty tables, rude staff, food poisoning. AVOID this {kind} at all costs!"


@dataclass
class Table:
    """One table's columns, row-aligned, ready for COPY."""

    name: str
    columns: list[str]
    data: list  # list of sequences, one per column


def _hex_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct-looking 64-hex strings (object array)."""
    raw = rng.integers(0, 2**63, size=(n, 4), dtype=np.int64).view(np.uint64)
    return np.array([f"{a:016x}{b:016x}{c:016x}{d:016x}" for a, b, c, d in raw.tolist()],
                    dtype=object)


def _ts(epoch: np.ndarray) -> list[str]:
    # Text timestamps COPY parses directly; NaN -> NULL.
    out = []
    for value in epoch.tolist():
        if value != value:
            out.append("\\N")
        else:
            out.append(datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%S+00"))
    return out


@dataclass
class Generated:
    partners: Table
    establishments: Table
    reviewers: Table
    reviews: Table
    planted: dict


def generate(n_reviews: int, seed: int) -> Generated:
    rng = np.random.default_rng(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    start = now - 730 * DAY
    n_partners = 3
    n_est = max(50, n_reviews // 50)
    n_rev = max(100, int(n_reviews * 0.3))

    # Planted abuse first, so its size is known: rings and bursts.
    n_rings = max(2, n_reviews // 50_000)
    n_bursts = max(2, n_reviews // 70_000)
    ring_sizes = rng.integers(5, 13, size=n_rings)
    ring_targets = rng.integers(3, 7, size=n_rings)
    burst_sizes = rng.integers(10, 31, size=n_bursts)
    planted_rows = int((ring_sizes * ring_targets).sum() + burst_sizes.sum())
    planted_reviewers = int(ring_sizes.sum() + burst_sizes.sum())
    n_back = n_reviews - planted_rows
    n_back_reviewers = n_rev - planted_reviewers

    # Establishments: partner, popularity (log-normal).
    est_partner = rng.integers(1, n_partners + 1, size=n_est)
    est_kind = np.where(rng.random(n_est) < 0.45, "hotel", "restaurant")
    popularity = rng.lognormal(0.0, 1.0, size=n_est)
    popularity /= popularity.sum()

    # Background reviewers: heavy-tailed activity (many one-review accounts).
    activity = rng.pareto(1.6, size=n_back_reviewers) + 1.0
    activity /= activity.sum()
    back_reviewer = rng.choice(n_back_reviewers, size=n_back, p=activity)
    back_est = rng.choice(n_est, size=n_back, p=popularity)
    back_time = rng.uniform(start, now, size=n_back)
    back_rating = rng.choice([1, 2, 3, 4, 5], size=n_back, p=[0.05, 0.07, 0.15, 0.33, 0.40])
    back_sentences = rng.integers(0, len(SENTENCES), size=(n_back, 3))
    back_stay = rng.random(n_back) < 0.7

    reviewer_ids = np.arange(1, n_rev + 1)
    account_created = np.empty(n_rev)
    account_created[:n_back_reviewers] = rng.uniform(start - 1500 * DAY, start + 600 * DAY,
                                                     size=n_back_reviewers)
    # Devices: one per reviewer, households share a few; IPs per review.
    device_of_reviewer = np.arange(n_rev)
    households = rng.random(n_back_reviewers) < 0.03
    device_of_reviewer[:n_back_reviewers][households] = rng.integers(
        0, n_back_reviewers, size=int(households.sum()))
    rev_rows = {
        "reviewer": [back_reviewer], "est": [back_est], "time": [back_time],
        "rating": [back_rating], "stay": [back_stay],
        "text": [np.array([" ".join(SENTENCES[k] for k in row) for row in back_sentences.tolist()],
                          dtype=object)],
        "device": [device_of_reviewer[back_reviewer]],
        "ip": [rng.integers(0, n_reviews, size=n_back)],
    }

    reviewer_partner = rng.integers(1, n_partners + 1, size=n_rev)
    planted = {"rings": [], "bursts": [], "ring_members": [], "burst_members": []}
    next_reviewer = n_back_reviewers
    shared_ip_base = n_reviews  # planted IPs beyond the background's range
    for k in range(n_rings):
        size, targets = int(ring_sizes[k]), int(ring_targets[k])
        members = np.arange(next_reviewer, next_reviewer + size)
        next_reviewer += size
        account_created[members] = now - rng.uniform(20, 60, size=size) * DAY
        partner = int(rng.integers(1, n_partners + 1))  # a ring works one platform
        ests = rng.choice(np.flatnonzero(est_partner == partner), size=targets, replace=False)
        reviewer_partner[members] = partner
        t0 = rng.uniform(start + 200 * DAY, now - 10 * DAY)
        m, e = np.meshgrid(members, ests, indexing="ij")
        m, e = m.ravel(), e.ravel()
        rows = len(m)
        device = np.where(np.arange(rows) % 3 == 0, members[0], m)  # a third on one device
        device_of_reviewer[members] = members[0]
        rev_rows["reviewer"].append(m)
        rev_rows["est"].append(e)
        rev_rows["time"].append(t0 + rng.uniform(0, 5 * DAY, size=rows))
        rev_rows["rating"].append(np.full(rows, 5))
        planted["ring_members"].append((members + 1).tolist())  # database ids
        rev_rows["stay"].append(rng.random(rows) < 0.2)
        rev_rows["text"].append(np.array([RING_TEXT.format(kind=est_kind[x]) for x in e],
                                         dtype=object))
        rev_rows["device"].append(device)
        rev_rows["ip"].append(shared_ip_base + k * 16 + rng.integers(0, 4, size=rows))
        planted["rings"].append({"members": size, "targets": targets})
    for k in range(n_bursts):
        size = int(burst_sizes[k])
        members = np.arange(next_reviewer, next_reviewer + size)
        next_reviewer += size
        target = int(rng.choice(n_est, p=popularity))
        reviewer_partner[members] = est_partner[target]
        t0 = rng.uniform(start + 200 * DAY, now - 5 * DAY)
        account_created[members] = t0 - rng.uniform(0.5, 5, size=size) * DAY
        rev_rows["reviewer"].append(members)
        rev_rows["est"].append(np.full(size, target))
        rev_rows["time"].append(t0 + rng.uniform(0, 2 * DAY, size=size))
        rev_rows["rating"].append(np.ones(size, dtype=np.int64))
        planted["burst_members"].append((members + 1).tolist())
        rev_rows["stay"].append(np.zeros(size, dtype=bool))
        rev_rows["text"].append(np.array([BOMB_TEXT.format(kind=est_kind[target])] * size,
                                         dtype=object))
        rev_rows["device"].append(members)
        rev_rows["ip"].append(shared_ip_base + 10_000 + k * 16 + rng.integers(0, 8, size=size))
        planted["bursts"].append({"reviews": size})

    cols = {k: np.concatenate(v) for k, v in rev_rows.items()}
    order = np.argsort(cols["time"], kind="stable")  # ids follow time, like ingest
    cols = {k: v[order] for k, v in cols.items()}
    n = len(order)

    # Identifier strings: one per distinct device / IP / IP network / e-mail.
    device_hex = _hex_codes(n_rev, rng)
    ip_values, ip_index = np.unique(cols["ip"], return_inverse=True)
    ip_hex = _hex_codes(len(ip_values), rng)
    ip24_hex = _hex_codes(int(ip_values.max() // 4) + 1, rng)  # 4 addresses per "network"
    email_hex = _hex_codes(n_rev, rng)
    email_hex[rng.random(n_rev) < 0.1] = ""  # some partners send no e-mail

    review_partner = reviewer_partner[cols["reviewer"]]
    # A review's establishment must belong to its partner: remap across partners.
    est_partner_sorted = [np.flatnonzero(est_partner == p + 1) for p in range(n_partners)]
    est_ids = cols["est"].copy()
    for p in range(n_partners):
        rows = review_partner == p + 1
        mine = est_partner_sorted[p]
        wrong = rows & (est_partner[est_ids] != p + 1)
        est_ids[wrong] = mine[est_ids[wrong] % len(mine)]
    # (planted rings and bursts are on their targets' partner, so they stay whole.)

    times = _ts(cols["time"])
    created = _ts(account_created)
    stay_hex = _hex_codes(n, rng)
    payload_hex = _hex_codes(n, rng)
    review_data = [
        list(range(1, n + 1)),  # id
        review_partner.tolist(),
        [f"r{i}" for i in range(1, n + 1)],
        (est_ids + 1).tolist(),
        (cols["reviewer"] + 1).tolist(),
        cols["rating"].tolist(),
        [""] * n,  # title
        cols["text"].tolist(),
        ["en"] * n,
        ["\\N"] * n,  # visit_date
        times, times,  # created_at, received_at
        ip_hex[ip_index].tolist(),
        ip24_hex[ip_values[ip_index] // 4].tolist(),
        device_hex[cols["device"]].tolist(),
        np.where(cols["stay"], stay_hex, "").tolist(),
        payload_hex.tolist(),
        ["published"] * n,
        times,  # status_changed_at
        ["\\N"] * n, ["[]"] * n, ["\\N"] * n, ["\\N"] * n,  # risk, reasons, scored, enqueued
    ]
    return Generated(
        partners=Table("partners_partner",
                       ["id", "name", "is_active", "hold_threshold", "webhook_url",
                        "webhook_secret", "created_at"],
                       [list(range(1, n_partners + 1)),
                        [f"Bench partner {p}" for p in range(1, n_partners + 1)],
                        ["t"] * n_partners, ["\\N"] * n_partners, [""] * n_partners,
                        [""] * n_partners, ["2024-01-01 00:00:00+00"] * n_partners]),
        establishments=Table("establishments_establishment",
                             ["id", "partner_id", "external_id", "name", "kind", "city",
                              "country", "created_at", "updated_at"],
                             [list(range(1, n_est + 1)), est_partner.tolist(),
                              [f"e{i}" for i in range(1, n_est + 1)],
                              [f"Establishment {i}" for i in range(1, n_est + 1)],
                              est_kind.tolist(), ["Paris"] * n_est, ["FR"] * n_est,
                              ["2024-01-01 00:00:00+00"] * n_est,
                              ["2024-01-01 00:00:00+00"] * n_est]),
        reviewers=Table("reviews_reviewer",
                        ["id", "partner_id", "external_id", "display_name", "email_hash",
                         "account_created_at", "flagged", "created_at"],
                        [reviewer_ids.tolist(), reviewer_partner.tolist(),
                         [f"u{i}" for i in reviewer_ids.tolist()],
                         [f"Guest {i}" for i in reviewer_ids.tolist()],
                         email_hex.tolist(), created, ["f"] * n_rev,
                         ["2024-01-01 00:00:00+00"] * n_rev]),
        reviews=Table("reviews_review",
                      ["id", "partner_id", "external_id", "establishment_id", "reviewer_id",
                       "rating", "title", "text", "language", "visit_date", "created_at",
                       "received_at", "ip_hash", "ip24_hash", "device_hash", "booking_ref_hash",
                       "payload_hash", "status", "status_changed_at", "risk_score",
                       "risk_reasons", "scored_at", "enqueued_at"],
                      review_data),
        planted=planted,
    )


def _copy(cursor, table: Table, chunk: int = 50_000) -> None:
    n = len(table.data[0])
    sql = f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        for lo in range(0, n, chunk):
            buffer = io.StringIO()
            for row in zip(*(col[lo : lo + chunk] for col in table.data), strict=True):
                buffer.write("\t".join(map(str, row)))
                buffer.write("\n")
            copy.write(buffer.getvalue())


def _drop_plain_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the indexes of ``tables`` that back no constraint; return their definitions."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        (tables,),
    )
    rows = cursor.fetchall()
    for name, _ in rows:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def check_planted(path: Path) -> dict:
    """How many planted rings and bursts became cases (>= half their members in one case),
    and how many ring / bombing cases hold no planted member."""
    from apps.cases.models import Case

    planted = json.loads(path.read_text())
    report = {}
    for name, kind in (("rings", Case.Kind.SOCK_PUPPET_RING), ("bursts", Case.Kind.REVIEW_BOMBING)):
        cases = {c.pk: set(c.reviewers.values_list("id", flat=True))
                 for c in Case.objects.filter(kind=kind)}
        found = sum(
            any(len(members & set(group)) * 2 >= len(group) for members in cases.values())
            for group in planted[name]
        )
        everyone = {m for group in planted[name] for m in group}
        unplanted = sum(not (members & everyone) for members in cases.values())
        report[name] = {"planted": len(planted[name]), "found": found, "cases": len(cases),
                        "cases_without_planted_members": unplanted}
    return report


def load(database_url: str, n_reviews: int, seed: int = 6, log=print) -> Generated:
    """Create (when missing) and migrate the database, then replace its reviews with
    ``n_reviews`` generated ones loaded by COPY; progress lines go to ``log``."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")

    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewguard.settings_test")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    t0 = time.monotonic()
    call_command("migrate", verbosity=0)
    log(f"migrated in {time.monotonic() - t0:.1f} s")

    t0 = time.monotonic()
    data = generate(n_reviews, seed)
    log(f"generated {len(data.reviews.data[0]):,} reviews, {len(data.reviewers.data[0]):,} "
        f"reviewers, {len(data.establishments.data[0]):,} establishments in "
        f"{time.monotonic() - t0:.1f} s; planted {len(data.planted['rings'])} rings, "
        f"{len(data.planted['bursts'])} bursts")

    t0 = time.monotonic()
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        # Cases and runs of a previous load refer to these rows: start clean.
        cursor.execute(
            "TRUNCATE partners_partner, establishments_establishment, reviews_reviewer, "
            "reviews_review, cases_case, cases_caseevent, cases_casemember, "
            "cases_decisionlabel, detection_detectionrun, partners_webhookdelivery, "
            "partners_webhookattempt CASCADE"
        )
        # Building an index once is far cheaper than updating it a million times:
        # plain indexes go before COPY and come back after (constraints stay).
        dropped = _drop_plain_indexes(cursor, ["reviews_review", "reviews_reviewer"])
        for table in (data.partners, data.establishments, data.reviewers, data.reviews):
            t1 = time.monotonic()
            _copy(cursor, table)
            log(f"  COPY {table.name}: {len(table.data[0]):,} rows in "
                f"{time.monotonic() - t1:.1f} s")
        t1 = time.monotonic()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the foreign keys now
        log(f"  foreign keys checked in {time.monotonic() - t1:.1f} s")
        t1 = time.monotonic()
        for definition in dropped:
            cursor.execute(definition)
        log(f"  recreated {len(dropped)} indexes in {time.monotonic() - t1:.1f} s")
        for table in ("partners_partner", "establishments_establishment", "reviews_reviewer",
                      "reviews_review"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        cursor.execute("ANALYZE")
    log(f"loaded with COPY in {time.monotonic() - t0:.1f} s")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--planted", type=Path, default=None,
                        help="write the planted rings' and bursts' reviewer ids here (JSON)")
    parser.add_argument("--check", type=Path, default=None,
                        help="load nothing: compare the cases in the database with this "
                             "planted-ids file (after `manage.py detect`)")
    args = parser.parse_args(argv)
    if args.check:
        os.environ["DATABASE_URL"] = args.database_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewguard.settings_test")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        print(json.dumps(check_planted(args.check), indent=2))
        return 0

    data = load(args.database_url, args.reviews, args.seed)
    if args.planted:
        args.planted.write_text(json.dumps(
            {"rings": data.planted["ring_members"], "bursts": data.planted["burst_members"]}))
        print(f"planted reviewer ids written to {args.planted}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
