// One page view against 50 campaigns through widget/src/core/rules.js decide(); prints µs per evaluation.
//   node bench/rules_bench.mjs [iterations]
// Budget: < 1 ms per evaluation. Figures only, no assertions. Same config as bench/rules_bench.py, compiled
// as the server sends it (campaigns/targeting/compile.py, run through the project's Python).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { decide } from '../widget/src/core/rules.js';

const ROOT = new URL('..', import.meta.url).pathname;
const PYTHON = existsSync(`${ROOT}.venv/bin/python`) ? `${ROOT}.venv/bin/python` : 'python3';
const COMPILE = 'import json, sys; from campaigns.targeting.compile import config_compile; '
  + 'print(json.dumps(config_compile(config=json.load(sys.stdin), now=int(sys.argv[1]))))';
const compiled = (config) => JSON.parse(execFileSync(PYTHON, ['-c', COMPILE, String(NOW)], { cwd: ROOT, input: JSON.stringify(config) }));

const NOW = 1767225600000;
const TYPES = ['popup', 'bar', 'slide_in', 'popup', 'lead', 'nps', 'cart_recovery', 'fullscreen', 'feedback', 'popup'];
const TARGETING = [
  null,
  { attr: 'path', op: 'starts_with', value: '/blog/' },
  { all: [{ attr: 'utm.source', op: 'equals', value: 'google' }, { attr: 'utm.medium', op: 'in', value: ['cpc', 'ppc'] }] },
  { any: [{ attr: 'device', op: 'equals', value: 'mobile' }, { attr: 'returning', op: 'is_true' }] },
  { attr: 'path', op: 'regex', value: '^/(products|shop)/[a-z0-9-]+/?$' },
  { all: [{ attr: 'cart.value', op: 'gt', value: 50 }, { not: { attr: 'visited', op: 'contains', value: '/checkout' } }] },
  { attr: 'visited', op: 'starts_with', value: '/blog/seo/', min_count: 2 },
  { all: [{ attr: 'query.ref', op: 'exists' }, { attr: 'hour', op: 'between', value: [8, 20] }] },
  { any: [{ attr: 'referrer_host', op: 'ends_with', value: 'google.com' },
    { attr: 'first.utm.source', op: 'equals', value: 'newsletter' },
    { attr: 'attrs.plan', op: 'in', value: ['free', 'trial'] }] },
  { all: [{ attr: 'language', op: 'starts_with', value: 'fr' }, { attr: 'url', op: 'not_contains', value: 'nopopup' },
    { attr: 'days_since_first_visit', op: 'gte', value: 3 }, { attr: 'campaign.3.closed', op: 'is_false' }] },
];
const FREQUENCY = [{}, { once_per_session: true }, { max_impressions: 3, min_gap_seconds: 3600 },
  { stop_after_close: true, stop_after_conversion: true, cancel_on: ['purchase'] }];

// The config as the server builds it (then compiled, as the server sends it).
const config = () => compiled({
  version: 'bench',
  site: { key: 'pk_bench', tz: 'Europe/Paris', consent: { required: false }, cap: { max_overlays_per_session: 3, min_overlay_gap_seconds: 60 } },
  campaigns: Array.from({ length: 50 }, (_, i) => ({
    id: i + 1, type: TYPES[i % 10], priority: i % 7,
    starts_at: i % 3 == 0 ? '2025-12-01T00:00:00Z' : null, ends_at: i % 4 == 0 ? '2026-06-01T00:00:00Z' : null,
    schedule: { weekdays: i % 5 == 0 ? [0, 1, 2, 3, 4] : null, hours: i % 6 == 0 ? [8, 22] : null },
    triggers: [{ type: 'exit_intent' }], targeting: TARGETING[i % 10], frequency: FREQUENCY[i % 4],
    goal: { type: 'cta_click' }, control_share: i % 2 ? 0.1 : 0,
    variants: [{ id: i * 10 + 1, weight: 50, content: {} }, { id: i * 10 + 2, weight: 50, content: {} }],
  })),
});

const context = (i) => ({
  now: NOW + i * 1000, url: `https://shop.example/blog/seo/post-${i % 20}?utm_source=google&utm_medium=cpc&ref=x`,
  referrer: 'https://www.google.com/', device: 'desktop', language: 'fr-FR', cookies: { ab: 'b' }, consent: 'granted',
  visitor: {
    id: `v_${i}`, first_seen: NOW - 5 * 86400000, sessions: 3, session_id: 's_3', session_start: NOW - 600000,
    pageviews_session: 4, pageviews_total: 20, visited: ['/blog/seo/a', '/blog/seo/b', '/pricing', '/', '/blog/'],
    first_touch: { referrer: '', utm: { source: 'newsletter' } },
    utm: { source: 'google', medium: 'cpc', campaign: 'spring' }, attrs: { plan: 'free' },
    cart: { value: 80, items: [{ id: 'sku-1', qty: 2, price: 40 }] },
    history: { 3: { impressions: [NOW - 7200000], closes: [], conversions: [], sessions: ['s_2'] } },
    overlays: [NOW - 7200000], overlays_session: 1, events: [],
  },
});

const n = +(process.argv[2] || 5000);
const cfg = config();
const contexts = Array.from({ length: n }, (_, i) => context(i));
let t = performance.now();
decide(cfg, contexts[0]);
const first = (performance.now() - t) * 1000;
for (let i = 0; i < 500; i++) decide(cfg, contexts[i % n]);
const times = [];
for (const c of contexts) {
  t = performance.now();
  decide(cfg, c);
  times.push((performance.now() - t) * 1000);
}
times.sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / n;
console.log(`js decide(): 50 campaigns, ${n} page views`);
const pct = (p) => times[Math.min(n - 1, Math.floor(n * p))].toFixed(0);
console.log(`first ${first.toFixed(0)} us (cold: JIT), mean ${mean.toFixed(0)} us, p50 ${pct(0.5)} us, p99 ${pct(0.99)} us (budget 1000 us)`);
