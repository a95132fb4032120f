// The rule language: the same semantics as campaigns/rules.py (docs/rules.md);
// both evaluators pass tests/conformance/rules.json. Plain data in, answers out.
import { assign } from './assignment.js';

const _OVERLAY = ['popup', 'fullscreen', 'nps', 'feedback', 'lead', 'cart_recovery'];
// The regex subset that behaves the same in Python and JS (see REGEX_DENIED in rules.py).
const _HARMLESS = /\\(?:[^A-Za-z0-9]|[dDwWsSbBnrtfv]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})/g;
const _DENIED = /\\|\(\?(?![:=!])|[*+?}]\+|\{,|\[\^?\]/;
const _ISO = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(?:Z|([+-])([0-9]{2}):([0-9]{2}))$/;
const _DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const _UTM = /^(source|medium|campaign)$/;

const _isNum = (x) => typeof x == 'number' && x == x;
const _isArr = Array.isArray;
const _obj = (x) => !!x && typeof x == 'object' && !_isArr(x);
const _coll = (x) => !!x && typeof x == 'object';
const _own = (o, k) => (_obj(o) && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
const _nn = (x) => (x == null ? null : x);
const _ne = (x) => (x == null || x === '' ? null : x);
const _str = (x) => String(x);
const _num = (x) => (_isNum(x) ? x : typeof x == 'string' && /^-?[0-9]+(?:\.[0-9]+)?$/.test(x) ? +x : null);
const _truthy = (x) => typeof x == 'boolean' ? x : _isNum(x) ? x != 0
  : typeof x != 'string' ? null : /^(true|1|yes|on)$/i.test(x) ? true : /^(false|0|no|off|)$/i.test(x) ? false : null;
const _json = (x) => JSON.stringify(_nn(x));

// %XX as UTF-8; a malformed escape or invalid UTF-8 leaves the raw string.
const _dec = (s) => {
  if (s.indexOf('%') < 0 || /%(?![0-9A-Fa-f]{2})/.test(s)) return s;
  try { return decodeURIComponent(s); } catch (e) { return s; }
};

const _rx = new Map();
const _regex = (p, cs) => {
  if (typeof p != 'string') return null;
  const k = (cs ? '1' : '0') + p;
  if (!_rx.has(k)) {
    let r = null;
    if (p.length <= 500 && !_DENIED.test(p.replace(_HARMLESS, 'e'))) try { r = new RegExp(p, cs ? '' : 'i'); } catch (e) { /* never matches */ }
    _rx.set(k, r);
  }
  return _rx.get(k);
};

// Epoch ms from epoch ms or ISO 8601 with Z or an offset; null if unreadable.
export function parseTime(x) {
  if (_isNum(x)) return Math.trunc(x);
  const m = typeof x == 'string' && _ISO.exec(x);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((v) => +(v || 0));
  if (!(y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 60)) return null;
  const off = m[8] ? (m[9] * 60 + +m[10]) * (m[8] == '-' ? -1 : 1) : 0;
  return Date.UTC(y, mo - 1, d, h, mi - off, s, +(m[7] || '0').slice(0, 3).padEnd(3, '0'));
}

const _fmts = {};
// [weekday (0 = Monday), hour] at epoch ms `now` in time zone `tz` (UTC if unknown).
export function weekdayHour(now, tz) {
  let f = _fmts[tz];
  if (!f) {
    const o = { weekday: 'short', hour: 'numeric', hourCycle: 'h23' };
    try { f = new Intl.DateTimeFormat('en-US', { ...o, timeZone: tz }); } catch (e) { f = new Intl.DateTimeFormat('en-US', { ...o, timeZone: 'UTC' }); }
    _fmts[tz] = f;
  }
  const p = {};
  for (const x of f.formatToParts(now)) p[x.type] = x.value;
  return [_DAYS.indexOf(p.weekday), +p.hour % 24];
}

// [host, path, query] of a URL or a bare path, not decoded.
const _split = (url) => {
  url = url.split('#')[0];
  const i = url.indexOf('?'), q = i < 0 ? '' : url.slice(i + 1);
  if (i >= 0) url = url.slice(0, i);
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/]*)/.exec(url);
  return [m ? m[1].split('@').pop().replace(/:[0-9]*$/, '').toLowerCase() : '', (m ? url.slice(m[0].length) : url) || '/', q];
};

const _query = (q) => {
  const o = Object.create(null);
  for (const p of q.split('&')) {
    if (!p) continue;
    const j = p.indexOf('='), k = _dec((j < 0 ? p : p.slice(0, j)).replace(/\+/g, ' '));
    if (!(k in o)) o[k] = _dec((j < 0 ? '' : p.slice(j + 1)).replace(/\+/g, ' '));
  }
  return o;
};

