// The rule language (docs/rules.md) on the compiled config that the server sends
// (campaigns/targeting/compile.py, docs/contracts.md "Compiled fields"): the server has resolved attribute
// names, normalized and validated rule values, turned dates into epoch ms and the time zone into
// offsets, so this file only looks at the visitor. Both evaluators pass tests/conformance/rules.json
// (this one through its compiled copy). The explanations (paths, sentences) live in debug.js.
import { assign } from './assignment.js';

const _isNum = (x) => typeof x == 'number' && x == x;
const _isArr = Array.isArray;
const _coll = (x) => !!x && typeof x == 'object';
const _own = (o, k) => (_coll(o) && !_isArr(o) && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
const _ne = (x) => (x === '' ? null : x);
const _num = (x) => (_isNum(x) ? x : typeof x == 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(x) ? +x : null);
const _truthy = (x) => typeof x == 'boolean' ? x : _isNum(x) ? x != 0
  : typeof x != 'string' ? null : /^(true|1|yes|on)$/i.test(x) || (/^(false|0|no|off|)$/i.test(x) ? false : null);
const _len = (x) => (_isArr(x) ? x.length : 0);
const _trim = (s) => s.replace(/\/+$/, '') || '/';

// %XX as UTF-8; a malformed escape or invalid UTF-8 leaves the raw string.
export const decode = (s) => {
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return s;
  try { return decodeURIComponent(s); } catch (e) { return s; }
};

// [host, path, query] of a URL or a bare path, not decoded.
const _split = (url) => {
  const [, pre, host, path, q] = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*))?([^?#]*)\??([^#]*)/.exec(url);
  return [pre ? host.split('@').pop().replace(/:[0-9]*$/, '').toLowerCase() : '', path || '/', q];
};

// The first value of each name in a query string, decoded (`+` is a space).
const _query = (q) => {
  const o = Object.create(null), d = (x) => decode(x.replace(/\+/g, ' '));
  for (const p of q.split('&')) {
    const j = p.indexOf('='), k = d(j < 0 ? p : p.slice(0, j));
    if (p && !_own(o, k)) o[k] = j < 0 ? '' : d(p.slice(j + 1));
  }
  return o;
};

// The visitor context; `tzo` is site.tzo, the time zone's offsets. (Derived values are not cached: a page
// has a few rules, and splitting a URL costs less than the code to keep it.)
export const contextOf = (r, tzo) => ({ _r: r, _v: _own(r, 'visitor') || {}, _z: tzo || [0], _now: _isNum(r.now) ? r.now : Date.now() });
const _url = (c) => _split(String(c._r.url || ''));
const _at = (c, path) => path.reduce(_own, c._r);
const _items = (c) => {
  const l = _at(c, ['visitor', 'cart', 'items']);
  return (_isArr(l) ? l : []).filter((i) => _coll(i) && !_isArr(i));
};
// [weekday (0 = Monday), hour] in the site's time zone: the offset in force now, then UTC arithmetic.
const _when = (c) => {
  const z = c._z;
  let o = z[0];
  for (let i = 1; i < z.length; i += 2) if (c._now >= z[i]) o = z[i + 1];
  const d = new Date(c._now + o * 6e4);
  return [(d.getUTCDay() + 6) % 7, d.getUTCHours()];
};

// Attribute resolvers by number (R_* of rules_compile.py): (context, argument) -> value (null when missing).
const RESOLVE = [
  (c) => decode(String(c._r.url || '')),
  (c) => decode(_url(c)[1]),
  (c, ref) => (ref ? _ne(_at(c, ['referrer'])) && _split(String(c._r.referrer))[0] : _url(c)[0]) || null,
  _at,
  (c, p) => _ne(_at(c, p)),
  (c, p) => (_isNum(_at(c, p)) ? _at(c, p) : 0),
  (c) => RESOLVE[5](c, ['visitor', 'sessions']) > 1,
  (c) => (_isNum(c._v.first_seen) ? Math.floor((c._now - c._v.first_seen) / 864e5) : null),
  (c) => _items(c).reduce((t, i) => { const q = 'qty' in i ? i.qty : 1; return t + (_isNum(q) ? q : 0); }, 0),
  (c) => { const l = _items(c).map((i) => i.id).filter((x) => x != null); return l.length ? l : null; },
  (c, i) => _when(c)[i],
  (c, n) => _own(_query(_url(c)[2]), n),
  (c, n) => { const x = _own(c._v.utm, n); return _ne(x != null ? x : RESOLVE[11](c, 'utm_' + n)); },
  (c, p) => _len(_at(c, p)),
  (c) => c._now,
  // ms since the latest time of a list (an impression, an overlay)
  (c, p) => (_len(_at(c, p)) ? c._now - Math.max(..._at(c, p)) : null),
  // whether the list holds the current session (once_per_session)
  (c, p) => c._v.session_id != null && _isArr(_at(c, p)) && _at(c, p).includes(c._v.session_id),
];

// Operators by number (OP_* of rules_compile.py) over a present value `a`, the compiled value `v` and
// the leaf's flags (2 case-sensitive, 4 trailing slashes ignored); rule values come lower-cased when need be.
const _low = (s, f) => (f & 2 ? s : s.toLowerCase());
const _eq = (a, w, f) => (_isNum(a) && _isNum(w) ? a == w : !_coll(a) && _low(f & 4 ? _trim(String(a)) : String(a), f) === (_isNum(w) ? String(w) : w));
const _sub = (m) => (a, v, f) => v != null && !_coll(a) && _low(String(a), f)[m](v);
const _rx = {};
const _regex = (p, f) => {
  const k = (f & 2) + p;
  if (!(k in _rx)) try { _rx[k] = new RegExp(p, f & 2 ? '' : 'i'); } catch (e) { _rx[k] = null; }
  return _rx[k];
};
const _range = (strict) => (a, v) => {
  const n = _num(a);
  return n != null && !!v && (v[0] == null || (strict ? n > v[0] : n >= v[0])) && (v[1] == null || (strict ? n < v[1] : n <= v[1]));
};
const OPS = [
  () => true,
  (a, v, f) => v.some((w) => _eq(a, w, f)),
  _sub('includes'),
  _sub('startsWith'),
  _sub('endsWith'),
  (a, v, f) => !_coll(a) && _regex(v, f).test(a),
  _range(),
  _range(1),
  (a, v, f) => _isArr(a) && a.some((i) => v.some((w) => _eq(i, w, f))),
  (a, v) => _truthy(a) === v,
];

// The attribute's value for a compiled leaf (debug.js shows it).
export const valueOf = (l, c) => RESOLVE[l[0]](c, l[1]);

// Whether a compiled leaf [resolver, argument, operator, value, flags(, min_count)] matches.
// A missing value matches only the negated operators (flag 1), not_exists included.
const _leaf = (l, c) => {
  const [, , o, v, f, m] = l, a = valueOf(l, c), neg = f & 1, t = (x) => OPS[o](x, v, f);
  if (o == 5 && !_regex(v, f)) return false;
  if (a == null || (_isArr(a) && !a.length)) return !!neg;
  if (m == null) return t(a) != neg;
  // visited: at least m distinct paths (decoded, trailing slashes ignored) match; negated: none does
  const hits = new Set();
  for (const x of a) if (typeof x == 'string') { const d = decode(x); if (t(d)) hits.add(_trim(d)); }
  return neg ? !hits.size : hits.size >= m;
};

// Whether a compiled targeting tree matches a context of contextOf(); never throws.
export const match = (r, c) => r === true || (!!r && (r.all ? r.all.every((x) => match(x, c))
  : r.any ? r.any.some((x) => match(x, c)) : 'not' in r ? !match(r.not, c) : _leaf(r, c)));
export const ruleMatches = (rule, context, tzo) => match(rule, contextOf(context || {}, tzo));

// The reason of the first check that the visitor fails: checks are [reason, path, rule], the rule matching
// when the visitor fails (campaigns/targeting/checks.py compiles consent, schedule, targeting, frequency,
// variants and the site cap that way).
const _fail = (checks, c) => (checks.find((k) => match(k[2], c)) || [])[0];

// Which campaigns are armed now (the config lists them in priority order), and the overlay that wins
// if several fire at once: each campaign's first failed check, then bucketing, then the site cap for an
// overlay. Holdout: armed, variant null, holdout true.
export function decide(config, context) {
  const site = config.site, c = contextOf(context, site.tzo), out = [];
  let win = null;
  for (const k of config.campaigns) {
    const vs = k.variants;
    let ch = {}, va, why = _fail(k.checks, c);
    if (!why) {
      ch = assign(k.id, String(c._v.id || ''), k.control_share || 0, vs.map((x) => x.weight));
      va = vs[ch.index];
    }
    const ov = (va || k).ov;
    why = why || (ov && _fail(site.caps, c));
    const armed = !why;
    if (armed && ov && win == null) win = k.id;
    out.push({ id: k.id, armed, reason: why || null, variant: armed && va ? va.id : null, holdout: armed && !!ch.holdout });
  }
  return { campaigns: out, overlay: win };
}
