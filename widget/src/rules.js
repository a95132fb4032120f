// The rule language: the same semantics as campaigns/rules.py (docs/rules.md);
// both evaluators pass tests/conformance/rules.json. Plain data in, answers out.
// The sentences of explain() live in debug.js, so that the core bundle does not carry them.
import { assign } from './assignment.js';
import { whyText } from './debug.js';

const _OVERLAY = ['popup', 'fullscreen', 'nps', 'feedback', 'lead', 'cart_recovery'];
// The regex subset that behaves the same in Python and JS (see REGEX_DENIED in rules.py).
const _HARMLESS = /\\(?:[^A-Za-z0-9]|[dDwWsSbBnrtfv]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})/g;
const _DENIED = /\\|\(\?(?![:=!])|[*+?}]\+|\{,|\[\^?\]/;
const _ISO = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(?:Z|([+-])([0-9]{2}):([0-9]{2}))$/;
const _DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const _UTMS = '(source|medium|campaign)';

const _isNum = (x) => typeof x == 'number' && x == x;
const _isArr = Array.isArray;
const _coll = (x) => !!x && typeof x == 'object';
const _obj = (x) => _coll(x) && !_isArr(x);
const _own = (o, k) => (_obj(o) && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
const _ne = (x) => (x == null || x === '' ? null : x);
const _nn = (x) => (x == null ? null : x);
const _dict = () => Object.create(null);
const _str = String;
const _num = (x) => (_isNum(x) ? x : typeof x == 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(x) ? +x : null);
const _truthy = (x) => typeof x == 'boolean' ? x : _isNum(x) ? x != 0
  : typeof x != 'string' ? null : /^(true|1|yes|on)$/i.test(x) || (/^(false|0|no|off|)$/i.test(x) ? false : null);
const _len = (x) => (_isArr(x) ? x.length : 0);
const _max = (l) => Math.max(...l);

// %XX as UTF-8; a malformed escape or invalid UTF-8 leaves the raw string.
export const decode = (s) => {
  if (!/%/.test(s) || /%(?![0-9A-Fa-f]{2})/.test(s)) return s;
  try { return decodeURIComponent(s); } catch (e) { return s; }
};

const _rx = _dict();
const _regex = (p, cs) => {
  const k = +!!cs + p;
  if (typeof p != 'string') return null;
  if (!(k in _rx)) {
    _rx[k] = null;
    if (p.length <= 500 && !_DENIED.test(p.replace(_HARMLESS, 'e'))) try { _rx[k] = new RegExp(p, cs ? '' : 'i'); } catch (e) { /* never matches */ }
  }
  return _rx[k];
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

const _fmts = _dict();
// [weekday (0 = Monday), hour] at epoch ms `now` in time zone `tz` (UTC if unknown).
export function weekdayHour(now, tz) {
  const f = (timeZone) => new Intl.DateTimeFormat('en-US', { weekday: 'short', hour: 'numeric', hourCycle: 'h23', timeZone });
  if (!_fmts[tz]) try { _fmts[tz] = f(tz); } catch (e) { _fmts[tz] = f('UTC'); }
  const p = {};
  for (const x of _fmts[tz].formatToParts(now)) p[x.type] = x.value;
  return [_DAYS.indexOf(p.weekday), p.hour % 24];
}

// [host, path, query] of a URL or a bare path, not decoded.
const _split = (url) => {
  const [, pre, host, path, q] = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*))?([^?#]*)\??([^#]*)/.exec(url);
  return [pre ? host.split('@').pop().replace(/:[0-9]*$/, '').toLowerCase() : '', path || '/', q];
};

// The first value of each name in a query string, decoded (`+` is a space).
const _query = (q) => {
  const o = _dict(), d = (x) => decode(x.replace(/\+/g, ' '));
  for (const p of q.split('&')) {
    const j = p.indexOf('='), k = d(j < 0 ? p : p.slice(0, j));
    if (p && !(k in o)) o[k] = j < 0 ? '' : d(p.slice(j + 1));
  }
  return o;
};

// The visitor context, with its derived values computed once per evaluation.
const _ctx = (r, tz) => ({ _r: r, _v: _obj(r.visitor) ? r.visitor : {}, _tz: tz || 'UTC', _now: _isNum(r.now) ? r.now : Date.now(), _k: _dict() });
const _get = (c, k, f) => (k in c._k ? c._k[k] : (c._k[k] = f()));
const _url = (c) => _get(c, ' u', () => _split(_str(c._r.url || '')));
const _q = (c) => _get(c, ' q', () => _query(_url(c)[2]));
const _when = (c) => _get(c, ' w', () => weekdayHour(c._now, c._tz));
const _vn = (n) => (c) => (_isNum(c._v[n]) ? c._v[n] : 0);
const _cart = (c) => (_obj(c._v.cart) ? c._v.cart : {});
const _items = (c) => (_isArr(_cart(c).items) ? _cart(c).items : []).filter(_obj);
const _ref = (c) => _ne(c._r.referrer);

// Attribute -> resolver. Every one of them is known to the validator (docs/rules.md).
const ATTRS = {
  url: (c) => decode(_str(c._r.url || '')),
  path: (c) => decode(_url(c)[1]),
  host: (c) => _url(c)[0] || null,
  referrer: _ref,
  referrer_host: (c) => _ref(c) && _ne(_split(_str(_ref(c)))[0]),
  device: (c) => c._r.device,
  language: (c) => c._r.language,
  consent: (c) => c._r.consent,
  returning: (c) => _vn('sessions')(c) > 1,
  sessions: _vn('sessions'),
  pageviews_session: _vn('pageviews_session'),
  pageviews_total: _vn('pageviews_total'),
  visited: (c) => c._v.visited || [],
  days_since_first_visit: (c) => (_isNum(c._v.first_seen) ? Math.floor((c._now - c._v.first_seen) / 864e5) : null),
  'cart.value': (c) => (_isNum(_cart(c).value) ? _cart(c).value : 0),
  'cart.count': (c) => _items(c).reduce((t, i) => { const q = 'qty' in i ? i.qty : 1; return t + (_isNum(q) ? q : 0); }, 0),
  'cart.products': (c) => { const l = _items(c).map((i) => i.id).filter((x) => x != null); return l.length ? l : null; },
  weekday: (c) => _when(c)[0],
  hour: (c) => _when(c)[1],
};
const _HIST = { seen: 'impressions', closed: 'closes', converted: 'conversions' };
// [pattern, resolver(context, ...groups)]
const PREFIXED = [
  [/^query\.([^]+)/, (c, n) => _own(_q(c), n)],
  [RegExp(`^utm\\.${_UTMS}$`), (c, n) => { const x = _own(c._v.utm, n); return _ne(x != null ? x : _q(c)['utm_' + n]); }],
  [RegExp(`^first\\.(referrer|utm\\.${_UTMS})$`), (c, n, u) => { const t = c._v.first_touch; return _ne(u ? _own(_own(t, 'utm'), u) : _own(t, n)); }],
  [/^attrs\.([^]+)/, (c, n) => _own(c._v.attrs, n)],
  [/^cookie\.([^]+)/, (c, n) => _own(c._r.cookies, n)],
  [/^campaign\.([^.]+)\.(seen|closed|converted)$/, (c, id, w) => _len(_own(_own(c._v.history, id), _HIST[w]))],
];

// The resolver of a known attribute, else undefined.
const _attr = (a) => {
  if (typeof a != 'string') return;
  if (_own(ATTRS, a)) return ATTRS[a];
  for (const [re, f] of PREFIXED) { const m = re.exec(a); if (m) return (c) => f(c, ...m.slice(1)); }
};

// Operators over a present value `a`, the rule's value `v` and options {_cs, _p}.
const _low = (s, o) => (o._cs ? s : s.toLowerCase());
const _norm = (x, o) => _low(o._p ? _str(x).replace(/\/+$/, '') || '/' : _str(x), o);
const _eq = (a, v, o) => (_isNum(a) && _isNum(v) ? a == v : v != null && !_coll(v) && !_coll(a) && _norm(a, o) == _norm(v, o));
const _sub = (m) => (a, v, o) => (typeof v == 'string' || _isNum(v)) && !_coll(a) && _low(_str(a), o)[m](_low(_str(v), o));
const _cmp = (t) => (a, v) => { const n = _num(a); return n != null && _isNum(v) && t(n, v); };
const OPS = {
  equals: _eq,
  contains: _sub('includes'),
  starts_with: _sub('startsWith'),
  ends_with: _sub('endsWith'),
  regex: (a, v, o) => !_coll(a) && _regex(v, o._cs).test(a),
  in: (a, v, o) => _isArr(v) && v.some((x) => _eq(a, x, o)),
  gt: _cmp((a, v) => a > v),
  gte: _cmp((a, v) => a >= v),
  lt: _cmp((a, v) => a < v),
  lte: _cmp((a, v) => a <= v),
  between: (a, v) => _len(v) == 2 && OPS.gte(a, v[0]) && OPS.lte(a, v[1]),
  includes: (a, v, o) => _isArr(a) && (_isArr(v) ? v : [v]).some((w) => a.some((i) => _eq(i, w, o))),
  is_true: (a) => _truthy(a) === true,
  is_false: (a) => _truthy(a) === false,
  exists: () => true,
};
const NEG = { not_equals: 'equals', not_contains: 'contains', not_regex: 'regex', not_in: 'in' };
const _miss = (x) => x == null || (_isArr(x) && !x.length);

// Whether a leaf matches; null for an invalid leaf (unknown attribute or operator, refused regex).
const _leaf = (r, c) => {
  const { attr, op, value } = r, f = _attr(attr), pos = _own(NEG, op) || op, neg = pos != op, cs = r.case_sensitive === true;
  if (!f || (op != 'not_exists' && !_own(OPS, pos)) || (pos == 'regex' && !_regex(value, cs))) return null;
  const a = _get(c, attr, () => f(c));
  if (op == 'not_exists') return _miss(a);
  if (_miss(a)) return neg;
  const o = { _cs: cs, _p: (attr == 'path' || attr == 'visited') && (pos == 'equals' || pos == 'in') }, t = OPS[pos];
  if (attr != 'visited') return t(a, value, o) != neg;
  const hits = new Set();
  for (const x of a) if (typeof x == 'string') { const d = decode(x); if (t(d, value, o)) hits.add(d.replace(/\/+$/, '') || '/'); }
  return neg ? !hits.size : hits.size >= (_isNum(r.min_count) ? r.min_count : 1);
};

// null when the rule matches, else why not: [path, kind, rule, actual] with kind
// 0 an invalid rule, 1 an `any` that found nothing, 2 a `not` whose rule matched, 3 a failing leaf.
const _walk = (r, c, p) => {
  if (r == null) return null;
  if (!_obj(r)) return [p, 0];
  if ('all' in r) {
    if (!_isArr(r.all)) return [p, 0];
    for (let i = 0, w; i < r.all.length; i++) if ((w = _walk(r.all[i], c, `${p}.all[${i}]`))) return w;
    return null;
  }
  if ('any' in r) return _isArr(r.any) && r.any.some((x) => !_walk(x, c, p)) ? null : [p, 1, r];
  if ('not' in r) return _obj(r.not) && _walk(r.not, c, p) ? null : [p, 2];
  const m = _leaf(r, c);
  return m ? null : m == null ? [p, 0] : [p, 3, r, _get(c, r.attr, () => null)];
};

// Whether a targeting tree matches a visitor context; never throws; `tz` is the site's.
export const ruleMatches = (rule, context, tz) => !_walk(rule, _ctx(context || {}, tz), '');
// The first rule that excludes the visitor, {path: 'targeting.all[1]', text}, or null.
export const explain = (rule, context, tz, path = 'targeting') => {
  const w = _walk(rule, _ctx(context || {}, tz), path);
  return w && { path: w[0], text: whyText(w) };
};

// overlay | fullscreen | bar | slide_in. The overlay types are overlays (one at a time, counted
// by the site cap) while content.position is missing or `center`; `top`/`bottom` makes them a
// bar, any other position a corner (slide_in). The consent banner is a bar, or a corner.
export const displayOf = (type, content) => {
  const p = (content || {}).position;
  return type == 'bar' || type == 'slide_in' ? type
    : type == 'consent' ? (/_/.test(p) ? 'slide_in' : 'bar')
      : p == null || p == 'center' ? (type == 'fullscreen' ? type : 'overlay')
        : p == 'top' || p == 'bottom' ? 'bar' : 'slide_in';
};
export const isOverlay = (type, content) => _OVERLAY.includes(type) && /^(overlay|fullscreen)$/.test(displayOf(type, content));

const _sched = (k, c) => {
  for (const [f, code, ok] of [['starts_at', 'not_started', (t) => c._now >= t], ['ends_at', 'ended', (t) => c._now < t]]) {
    const t = parseTime(k[f]);
    if (k[f] != null && (t == null || !ok(t))) return [t == null ? 'schedule_invalid' : code, f];
  }
  const s = k.schedule || {}, w = s.weekdays, h = s.hours;
  if (w == null && h == null) return null;
  const [wd, hr] = _when(c);
  if (_isArr(w) && !w.includes(wd)) return ['schedule_weekday', 'schedule.weekdays'];
  if (_len(h) == 2 && _isNum(h[0]) && _isNum(h[1])) {
    const [a, b] = h;
    if (!(a < b ? a <= hr && hr < b : a == b || hr >= a || hr < b)) return ['schedule_hours', 'schedule.hours'];
  }
  return null;
};

const _freq = (k, c) => {
  const f = k.frequency || {}, h = _own(c._v.history, _str(k.id)) || {}, shown = h.impressions || [], can = f.cancel_on || [], g = f.min_gap_seconds;
  const why = can.length && (c._v.events || []).some((e) => can.includes(e)) ? ['cancelled', 'cancel_on']
    : f.stop_after_conversion && _len(h.conversions) ? ['converted', 'stop_after_conversion']
      : f.stop_after_close && _len(h.closes) ? ['closed', 'stop_after_close']
        : _isNum(f.max_impressions) && shown.length >= f.max_impressions ? ['max_impressions', 'max_impressions']
          : f.once_per_session && c._v.session_id != null && (h.sessions || []).includes(c._v.session_id) ? ['once_per_session', 'once_per_session']
            : _isNum(g) && shown.length && c._now - _max(shown) < g * 1000 ? ['min_gap', 'min_gap_seconds'] : null;
  return why && [why[0], 'frequency.' + why[1]];
};

const _cap = (cap, c) => {
  const most = cap.max_overlays_per_session, n = c._v.overlays_session, g = cap.min_overlay_gap_seconds, t = c._v.overlays || [];
  return _isNum(most) && _isNum(n) && n >= most ? ['site_cap', 'site.cap.max_overlays_per_session']
    : _isNum(g) && t.length && c._now - _max(t) < g * 1000 ? ['site_gap', 'site.cap.min_overlay_gap_seconds'] : null;
};
// Whether the site cap stops an overlay now (the widget checks again when one is about to show).
export const capped = (config, context) => !!_cap((config.site || {}).cap || {}, _ctx(context));

const _prio = (k) => (_isNum(k.priority) ? k.priority : 0);

// Which campaigns are armed now, in priority order (desc, then id asc), and the overlay that
// wins if several fire at once. Checks, first failure reported: consent, schedule, targeting,
// frequency, variants, site cap (overlays only). Holdout: armed, variant null, holdout true.
// reason_text is the reason code here (the sentences are server-side); a targeting failure
// also carries _why, the walk's answer, for retarget('debug').
export function decide(config, context) {
  const site = config.site || {}, c = _ctx(context, site.tz), cons = site.consent || {}, out = [], said = context.consent;
  const gated = cons.required === true && said != 'granted' && cons.show_before_consent !== true;
  let win = null;
  const list = (config.campaigns || []).slice().sort((a, b) => _prio(b) - _prio(a) || (a.id > b.id) - (a.id < b.id));
  for (const k of list) {
    const t = k.type, vs = k.variants || [];
    let ch = {}, va = null, e = null;
    let why = t == 'consent' ? (said == 'granted' || said == 'denied') && ['consent_decided', 'consent']
      : gated && ['consent_required', 'site.consent.required'];
    why = why || _sched(k, c) || ((e = _walk(k.targeting, c, 'targeting')) && ['targeting', e[0]]) || _freq(k, c)
      || (!vs.some((v) => _isNum(v.weight) && v.weight > 0) && ['no_variant', 'variants']);
    if (!why) {
      ch = assign(k.id, _str(c._v.id || ''), k.control_share || 0, vs.map((v) => v.weight));
      va = vs[ch.index];
    }
    const ov = isOverlay(t, (va || {}).content);
    why = why || (ov && _cap(site.cap || {}, c));
    const armed = !why, id = _nn(k.id);
    if (armed && ov && win == null) win = id;
    out.push({
      id, armed,
      reason: armed ? null : why[0],
      reason_text: armed ? null : why[0],
      path: armed ? null : why[1],
      variant: armed && va ? _nn(va.id) : null,
      holdout: armed && ch.holdout === true,
      overlay: ov,
      triggers: k.triggers || [],
      _why: !armed && why[0] == 'targeting' ? e : null,
    });
  }
  return { campaigns: out, overlay: win };
}
