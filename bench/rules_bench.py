"""One page view against 50 campaigns through campaigns.rules.decide(); prints µs per evaluation.

    python bench/rules_bench.py [iterations]

Budget: < 2 ms per evaluation. Figures only, no assertions. Same config as bench/rules_bench.mjs.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from campaigns.rules import decide  # noqa: E402

NOW = 1767225600000
TYPES = ["popup", "bar", "slide_in", "popup", "lead", "nps", "cart_recovery", "fullscreen", "feedback", "popup"]
TARGETING = [
    None,
    {"attr": "path", "op": "starts_with", "value": "/blog/"},
    {
        "all": [
            {"attr": "utm.source", "op": "equals", "value": "google"},
            {"attr": "utm.medium", "op": "in", "value": ["cpc", "ppc"]},
        ]
    },
    {"any": [{"attr": "device", "op": "equals", "value": "mobile"}, {"attr": "returning", "op": "is_true"}]},
    {"attr": "path", "op": "regex", "value": "^/(products|shop)/[a-z0-9-]+/?$"},
    {
        "all": [
            {"attr": "cart.value", "op": "gt", "value": 50},
            {"not": {"attr": "visited", "op": "contains", "value": "/checkout"}},
        ]
    },
    {"attr": "visited", "op": "starts_with", "value": "/blog/seo/", "min_count": 2},
    {"all": [{"attr": "query.ref", "op": "exists"}, {"attr": "hour", "op": "between", "value": [8, 20]}]},
    {
        "any": [
            {"attr": "referrer_host", "op": "ends_with", "value": "google.com"},
            {"attr": "first.utm.source", "op": "equals", "value": "newsletter"},
            {"attr": "attrs.plan", "op": "in", "value": ["free", "trial"]},
        ]
    },
    {
        "all": [
            {"attr": "language", "op": "starts_with", "value": "fr"},
            {"attr": "url", "op": "not_contains", "value": "nopopup"},
            {"attr": "days_since_first_visit", "op": "gte", "value": 3},
            {"attr": "campaign.3.closed", "op": "is_false"},
        ]
    },
]
FREQUENCY = [
    {},
    {"once_per_session": True},
    {"max_impressions": 3, "min_gap_seconds": 3600},
    {"stop_after_close": True, "stop_after_conversion": True, "cancel_on": ["purchase"]},
]


def config() -> dict:
    campaigns = []
    for i in range(50):
        campaigns.append(
            {
                "id": i + 1,
                "type": TYPES[i % 10],
                "priority": i % 7,
                "starts_at": "2025-12-01T00:00:00Z" if i % 3 == 0 else None,
                "ends_at": "2026-06-01T00:00:00Z" if i % 4 == 0 else None,
                "schedule": {
                    "weekdays": [0, 1, 2, 3, 4] if i % 5 == 0 else None,
                    "hours": [8, 22] if i % 6 == 0 else None,
                },
                "triggers": [{"type": "exit_intent"}],
                "targeting": TARGETING[i % 10],
                "frequency": FREQUENCY[i % 4],
                "goal": {"type": "cta_click"},
                "control_share": 0.1 if i % 2 else 0,
                "variants": [
                    {"id": i * 10 + 1, "weight": 50, "content": {}},
                    {"id": i * 10 + 2, "weight": 50, "content": {}},
                ],
            }
        )
    return {
        "version": "bench",
        "site": {
            "key": "pk_bench",
            "tz": "Europe/Paris",
            "consent": {"required": False},
            "cap": {"max_overlays_per_session": 3, "min_overlay_gap_seconds": 60},
        },
        "campaigns": campaigns,
    }


def context(i: int) -> dict:
    return {
        "now": NOW + i * 1000,
        "url": f"https://shop.example/blog/seo/post-{i % 20}?utm_source=google&utm_medium=cpc&ref=x",
        "referrer": "https://www.google.com/",
        "device": "desktop",
        "language": "fr-FR",
        "cookies": {"ab": "b"},
        "consent": "granted",
        "visitor": {
            "id": f"v_{i}",
            "first_seen": NOW - 5 * 86_400_000,
            "sessions": 3,
            "session_id": "s_3",
            "session_start": NOW - 600_000,
            "pageviews_session": 4,
            "pageviews_total": 20,
            "visited": ["/blog/seo/a", "/blog/seo/b", "/pricing", "/", "/blog/"],
            "first_touch": {"referrer": "", "utm": {"source": "newsletter"}},
            "utm": {"source": "google", "medium": "cpc", "campaign": "spring"},
            "attrs": {"plan": "free"},
            "cart": {"value": 80, "items": [{"id": "sku-1", "qty": 2, "price": 40}]},
            "history": {"3": {"impressions": [NOW - 7_200_000], "closes": [], "conversions": [], "sessions": ["s_2"]}},
            "overlays": [NOW - 7_200_000],
            "overlays_session": 1,
            "events": [],
        },
    }


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    cfg = config()
    contexts = [context(i) for i in range(iterations)]
    start = time.perf_counter()
    decide(config=cfg, context=contexts[0])
    first = (time.perf_counter() - start) * 1e6
    for c in contexts[:200]:
        decide(config=cfg, context=c)
    times = []
    for c in contexts:
        start = time.perf_counter()
        decide(config=cfg, context=c)
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    p50, p99 = (times[min(len(times) - 1, int(len(times) * p))] for p in (0.5, 0.99))
    print(f"python decide(): 50 campaigns, {iterations} page views")
    print(
        f"first {first:.0f} us, mean {statistics.fmean(times):.0f} us, p50 {p50:.0f} us, p99 {p99:.0f} us "
        "(budget 2000 us)"
    )


if __name__ == "__main__":
    main()
