// The visitor's state in first-party storage, and the visitor context of docs/contracts.md.
// Until consent allows storing, the same code runs on a memory store (nothing persisted).
import { memoryStorage, readJSON, writeJSON, shortId, push } from './util.js';

export const KEY = '_rt_v';
export const SESSION_IDLE = 30 * 60e3;
const MAX_VISITED = 50;
const MAX_TIMES = 20;
const UTM = ['source', 'medium', 'campaign', 'term', 'content'];

export function utmOf(url) {
  const out = {};
  try {
    const q = new URL(url).searchParams;
    UTM.forEach((k) => { const v = q.get('utm_' + k); if (v) out[k] = v; });
  } catch (_) { /* not a URL */ }
  return out;
}

const pathOf = (url) => { try { return new URL(url).pathname; } catch (_) { return url; } };

function fresh(now) {
  return {
    id: shortId('v_'), first_seen: now, sessions: 0, session: null, pv: 0, visited: [],
    first_touch: null, utm: {}, attrs: {}, cart: null, history: {}, overlays: [], events: [],
    variants: {}, exposed: {},
  };
}

export function createState({ storage = memoryStorage(), now = Date.now } = {}) {
  let _store = storage;
  let _data = null;

  const load = () => {
    const d = readJSON(_store, KEY);
    _data = d && d.id ? d : _data || fresh(now());
    return _data;
  };
  // Read, change, write: another tab may have written in between.
  const mut = (fn) => { const d = load(); const r = fn(d); writeJSON(_store, KEY, d); return r; };
  const hist = (d, cid) => d.history[cid] || (d.history[cid] = { impressions: [], closes: [], conversions: [], sessions: [] });

  // A new session after 30 minutes without a page view or a widget event.
  const session = (d, t) => {
    let s = d.session;
    if (!s || t - s.last > SESSION_IDLE) {
      s = d.session = { id: shortId('s_'), start: t, last: t, pv: 0, time: 0 };
      d.sessions += 1;
      d.utm = {};
    }
    s.last = t;
    return s;
  };

  return {
    get data() { return _data || load(); },
    load,
    // Move to the persistent store: a visitor stored there wins, else the memory state moves in
    // (consent granted during this page view keeps its visitor, session and variants).
    useStorage(next) {
      const stored = readJSON(next, KEY);
      const d = stored && stored.id ? stored : load();
      _store = next;
      _data = d;
      writeJSON(_store, KEY, d);
    },
    // Consent denied: the stored visitor is removed; this page goes on in memory.
    forget() {
      const d = load();
      try { _store.removeItem(KEY); } catch (_) { /* blocked */ }
      _store = memoryStorage();
      writeJSON(_store, KEY, d);
    },

    pageview(url, referrer) {
      return mut((d) => {
        const t = now();
        const s = session(d, t);
        const utm = utmOf(url);
        s.pv += 1;
        d.pv += 1;
        const p = pathOf(url);
        d.visited = d.visited.filter((x) => x !== p);
        push(d.visited, p, MAX_VISITED);
        if (Object.keys(utm).length) d.utm = utm;
        if (!d.first_touch) d.first_touch = { referrer: referrer || '', utm };
        return s;
      });
    },
    touch() { mut((d) => { session(d, now()); }); },
    addTime(ms) { mut((d) => { session(d, now()).time += ms; }); },
    setAttrs(attrs) { mut((d) => { Object.assign(d.attrs, attrs); }); },
    setCart(cart) { mut((d) => { d.cart = cart && { value: +cart.value || 0, items: Array.isArray(cart.items) ? cart.items : [] }; }); },
    event(name) { mut((d) => { if (!d.events.includes(name)) push(d.events, name, MAX_TIMES); }); },
    // kind: impressions | closes | conversions
    record(cid, kind) {
      mut((d) => {
        const h = hist(d, cid);
        const s = session(d, now());
        push(h[kind], now(), MAX_TIMES);
        if (kind === 'impressions' && !h.sessions.includes(s.id)) push(h.sessions, s.id, MAX_TIMES);
      });
    },
    overlay() { mut((d) => { push(d.overlays, now(), MAX_TIMES); }); },
    // The first answer is kept: a later change of weights never moves a visitor.
    variant(cid, choose) {
      const d = load();
      if (cid in d.variants) return d.variants[cid];
      const v = choose();
      mut((x) => { x.variants[cid] = v; });
      return v;
    },
    // true the first time only (exposure is sent once per campaign per visitor)
    firstExposure(cid) { return mut((d) => !d.exposed[cid] && (d.exposed[cid] = 1)); },

    context(env) {
      const d = load();
      const s = d.session || session(d, now());
      const h = {};
      Object.keys(d.history).forEach((k) => { h[k] = { ...d.history[k] }; });
      return {
        now: now(),
        url: env.url,
        referrer: env.referrer || '',
        device: env.device,
        language: env.language,
        cookies: env.cookies || {},
        consent: env.consent || 'unknown',
        visitor: {
          id: d.id, first_seen: d.first_seen, sessions: d.sessions, session_id: s.id,
          session_start: s.start, pageviews_session: s.pv, pageviews_total: d.pv,
          visited: d.visited.slice(), first_touch: d.first_touch || { referrer: '', utm: {} },
          utm: { ...d.utm }, attrs: { ...d.attrs }, cart: d.cart, history: h,
          overlays: d.overlays.slice(), overlays_session: d.overlays.filter((t) => t >= s.start).length,
          events: d.events.slice(),
        },
      };
    },
  };
}
