"""Live attacks through the real API and worker (issue 10): are they caught, fast, before publication?

    .venv/bin/python -m bench.attacks --json                  # defaults: < 10 min on 2 cores
    .venv/bin/python -m bench.attacks --seeds 0 1 --duration 240 --instances 2

One run per seed, each on a throw-away PostgreSQL database with Redis as broker:

1. Setup: migrate; a partner (``manage.py create_partner``); ``--establishments``
   establishments with ``--history`` reviews each (written over the year before
   the replay, by a pool of reviewers with several reviews each), posted in
   lists of 1,000 through the API and then marked published and scored (they
   are context, not the worker's to score); one ``manage.py detect`` over that
   history, as the periodic reconciliation would have run in production.
2. Replay, for ``--duration`` seconds of wall time, with gunicorn and a Celery
   worker (``make run``'s concurrency, with beat: the periodic sweep and batch
   run as configured): honest reviews (``--honest-rate`` per second, on every
   establishment, by established and new reviewers) interleaved with the
   attacks of ``ml.scenarios.live_attacks`` (several seeded instances of each
   kind, parameters varied), each review one ``POST /api/v1/reviews/`` at its
   scheduled time; extortion attacks file ``POST /api/v1/threat-reports/``
   first. Time is accelerated: a review's ``created_at`` runs ``--speedup``
   times faster than the wall clock and ends at the replay's real end.
3. Measured only through the API, polling every ``--poll`` s during the replay
   and ``--settle`` s after it: open cases of each attack kind
   (``GET /api/v1/cases/?kind=...&status=open``), held reviews
   (``GET /api/v1/reviews/?status=held``) and, while pending, each attack's
   reviews (``GET /api/v1/reviews/{id}/``). Every status seen is kept.

Rules (also printed in the output):

- caught: at some poll, ONE open case of the attack's kind (sock_puppet_ring,
  review_bombing, extortion) holds at least half of the attack's reviews or
  at least half of its members;
- detection time: the first poll at which an open case of that kind holds any
  of the attack's reviews or members; ``seconds_to_case`` runs from the 201
  answer to the attack's 5th review (its last, for attacks of fewer reviews);
  negative when the case came before the 5th review;
- held before publication: a review first seen (after pending) as held, and
  never seen published; "published then held" is counted apart; shares are
  over the attack's reviews answered 201 after its detection time;
- honest held: honest background reviews (not attack, camouflage or organic
  outrage) ever seen held, over the honest reviews answered 201.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import common
from bench.ingest import post_batches
from ml.scenarios import LiveAttack, LiveReview, live_attacks

RING_KINDS = ("ring_shared_identifiers", "ring_lockstep", "ring_camouflaged")
BOMBING_KINDS = ("bombing", "bombing_aged_accounts", "bombing_aged_proxies")
PROMOTION_KINDS = ("promotion",)  # one place's sock puppets: a ring case
#: Honest bursts: never held; a case, if any, is counted (a moderator's time).
ORGANIC_KINDS = ("organic_outrage", "organic_outrage_shared_network", "organic_enthusiasm")
CASE_KINDS = ("sock_puppet_ring", "review_bombing", "extortion")
# Also polled, to say where attack reviews went when no case of their kind opened.
OTHER_CASE_KINDS = ("anomalous_reviewer",)
MAX_PAGES = 20
GOAL_CASE_S = 60.0

RULES = {
    "caught": "at some poll, one open case of the attack's kind holds >= 1/2 of the attack's "
              "reviews or >= 1/2 of its members",
    "seconds_to_case": "first poll showing an open case of the attack's kind with any of its "
                       "reviews or members, minus the 201 answer to its 5th review (its last if "
                       "it has fewer); negative = before the 5th review",
    "held_before_publication": "first status seen after pending is held and published never "
                               "seen; share over the attack's reviews answered 201 after its "
                               "detection time",
    "honest_held": "honest background reviews ever seen held / honest reviews answered 201",
}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Tracked:
    """What the replay posted and what the polls saw of one review."""

    role: str  # honest | attack | camouflage | organic
    attack: int | None = None  # index into the plan
    answered_at: float | None = None  # replay clock, 201 received
    http: int | None = None
    seen: list[str] = field(default_factory=list)  # statuses in the order first seen

    def see(self, status: str) -> None:
        if not self.seen or self.seen[-1] != status:
            self.seen.append(status)

    @property
    def held_before_publication(self) -> bool:
        decided = [s for s in self.seen if s != "pending"]
        return bool(decided) and decided[0] == "held" and "published" not in decided

    @property
    def published_then_held(self) -> bool:
        decided = [s for s in self.seen if s != "pending"]
        return "published" in decided and "held" in decided[decided.index("published"):]

    @property
    def ever_held(self) -> bool:
        return "held" in self.seen


class Replay:
    """The world of one run: establishments, reviewers, the plan, and the sim clock."""

    def __init__(self, args: argparse.Namespace, seed: int) -> None:
        self.args = args
        self.seed = seed
        self.rng = random.Random(seed)
        self.establishments = common.make_establishments(args.establishments, prefix="atk")
        n_pool = max(50, args.establishments * args.history // 4)
        self.history_reviewers = common.make_reviewers(n_pool, prefix="hu", seed=seed + 11)
        self.new_reviewers = common.make_reviewers(max(50, int(args.honest_rate * args.duration)),
                                                   prefix="nu", seed=seed + 12)
        self.plan: list[LiveAttack] = live_attacks(
            args.establishments, duration_s=args.duration, instances=args.instances,
            random_state=seed)
        self.tracked: dict[str, Tracked] = {}
        self.members: dict[str, int] = {}  # reviewer external_id -> attack index
        self._member_payload: dict[tuple[int, int], dict] = {}
        self.sim_end = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.t0 = 0.0  # replay clock origin (perf_counter), set when the replay starts

    # --- time -------------------------------------------------------------------------
    def now(self) -> float:
        return time.perf_counter() - self.t0

    def sim(self, at: float) -> dt.datetime:
        """The simulated time at replay second ``at`` (ends at the replay's real end)."""
        return self.sim_end - dt.timedelta(seconds=self.args.speedup * (self.args.duration - at))

    # --- history -----------------------------------------------------------------------
    def history(self) -> list[dict]:
        start = self.sim(0.0)
        out = []
        for i, est in enumerate(self.establishments):
            out += common.make_reviews(self.args.history, [est], self.history_reviewers,
                                       prefix=f"h{i}", seed=self.seed * 1000 + i, now=start,
                                       spread_days=365)
        return out

    # --- payloads ----------------------------------------------------------------------
    def honest_events(self) -> list[tuple[float, dict]]:
        n = int(self.args.honest_rate * self.args.duration)
        pool = self.history_reviewers[: len(self.history_reviewers) * 7 // 10] + self.new_reviewers
        items = common.make_reviews(n, self.establishments, pool, prefix="live",
                                    seed=self.seed + 13)
        times = sorted(self.rng.uniform(0, self.args.duration) for _ in range(n))
        for item in items:
            self.tracked[item["external_id"]] = Tracked("honest")
        return list(zip(times, items, strict=True))

    def _reviewer(self, a: int, attack: LiveAttack, review: LiveReview) -> dict:
        key = (a, review.member)
        if key in self._member_payload:
            return self._member_payload[key]
        if review.account_age_days is None:  # an established reviewer with history
            payload = self.history_reviewers[self.rng.randrange(len(self.history_reviewers))]
        else:
            created = self.sim(review.at) - dt.timedelta(days=review.account_age_days)
            name = (attack.threat or {}).get("name") or f"{attack.kind[:4].title()} {a}.{review.member}"
            payload = {
                "external_id": f"{attack.kind}-{attack.instance}-m{review.member}-s{self.seed}",
                "display_name": name,
                "email": f"u{review.email}.s{self.seed}@mail.example",
                "account_created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ip": _ip(review.ip24, review.ip),
                "device_id": f"dev-{self.seed}-{review.device:06d}",
            }
        self._member_payload[key] = payload
        self.members[payload["external_id"]] = a
        return payload

    def attack_events(self) -> list[tuple[float, dict]]:
        events = []
        for a, attack in enumerate(self.plan):
            role = "organic" if attack.kind in ORGANIC_KINDS else "attack"
            for n, review in enumerate(attack.reviews):
                reviewer = dict(self._reviewer(a, attack, review))
                if review.ip24 is not None:  # per-review address, the attack's network
                    reviewer["ip"] = _ip(review.ip24, review.ip)
                ext = f"{attack.kind}-{attack.instance}-r{n}-s{self.seed}"
                self.tracked[ext] = Tracked(role if review.attack else "camouflage", a)
                events.append((review.at, {
                    "external_id": ext,
                    "establishment": self.establishments[review.establishment]["external_id"],
                    "reviewer": reviewer, "rating": review.rating,
                    "title": "", "text": review.text, "language": review.lang,
                    "booking_ref": f"BK-{self.seed}-{a}-{n}" if review.booking else "",
                }))
            if attack.threat:
                events.append((float(attack.threat["at"]), self._threat(a, attack)))
        return events

    def _threat(self, a: int, attack: LiveAttack) -> dict:
        threat, review = attack.threat, attack.reviews[0]
        guest = self._reviewer(a, attack, review)
        method = threat["method"]
        identity = {"email": guest["email"], "booking_ref": f"BK-{self.seed}-{a}-0",
                    "reviewer_handle": guest["display_name"], "name": threat["name"]}
        return {"_threat": True, "establishment":
                self.establishments[review.establishment]["external_id"],
                "guest": {method: identity[method]}, "channel": threat["channel"],
                "message_text": threat["message"], "demand": threat["demand"]}


def _ip(net: int | None, host: int | None) -> str:
    net, host = net or 0, host or 0
    return f"100.{64 + (net >> 8) % 64}.{net % 256}.{1 + host % 250}"


# --- the replay: a sender and a poller over HTTP -----------------------------------------


async def send_all(replay: Replay, port: int, key: str, events: list[tuple[float, dict]],
                   clients: int) -> dict:
    queue = sorted(events, key=lambda e: e[0], reverse=True)
    statuses: dict[str, int] = {}

    async def client() -> None:
        conn = common.HttpConnection(port, key)
        try:
            while queue:
                at, payload = queue.pop()
                wait = at - replay.now()
                if wait > 0:
                    await asyncio.sleep(wait)
                sim_now = replay.sim(max(at, replay.now()))
                if payload.get("_threat"):
                    body = {k: v for k, v in payload.items() if k != "_threat"}
                    body["received_at"] = sim_now.strftime("%Y-%m-%dT%H:%M:%SZ")
                    status, _ = await conn.request("POST", "/api/v1/threat-reports/",
                                                   json.dumps(body).encode())
                    statuses[f"threat_report_{status}"] = statuses.get(
                        f"threat_report_{status}", 0) + 1
                    continue
                body = dict(payload, created_at=sim_now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            visit_date=(sim_now - dt.timedelta(days=2)).date().isoformat())
                status, data = await conn.request("POST", "/api/v1/reviews/",
                                                  json.dumps(body).encode())
                track = replay.tracked[payload["external_id"]]
                track.http, track.answered_at = status, replay.now()
                statuses[f"review_{status}"] = statuses.get(f"review_{status}", 0) + 1
                if status == 201:
                    track.see(json.loads(data).get("status", "pending"))
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return statuses


class Poller:
    """Polls cases, held reviews and pending attack reviews; keeps what it saw."""

    def __init__(self, replay: Replay, port: int, key: str) -> None:
        self.replay = replay
        self.conn = common.HttpConnection(port, key)
        self.detected_at: dict[int, float] = {}
        self.coverage: dict[int, float] = {}  # best share of reviews or members in one case
        self.cases: dict[int, dict] = {}  # last seen state of every open case of our kinds
        self.requests = 0
        self.errors: dict[str, int] = {}
        self.attack_reviews: dict[int, set[str]] = {}
        self.attack_members: dict[int, set[str]] = {}
        self.review_attack: dict[str, int] = {}
        for ext, track in replay.tracked.items():
            if track.attack is not None and track.role in ("attack", "organic"):
                self.attack_reviews.setdefault(track.attack, set()).add(ext)
                self.review_attack[ext] = track.attack
        for member, a in replay.members.items():
            self.attack_members.setdefault(a, set()).add(member)
        # attack -> case kind -> its reviews seen in an open case of that kind
        self.in_cases: dict[int, dict[str, set[str]]] = {}

    async def _get_all(self, path: str) -> list[dict]:
        out: list[dict] = []
        for _ in range(MAX_PAGES):
            status, data = await self.conn.request("GET", path)
            self.requests += 1
            if status != 200:
                self.errors[f"{path.split('?')[0]} {status}"] = self.errors.get(
                    f"{path.split('?')[0]} {status}", 0) + 1
                return out
            page = json.loads(data)
            out += page.get("results", [])
            nxt = page.get("next")
            if not nxt:
                return out
            path = nxt[nxt.index("/api/"):]
        return out

    async def poll_once(self) -> None:
        now = self.replay.now()
        plan = self.replay.plan
        for kind in CASE_KINDS + OTHER_CASE_KINDS:
            for case in await self._get_all(f"/api/v1/cases/?kind={kind}&status=open&page_size=1000"):
                self.cases[case["id"]] = case
                reviews, reviewers = set(case["reviews"]), set(case["reviewers"])
                for ext in reviews & self.review_attack.keys():
                    self.in_cases.setdefault(self.review_attack[ext], {}).setdefault(
                        kind, set()).add(ext)
                for a, attack in enumerate(plan):
                    if attack.expected_case != kind:
                        continue
                    mine, members = self.attack_reviews.get(a, set()), self.attack_members.get(a, set())
                    hit_r, hit_m = len(mine & reviews), len(members & reviewers)
                    if not (hit_r or hit_m):
                        continue
                    self.detected_at.setdefault(a, now)
                    share = max(hit_r / max(len(mine), 1), hit_m / max(len(members), 1))
                    self.coverage[a] = max(self.coverage.get(a, 0.0), share)
        for review in await self._get_all("/api/v1/reviews/?status=held&page_size=1000"):
            track = self.replay.tracked.get(review["external_id"])
            if track is not None:
                track.see("held")
        pending = [ext for ext, t in self.replay.tracked.items()
                   if t.role != "honest" and t.http == 201 and (not t.seen or t.seen[-1] == "pending")]
        for ext in pending[:200]:
            status, data = await self.conn.request("GET", f"/api/v1/reviews/{ext}/")
            self.requests += 1
            if status == 200:
                self.replay.tracked[ext].see(json.loads(data)["status"])

    async def run(self, until: float, interval: float) -> None:
        try:
            while self.replay.now() < until:
                started = self.replay.now()
                try:
                    await self.poll_once()
                except (OSError, asyncio.IncompleteReadError) as exc:
                    self.errors[type(exc).__name__] = self.errors.get(type(exc).__name__, 0) + 1
                    await self.conn.close()
                await asyncio.sleep(max(0.0, interval - (self.replay.now() - started)))
        finally:
            await self.conn.close()


async def replay_run(replay: Replay, port: int, key: str, events, args) -> tuple[dict, Poller]:
    poller = Poller(replay, port, key)
    replay.t0 = time.perf_counter()
    poll = asyncio.create_task(poller.run(args.duration + args.settle, args.poll))
    statuses = await send_all(replay, port, key, events, args.clients)
    await poll
    return statuses, poller


# --- figures -----------------------------------------------------------------------------


def attack_figures(replay: Replay, poller: Poller, a: int) -> dict:
    attack = replay.plan[a]
    mine = [replay.tracked[e] for e in sorted(poller.attack_reviews.get(a, ()))]
    answered = sorted(t.answered_at for t in mine if t.http == 201)
    fifth = answered[min(4, len(answered) - 1)] if answered else None
    detected = poller.detected_at.get(a)
    later = [t for t in mine if t.http == 201 and detected is not None and t.answered_at > detected]
    out = {
        "kind": attack.kind, "instance": attack.instance, "expected_case": attack.expected_case,
        "variant": attack.variant, "reviews": len(mine), "answered_201": len(answered),
        "members": attack.members,
        "held": sum(t.ever_held for t in mine),
        "held_before_publication": sum(t.held_before_publication for t in mine),
        "published_then_held": sum(t.published_then_held for t in mine),
        "never_decided": sum(not [s for s in t.seen if s != "pending"] for t in mine),
        "reviews_in_open_cases_by_kind": {k: len(v) for k, v in
                                          sorted(poller.in_cases.get(a, {}).items())},
    }
    if attack.expected_case:
        out.update({
            "caught": poller.coverage.get(a, 0.0) >= 0.5,
            "best_case_coverage": round(poller.coverage.get(a, 0.0), 3),
            "seconds_to_case": (round(detected - fifth, 1)
                                if detected is not None and fifth is not None else None),
            "reviews_after_detection": len(later),
            "later_held_before_publication": sum(t.held_before_publication for t in later),
            "later_published_then_held": sum(t.published_then_held for t in later),
        })
    camouflage = [t for t in replay.tracked.values() if t.role == "camouflage" and t.attack == a]
    if camouflage:
        out["camouflage_reviews"] = len(camouflage)
        out["camouflage_held"] = sum(t.ever_held for t in camouflage)
    return out


def kind_summary(rows: list[dict]) -> dict:
    if rows[0]["expected_case"] is None:
        return {"instances": len(rows), "reviews": sum(r["reviews"] for r in rows),
                "held": sum(r["held"] for r in rows),
                "reviews_in_open_cases_by_kind": _add_counts(
                    r["reviews_in_open_cases_by_kind"] for r in rows)}
    latencies = [r["seconds_to_case"] for r in rows if r["seconds_to_case"] is not None]
    later = sum(r["reviews_after_detection"] for r in rows)
    return {
        "instances": len(rows), "reviews": sum(r["reviews"] for r in rows),
        "case_recall": round(sum(r["caught"] for r in rows) / len(rows), 3),
        "seconds_to_case_median": round(statistics.median(latencies), 1) if latencies else None,
        "seconds_to_case_max": max(latencies) if latencies else None,
        "caught_within_60s": sum(r["caught"] and r["seconds_to_case"] is not None
                                 and r["seconds_to_case"] <= GOAL_CASE_S for r in rows),
        "reviews_after_detection": later,
        "later_held_before_publication_share": (
            round(sum(r["later_held_before_publication"] for r in rows) / later, 3)
            if later else None),
        "later_published_then_held": sum(r["later_published_then_held"] for r in rows),
        "held_before_publication_all": sum(r["held_before_publication"] for r in rows),
        "published_then_held_all": sum(r["published_then_held"] for r in rows),
        "reviews_in_open_cases_by_kind": _add_counts(r["reviews_in_open_cases_by_kind"]
                                                     for r in rows),
    }


def _add_counts(dicts) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def goals(by_kind: dict, honest: dict) -> dict:
    live = [k for k in RING_KINDS + PROMOTION_KINDS + BOMBING_KINDS if k in by_kind]
    out = {}
    for k in live:
        s = by_kind[k]
        out[f"{k}: recall >= 0.95"] = s["case_recall"] >= 0.95
        out[f"{k}: every case <= 60 s after 5th review"] = s["caught_within_60s"] == s["instances"]
        share = s["later_held_before_publication_share"]
        out[f"{k}: >= 90% of later reviews held before publication"] = (
            share is not None and share >= 0.9)
    for k in ORGANIC_KINDS:
        if k in by_kind:
            out[f"{k}: 0 held"] = by_kind[k]["held"] == 0
    out["honest held <= 0.5%"] = honest["held_share"] <= 0.005
    return out


def run_seed(args: argparse.Namespace, seed: int) -> dict:
    import psycopg

    db = f"{args.database}_{seed}"
    out_dir = Path(args.out)
    started = time.perf_counter()
    replay = Replay(args, seed)
    common.reset_database(db)
    common.reset_broker_state()
    key = common.create_partner(db, f"bench-attacks-{seed}")
    server = common.ServerConfig(workers=args.web_workers)
    events = replay.honest_events() + replay.attack_events()
    with common.gunicorn(db, server, out_dir / "gunicorn-attacks.log") as port:
        common.register_establishments(port, key, replay.establishments)
        history = replay.history()
        bodies = [json.dumps(history[i:i + 1000]).encode() for i in range(0, len(history), 1000)]
        loaded = asyncio.run(post_batches(port, key, bodies, 2, 600))
        with psycopg.connect(common.PG_URL.format(name=db)) as pg:
            common.mark_history_scored(pg)
        setup_detect = time.perf_counter()
        if not args.no_initial_detect:
            common.manage(db, "detect")
        setup_detect = time.perf_counter() - setup_detect
        _say(f"seed {seed}: history {loaded['created']:,} reviews in {time.perf_counter() - started:.0f} s;"
             f" replaying {len(events):,} events for {args.duration:.0f} s")
        with common.celery_worker(db, out_dir / "celery-attacks.log", beat=True):
            statuses, poller = asyncio.run(replay_run(replay, port, key, events, args))
    common.purge_queue()

    rows = [attack_figures(replay, poller, a) for a in range(len(replay.plan))]
    by_kind = {k: kind_summary([r for r in rows if r["kind"] == k])
               for k in dict.fromkeys(r["kind"] for r in rows)}
    honest = [t for t in replay.tracked.values() if t.role == "honest" and t.http == 201]
    held = sum(t.ever_held for t in honest)
    honest_fig = {"reviews": len(honest), "held": held,
                  "held_share": round(held / max(len(honest), 1), 4)}
    attack_reviews = {e for s in poller.attack_reviews.values() for e in s}
    unattributed = sum(1 for c in poller.cases.values()
                       if c["kind"] in ("sock_puppet_ring", "review_bombing")
                       and not set(c["reviews"]) & attack_reviews)
    result = {
        "seed": seed, "database": db,
        "history_reviews": loaded["created"], "establishments": args.establishments,
        "replay_s": args.duration, "settle_s": args.settle, "speedup": args.speedup,
        "events": len(events), "post_statuses": statuses,
        "poll_requests": poller.requests, "poll_errors": poller.errors,
        "initial_detect_s": round(setup_detect, 1),
        "by_kind": by_kind, "honest": honest_fig,
        "ring_or_bombing_cases_without_attack_reviews": unattributed,
        "goals": goals(by_kind, honest_fig), "attacks": rows,
        "run_s": round(time.perf_counter() - started, 1),
    }
    if not args.keep_database:
        common.drop_database(db)
    return result


def table(result: dict) -> str:
    lines = [f"seed {result['seed']}: {result['history_reviews']:,} history reviews, "
             f"{result['honest']['reviews']} honest live reviews, "
             f"{result['honest']['held']} held ({100 * result['honest']['held_share']:.2f}%)",
             f"{'kind':<24} {'n':>2} {'reviews':>7} {'recall':>6} {'s to case med/max':>18} "
             f"{'later held':>10} {'held b.p. (all)':>15} {'pub->held':>9}"]
    for kind, s in result["by_kind"].items():
        if "case_recall" not in s:
            lines.append(f"{kind:<24} {s['instances']:>2} {s['reviews']:>7} {'-':>6} {'-':>18} "
                         f"{'-':>10} {s['held']:>15} {'-':>9}  (held at all; goal 0)")
            continue
        share = s["later_held_before_publication_share"]
        lat = f"{s['seconds_to_case_median']}/{s['seconds_to_case_max']}"
        lines.append(f"{kind:<24} {s['instances']:>2} {s['reviews']:>7} {s['case_recall']:>6} "
                     f"{lat:>18} {'-' if share is None else share:>10} "
                     f"{s['held_before_publication_all']:>15} {s['published_then_held_all']:>9}")
    lines.append("goals (issue 10):")
    lines += [f"  {'met    ' if v else 'NOT met'}  {k}" for k, v in result["goals"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--history", type=int, default=200, help="reviews per establishment")
    parser.add_argument("--establishments", type=int, default=80)
    parser.add_argument("--duration", type=float, default=300.0, help="replay seconds")
    parser.add_argument("--settle", type=float, default=45.0,
                        help="seconds of polling after the last post")
    parser.add_argument("--instances", type=int, default=3, help="instances of each attack kind")
    parser.add_argument("--honest-rate", type=float, default=4.0, help="honest reviews per second")
    parser.add_argument("--speedup", type=float, default=60.0,
                        help="simulated seconds (created_at) per wall second")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--clients", type=int, default=4, help="concurrent posting clients")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (make run: 2)")
    parser.add_argument("--no-initial-detect", action="store_true",
                        help="skip `manage.py detect` over the preloaded history")
    common.add_run_arguments(parser, database="rg_bench_attacks")
    args = parser.parse_args(argv)
    runs = [run_seed(args, seed) for seed in args.seeds]
    result = {"benchmark": "live attacks through the API and worker (issue 10)",
              "rules": RULES, "runs": runs}
    common.dump(result, args.json)
    for run in runs:
        print(table(run), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