// The visitor context with its derived values computed once per evaluation.
const _ctx = (r, tz) => ({ r, v: _obj(r.visitor) ? r.visitor : {}, tz: tz || 'UTC', now: _isNum(r.now) ? r.now : Date.now(), k: new Map() });
const _get = (c, k, f) => { if (!c.k.has(k)) c.k.set(k, f()); return c.k.get(k); };
const _url = (c) => _get(c, '@u', () => _split(_str(c.r.url || '')));
const _q = (c) => _get(c, '@q', () => _query(_url(c)[2]));
const _when = (c) => _get(c, '@w', () => weekdayHour(c.now, c.tz));
const _vn = (n) => (c) => (_isNum(c.v[n]) ? c.v[n] : 0);
const _cart = (c) => (_obj(c.v.cart) ? c.v.cart : {});
const _items = (c) => (_isArr(_cart(c).items) ? _cart(c).items : []).filter(_obj);
const _ref = (c) => _ne(c.r.referrer);

// Attribute -> [kind, resolver]. Kinds: s(tring) n(umber) b(ool) l(ist) p(aths) d(ynamic) c(ount).
const ATTRS = {
  url: ['s', (c) => _dec(_str(c.r.url || ''))],
  path: ['s', (c) => _dec(_url(c)[1])],
  host: ['s', (c) => _url(c)[0] || null],
  referrer: ['s', _ref],
  referrer_host: ['s', (c) => (_ref(c) ? _ne(_split(_str(_ref(c)))[0]) : null)],
  device: ['s', (c) => c.r.device],
  language: ['s', (c) => c.r.language],
  consent: ['s', (c) => c.r.consent],
  returning: ['b', (c) => _vn('sessions')(c) > 1],
  sessions: ['n', _vn('sessions')],
  pageviews_session: ['n', _vn('pageviews_session')],
  pageviews_total: ['n', _vn('pageviews_total')],
  visited: ['p', (c) => c.v.visited || []],
  days_since_first_visit: ['n', (c) => (_isNum(c.v.first_seen) ? Math.floor((c.now - c.v.first_seen) / 864e5) : null)],
  'cart.value': ['n', (c) => (_isNum(_cart(c).value) ? _cart(c).value : 0)],
  'cart.count': ['n', (c) => _items(c).reduce((t, i) => { const q = 'qty' in i ? i.qty : 1; return t + (_isNum(q) ? q : 0); }, 0)],
  'cart.products': ['l', (c) => { const l = _items(c).map((i) => i.id).filter((x) => x != null); return l.length ? l : null; }],
  weekday: ['n', (c) => _when(c)[0]],
  hour: ['n', (c) => _when(c)[1]],
};
const _HIST = { seen: 'impressions', closed: 'closes', converted: 'conversions' };
const PREFIXED = [
  ['query.', 'd', (c, n) => _own(_q(c), n)],
  ['utm.', 's', (c, n) => { const x = _own(c.v.utm, n); return _ne(x != null ? x : _q(c)['utm_' + n]); }],
  ['first.', 's', (c, n) => { const t = c.v.first_touch; return _ne(n == 'referrer' ? _own(t, n) : _own(_own(t, 'utm'), n.slice(4))); }],
  ['attrs.', 'd', (c, n) => _own(c.v.attrs, n)],
  ['cookie.', 'd', (c, n) => _own(c.r.cookies, n)],
  ['campaign.', 'c', (c, n) => { const [id, w] = n.split('.'), l = _own(_own(c.v.history, id), _HIST[w]); return _isArr(l) ? l.length : 0; }],
];

const _kind = (a) => {
  if (typeof a != 'string') return null;
  if (_own(ATTRS, a)) return ATTRS[a][0];
  for (const [p, k] of PREFIXED) {
    if (!a.startsWith(p) || a.length == p.length) continue;
    const r = a.slice(p.length);
    return (p == 'utm.' ? _UTM.test(r) : p == 'first.' ? /^(referrer|utm\.(source|medium|campaign))$/.test(r)
      : p == 'campaign.' ? /^[^.]+\.(seen|closed|converted)$/.test(r) : 1) ? k : null;
  }
  return null;
};

const _res = (a, c) => _get(c, a, () => {
  if (_own(ATTRS, a)) return ATTRS[a][1](c);
  for (const [p, , f] of PREFIXED) if (a.startsWith(p)) return f(c, a.slice(p.length));
  return null;
});

