// The visitor's state in first-party storage, and the visitor context of docs/contracts.md.
// Until consent allows storing, the same code runs on a memory store (nothing persisted).
import { memoryStorage, readJSON, shortId, push } from './util.js';

export const KEY = '_rt_v';
export const SESSION_IDLE = 30 * 60e3;
export const MAX_TIMES = 20;

export function utmOf(url) {
  const out = {};
  try {
    const q = new URL(url).searchParams;
    ['source', 'medium', 'campaign', 'term', 'content'].forEach((k) => { const v = q.get('utm_' + k); if (v) out[k] = v; });
  } catch (_) { /* not a URL */ }
  return out;
}

export function createState({ storage = memoryStorage(), now = Date.now } = {}) {
  // _raw: the stored text _data was read from or written as; the same text is not parsed again.
  // _dirty: _data was changed in this task and is written at its end (mut()).
  let _store = storage, _data = null, _raw, _dirty;

  const load = () => {
    if (_dirty) return _data; // this task's changes, not written yet, are the state
    let raw = null;
    try { raw = _store.getItem(KEY); } catch (_) { /* blocked */ }
    if (raw != null && raw === _raw) return _data;
    let d = null;
    try { d = JSON.parse(raw); } catch (_) { /* not ours */ }
    _raw = d && d.id ? raw : undefined;
    return (_data = d && d.id ? d : _data || {
      id: shortId('v_'), first_seen: now(), sessions: 0, session: null, pv: 0, visited: [],
      first_touch: null, utm: {}, attrs: {}, cart: null, history: {}, overlays: [], events: [],
      variants: {}, exposed: {},
    });
  };
  // Written only when the text changed.
  const save = (d) => {
    const raw = JSON.stringify(d);
    if (raw !== _raw) try { _raw = raw; _store.setItem(KEY, raw); } catch (_) { /* full or blocked */ }
  };
  const flush = () => { if (_dirty) { _dirty = false; save(_data); } };
  // Another store from now on (memory or localStorage), starting with visitor d.
  const move = (next, d) => { _store = next; _raw = undefined; _dirty = false; save((_data = d)); };
  // Read (another tab may have written since the last task), change, and write once the task's work is
  // done: the changes of a page view (session, visited paths, variants ...) are one write, not one each.
  const mut = (fn) => {
    const d = load(), r = fn(d);
    if (!_dirty) { _dirty = true; queueMicrotask(flush); }
    return r;
  };

  // A new session after 30 minutes without a page view or a widget event.
  const session = (d) => {
    const t = now();
    let s = d.session;
    if (!s || t - s.last > SESSION_IDLE) {
      s = d.session = { id: shortId('s_'), start: t, pv: 0, time: 0 };
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
    _useStorage(next) {
      const stored = readJSON(next, KEY);
      move(next, stored && stored.id ? stored : load());
    },
    // Consent denied: the stored visitor is removed and this page goes on in memory as a new visitor, so a
    // later grant starts fresh. Returns that memory store (the transport's too: src/lazy/consent_set.js).
    _forget() {
      try { _store.removeItem(KEY); } catch (_) { /* blocked */ }
      _raw = undefined; _dirty = false; _data = null;
      return (_store = memoryStorage());
    },

    _pageview(url, referrer) {
      return mut((d) => {
        const s = session(d), utm = utmOf(url);
        let p = url;
        try { p = new URL(url).pathname; } catch (_) { /* a bare path */ }
        s.pv += 1;
        d.pv += 1;
        d.visited = push(d.visited.filter((x) => x !== p), p, 50);
        if (Object.keys(utm).length) d.utm = utm;
        d.first_touch = d.first_touch || { referrer: referrer || '', utm };
        // The pageview's journey (docs/contracts.md): the session keeps its last path in the stored state, so
        // the previous page is known across page loads, and a new session starts without one. With it, what the
        // server makes the page view's segment of (source, new or returning), as src/lazy/segment.js would: the
        // segment itself costs the core too many bytes.
        const j = { prev: s.path || null, step: s.pv, sessions: d.sessions, utm: d.utm, referrer: d.first_touch.referrer };
        s.path = p;
        return j;
      });
    },
    _addTime(ms) { mut((d) => { session(d).time += ms; }); },
    _setAttrs(attrs) { mut((d) => { Object.assign(d.attrs, attrs); }); },
    _setCart(cart) { mut((d) => { d.cart = cart && { value: +cart.value || 0, items: Array.isArray(cart.items) ? cart.items : [] }; }); },
    _event(name) { mut((d) => { if (!d.events.includes(name)) push(d.events, name, MAX_TIMES); }); },
    // For the bookkeeping of shown messages (src/lazy/history.js): change the state, written once.
    _mut: mut,
    _session: session,
    _now: now,
    // The first answer is kept: a later change of weights never moves a visitor.
    _variant(cid, choose) {
      const v = load().variants;
      return cid in v ? v[cid] : mut((d) => (cid in d.variants ? d.variants[cid] : (d.variants[cid] = choose())));
    },

    // The visitor context of the stored state, without a copy: the rules only read it (and a copy, parsed
    // again on every decision, was a measurable share of the start-up at 4x throttling).
    _context(env) {
      const d = load(), s = d.session || {};
      // The stored fields under their own names, and the contract's names for the session's
      return {
        now: now(), url: env.url, referrer: env.referrer || '', device: env.device, language: env.language,
        consent: env.consent || 'unknown',
        visitor: {
          ...d, session_id: s.id, session_start: s.start, pageviews_session: s.pv, pageviews_total: d.pv,
          first_touch: d.first_touch || { referrer: '', utm: {} }, overlays_session: d.overlays.filter((t) => t >= s.start).length,
        },
      };
    },
  };
}