// Operators over a present value `a`, the rule's value `v` and options {cs, p}.
const _low = (s, o) => (o.cs ? s : s.toLowerCase());
const _norm = (x, o) => _low(o.p ? _str(x).replace(/\/+$/, '') || '/' : _str(x), o);
const _eq = (a, v, o) => (_isNum(a) && _isNum(v) ? a == v : v != null && !_coll(v) && !_coll(a) && _norm(a, o) == _norm(v, o));
const _sub = (t) => (a, v, o) => (typeof v == 'string' || _isNum(v)) && !_coll(a) && t(_low(_str(a), o), _low(_str(v), o));
const _cmp = (t) => (a, v) => { const n = _num(a); return n != null && _isNum(v) && t(n, v); };
const OPS = {
  equals: _eq,
  contains: _sub((a, v) => a.includes(v)),
  starts_with: _sub((a, v) => a.startsWith(v)),
  ends_with: _sub((a, v) => a.endsWith(v)),
  regex: (a, v, o) => { const r = _regex(v, o.cs); return !!r && !_coll(a) && r.test(_str(a)); },
  in: (a, v, o) => _isArr(v) && v.some((x) => _eq(a, x, o)),
  gt: _cmp((a, v) => a > v),
  gte: _cmp((a, v) => a >= v),
  lt: _cmp((a, v) => a < v),
  lte: _cmp((a, v) => a <= v),
  between: (a, v) => { const n = _num(a); return n != null && _isArr(v) && v.length == 2 && _isNum(v[0]) && _isNum(v[1]) && v[0] <= n && n <= v[1]; },
  includes: (a, v, o) => _isArr(a) && (_isArr(v) ? v : [v]).some((w) => a.some((i) => _eq(i, w, o))),
  is_true: (a) => _truthy(a) === true,
  is_false: (a) => _truthy(a) === false,
  exists: () => true,
};
const NEG = { not_equals: 'equals', not_contains: 'contains', not_regex: 'regex', not_in: 'in' };
const _isOp = (op) => op == 'not_exists' || !!_own(OPS, _own(NEG, op) || op);
const _miss = (x) => x == null || (_isArr(x) && !x.length);

// [matched, the attribute's value]
const _leaf = (r, c) => {
  const { attr, op, value } = r, k = _kind(attr), neg = !!_own(NEG, op), pos = neg ? NEG[op] : op, cs = r.case_sensitive === true;
  if (!k || !_isOp(op) || (pos == 'regex' && !_regex(value, cs))) return [false, null];
  const a = _res(attr, c);
  if (op == 'not_exists') return [_miss(a), a];
  if (_miss(a)) return [neg, a];
  const o = { cs, p: (attr == 'path' || attr == 'visited') && (pos == 'equals' || pos == 'in') }, f = OPS[pos];
  if (k == 'p') {
    const hits = new Set();
    for (const x of a) if (typeof x == 'string') { const d = _dec(x); if (f(d, value, o)) hits.add(d.replace(/\/+$/, '') || '/'); }
    return [neg ? !hits.size : hits.size >= (_isNum(r.min_count) ? r.min_count : 1), a];
  }
  const m = f(a, value, o);
  return [neg ? !m : m, a];
};

// null when the rule matches, else [path, why]: a sentence, or [leaf, actual] for a failing leaf.
const _ex = (r, c, p) => {
  if (r == null) return null;
  const bad = [p, 'invalid rule'];
  if (!_obj(r)) return bad;
  if ('all' in r) {
    if (!_isArr(r.all)) return bad;
    for (let i = 0; i < r.all.length; i++) { const w = _ex(r.all[i], c, p + '.all[' + i + ']'); if (w) return w; }
    return null;
  }
  if ('any' in r) return _isArr(r.any) && r.any.some((x) => !_ex(x, c, p)) ? null : [p, `none of the ${_isArr(r.any) ? r.any.length : 0} alternatives matched`];
  if ('not' in r) return _obj(r.not) && _ex(r.not, c, p) ? null : [p, 'the excluded condition matched'];
  const [m, a] = _leaf(r, c);
  return m ? null : !_kind(r.attr) || !_isOp(r.op) ? bad : [p, [r, a]];
};
const _text = ([, w]) => (typeof w == 'string' ? w : `${w[0].attr} ${w[0].op} ${_json(w[0].value)} did not match (${w[0].attr} is ${_json(w[1])})`);

// Whether a targeting tree matches a visitor context; never throws; `tz` is the site's.
export const ruleMatches = (rule, context, tz) => !_ex(rule, _ctx(context || {}, tz), '');
// The first rule that excludes the visitor, {path: 'targeting.all[1]', text}, or null.
export const explain = (rule, context, tz, path = 'targeting') => {
  const w = _ex(rule, _ctx(context || {}, tz), path);
  return w && { path: w[0], text: _text(w) };
};

const _sched = (k, c) => {
  for (const [f, code, ok] of [['starts_at', 'not_started', (t) => c.now >= t], ['ends_at', 'ended', (t) => c.now < t]]) {
    if (k[f] == null) continue;
    const t = parseTime(k[f]);
    if (t == null) return ['schedule_invalid', f];
    if (!ok(t)) return [code, f];
  }
  const s = k.schedule || {}, w = s.weekdays, h = s.hours;
  if (w == null && h == null) return null;
  const [wd, hr] = _when(c);
  if (_isArr(w) && !w.includes(wd)) return ['schedule_weekday', 'schedule.weekdays'];
  if (_isArr(h) && h.length == 2 && _isNum(h[0]) && _isNum(h[1])) {
    const [a, b] = h;
    if (!(a < b ? a <= hr && hr < b : a == b || hr >= a || hr < b)) return ['schedule_hours', 'schedule.hours'];
  }
  return null;
};

const _F = 'frequency.';
const _freq = (k, c) => {
  const f = k.frequency || {}, h = _own(c.v.history, _str(k.id)) || {}, shown = h.impressions || [], can = f.cancel_on || [], g = f.min_gap_seconds;
  if (can.length && (c.v.events || []).some((e) => can.includes(e))) return ['cancelled', _F + 'cancel_on'];
  if (f.stop_after_conversion && (h.conversions || []).length) return ['converted', _F + 'stop_after_conversion'];
  if (f.stop_after_close && (h.closes || []).length) return ['closed', _F + 'stop_after_close'];
  if (_isNum(f.max_impressions) && shown.length >= f.max_impressions) return ['max_impressions', _F + 'max_impressions'];
  if (f.once_per_session && c.v.session_id != null && (h.sessions || []).includes(c.v.session_id)) return ['once_per_session', _F + 'once_per_session'];
  if (_isNum(g) && shown.length && c.now - Math.max(...shown) < g * 1000) return ['min_gap', _F + 'min_gap_seconds'];
  return null;
};

const _cap = (cap, c) => {
  const most = cap.max_overlays_per_session, n = c.v.overlays_session, g = cap.min_overlay_gap_seconds, t = c.v.overlays || [];
  if (_isNum(most) && _isNum(n) && n >= most) return ['site_cap', 'site.cap.max_overlays_per_session'];
  if (_isNum(g) && t.length && c.now - Math.max(...t) < g * 1000) return ['site_gap', 'site.cap.min_overlay_gap_seconds'];
  return null;
};

const _prio = (k) => (_isNum(k.priority) ? k.priority : 0);

// Which campaigns are armed now, in priority order (desc, then id asc), and the overlay that
// wins if several fire at once. Checks, first failure reported: consent, schedule, targeting,
// frequency, variants, site cap (overlays only). Holdout: armed, variant null, holdout true.
export function decide(config, context) {
  const site = config.site || {}, c = _ctx(context, site.tz), cons = site.consent || {}, cap = site.cap || {}, out = [];
  const gated = cons.required === true && context.consent != 'granted' && cons.show_before_consent !== true;
  const vid = _str(c.v.id || '');
  let win = null;
  const list = (config.campaigns || []).slice().sort((a, b) => _prio(b) - _prio(a) || (a.id > b.id) - (a.id < b.id));
  for (const k of list) {
    const t = k.type, vs = k.variants || [];
    let why = null, text = null, ch = {}, va = null;
    if (t == 'consent') { if (context.consent == 'granted' || context.consent == 'denied') why = ['consent_decided', 'consent']; }
    else if (gated) why = ['consent_required', 'site.consent.required'];
    why = why || _sched(k, c);
    if (!why) { const e = _ex(k.targeting, c, 'targeting'); if (e) { why = ['targeting', e[0]]; text = _text(e); } }
    why = why || _freq(k, c);
    if (!why && !vs.some((v) => _isNum(v.weight) && v.weight > 0)) why = ['no_variant', 'variants'];
    if (!why) { ch = assign(k.id, vid, k.control_share || 0, vs.map((v) => v.weight)); va = ch.index != null ? vs[ch.index] : null; }
    const d = ((va || {}).content || {}).display, ov = _OVERLAY.includes(t) && d != 'slide_in' && d != 'bar';
    if (!why && ov) why = _cap(cap, c);
    const armed = !why;
    if (armed && ov && win == null) win = _nn(k.id);
    out.push({
      id: _nn(k.id), armed,
      reason: armed ? null : why[0],
      reason_text: armed ? null : text || why[0], // the sentences are server-side (campaigns/rules.py REASONS)
      path: armed ? null : why[1],
      variant: armed && va ? _nn(va.id) : null,
      holdout: armed && ch.holdout === true,
      overlay: ov,
      triggers: k.triggers || [],
    });
  }
  return { campaigns: out, overlay: win };
}
