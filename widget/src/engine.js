// The flow: load the config, decide, arm triggers, send events. What happens once a campaign fires (which
// one shows, the renderers, goals, the consent decision) is in the renderer file, src/render/show.js.
import { on, offAll, safe, warn, uuid, memoryStorage, readJSON, writeJSON } from './util.js';
import { createState } from './state.js';
import { createTransport } from './transport.js';
import { armAll, visibleClock } from './triggers.js';
import { decide, decode, match, valueOf, contextOf } from './rules.js';

/* global __RT_FILES__ */
// The lazy modules by name -> file name, set by build.mjs: `render` (src/render/all.js) and `debug`.
const FILES = typeof __RT_FILES__ == 'undefined' ? {} : __RT_FILES__;
const CONSENT_KEY = '_rt_c';
const RENDER = 'render';

export function deviceOf(ua, touchPoints) {
  const t = (re) => re.test(ua);
  return t(/iPad|Tablet|PlayBook|Silk|Kindle/i) || (t(/Android/i) && !t(/Mobi/i)) || (t(/Macintosh/) && touchPoints > 1) ? 'tablet'
    : t(/Mobi|iPhone|iPod|Android/i) ? 'mobile' : 'desktop';
}

function cookies() {
  const out = {};
  for (const kv of document.cookie.split(/; */)) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = decode(kv.slice(i + 1));
  }
  return out;
}

// localStorage if it works (probed once: the first access is the costly one), else memory.
let _ls;
function localStore() {
  if (!_ls) try { _ls = localStorage; _ls.getItem('_rt'); } catch (_) { _ls = memoryStorage(); }
  return _ls;
}

// Consent for Retarget: everything granted, or chosen categories that include marketing.
export const allows = (rec) => !!rec && (rec.decision == 'granted' || (rec.categories || []).includes('marketing'));

// Work that can wait: when the page is idle (at most 1 s later).
const idle = (fn) => (self.requestIdleCallback ? requestIdleCallback(fn, { timeout: 1000 }) : setTimeout(fn, 1));

// The engine of one page: commands (the public API's), start(), hide() (the page goes away), destroy().
export function createEngine(site, api, nonce, base, notify) {
  const state = createState(), doc = document;
  const transport = createTransport({
    url: `${api}/api/w/${site}/events`, storage: memoryStorage(),
    beacon: navigator.sendBeacon && ((u, b) => navigator.sendBeacon(u, b)),
  });
  const device = deviceOf(navigator.userAgent, navigator.maxTouchPoints);
  const clock = visibleClock({ _doc: doc });
  const armed = new Map(); // campaign id -> disarm(), for this page view
  const fired = new Set();
  const open = new Map(); // campaign id -> rendered message (src/render/show.js)
  const modules = {}, signals = {};
  let cfg, pending = [], prefetch, lastPage, restoreHistory, consentRead;

  const consentCfg = () => cfg.site.consent || {};
  // The decision for the current policy version (a new version asks again), read from storage once.
  const consentRec = () => {
    const r = consentRead !== undefined ? consentRead : (consentRead = readJSON(localStore(), CONSENT_KEY));
    return r && String(r.policy_version) == String(consentCfg().policy_version || null) ? r : null;
  };
  // A denial is obeyed on every site; a site that requires consent also waits for a grant before storing.
  const denied = () => { const r = consentRec(); return !!r && !allows(r); };
  const canStore = () => (consentCfg().required ? allows(consentRec()) : !denied());
  const page = () => location.href.split('#')[0];

  const context = () => {
    const r = consentRec();
    const ctx = state._context({
      url: location.href, referrer: doc.referrer, device, language: navigator.language,
      consent: r ? (allows(r) ? 'granted' : 'denied') : 'unknown',
    });
    // document.cookie is a synchronous round trip to the browser: read only by a cookie.* rule.
    return Object.defineProperty(ctx, 'cookies', { get: cookies, enumerable: true });
  };

  function emit(type, extra) {
    if (denied() && type != 'consent') return; // nothing leaves after a denial but the denial itself
    const d = state.data;
    transport._send({
      id: uuid(), type, ts: Date.now(), visitor: d.id, session: d.session && d.session.id,
      campaign: null, variant: null, url: location.href, data: {}, ...extra,
    });
  }

  // rules.js decides (consent, schedule, targeting, frequency, site cap): the armed rows by id.
  const eligible = (ctx) => new Map(decide(cfg, ctx).campaigns.filter((d) => d.armed).map((d) => [d.id, d]));

  // Sticky: the first variant decided (null for the holdout) is kept; undefined once it is gone.
  function variantOf(c, row) {
    const id = state._variant(c.id, () => row.variant);
    return id === null ? null : c.variants.find((v) => v.id === id);
  }

  const load = (name) => modules[name] || (modules[name] = import(base + FILES[name]).catch((e) => { delete modules[name]; throw e; }));
  // f(module) once the renderer file is there (src/render/show.js).
  const lazy = (f) => load(RENDER).then(f).catch(warn);

  // The page as the triggers see it, and the core's side for the lazy files (src/render/show.js, src/debug.js).
  const x = {
    _win: window, _doc: doc, _device: device,
    _cart: () => state.data.cart,
    _pageviews: () => (state.data.session || {}).pv || 0,
    _siteTime: () => ((state.data.session || {}).time || 0) + clock._peek(),
    _listen(kind, name, fn) {
      const set = signals[kind + ':' + name] || (signals[kind + ':' + name] = new Set());
      set.add(fn);
      return () => set.delete(fn);
    },
    _state: state, _transport: transport, _emit: emit, _notify: notify, _context: context, _open: open, _nonce: nonce,
    _safe: safe, _warn: warn, on, _uuid: uuid, _store: localStore, _allows: allows, _arm: arm, _cfg: () => cfg,
    _rt: { decide, match, valueOf, contextOf }, _eligible: eligible, _variantOf: variantOf, _armed: armed, _fired: fired,
    _load: load, _consentRec: consentRec,
    _consentKeep(rec) { writeJSON(localStore(), CONSENT_KEY, (consentRead = rec)); },
  };
  const signal = (kind, name) => [...(signals[kind + ':' + name] || [])].forEach((fn) => fn());

  // Arms the campaigns that became eligible; already armed ones are left as they are.
  function arm() {
    const ok = eligible(context());
    cfg.campaigns.forEach((c) => {
      if (armed.has(c.id) || !ok.has(c.id)) return;
      const v = variantOf(c, ok.get(c.id));
      if (v === undefined) return;
      // prefetch, once the page is idle (one idle callback for every campaign armed)
      if (v && !prefetch) prefetch = idle(() => load(RENDER).catch(() => {}));
      armed.set(c.id, armAll(c.arm, safe(() => fire(c)), x));
    });
  }
  const disarm = () => { armed.forEach((off) => off()); armed.clear(); fired.clear(); };

  // Campaigns fired in the same tick compete: resolve() picks what shows.
  function fire(c) {
    fired.add(c.id);
    if (pending.push(c) == 1) setTimeout(() => lazy((m) => m.resolve(x, pending.splice(0))).finally(() => { pending = []; }), 0);
  }

  // Goals count only after an impression: checked by the renderer file, loaded when a campaign with one was shown.
  const goals = (type, name) => {
    const h = state.data.history;
    if (cfg.campaigns.some((c) => c.goal && c.goal.type == type && h[c.id])) lazy((m) => m.goals(x, type, name));
  };
  // A consent decision (the banner's, or retarget('consent', ...)) is taken by the renderer file too: a page
  // where nobody decides does not carry that code.
  const setConsent = (decision, categories) => lazy((m) => m.consentSet(x, decision, categories));

  function pageview() {
    lastPage = page();
    disarm();
    open.forEach((m, id) => { if (m && !m.el.isConnected) open.delete(id); });
    state._pageview(location.href, doc.referrer);
    emit('pageview');
    goals('url');
    arm();
  }

  return {
    _commands: {
      set(attrs) { state._setAttrs(attrs || {}); arm(); },
      cart(cart) { state._setCart(cart); arm(); },
      track(name, props) {
        const p = props || {};
        emit('conversion', { data: { name, value: p.value == null ? null : +p.value, props: p } });
        state._event(name);
        if (name == 'purchase') state._setCart(null);
        goals('event', name);
        if (name == 'purchase') goals('purchase');
        signal('event', name);
        arm();
      },
      trigger(name) { signal('js', name); },
      consent(value) {
        // Events made before the renderer file has taken the decision wait in memory: a denial drops them.
        transport._hold();
        if (value == 'granted' || value == 'denied') setConsent(value, value == 'granted' ? ['marketing'] : []);
        else setConsent('custom', (value && value.categories) || []);
      },
      // The explanations are a lazy chunk (debug.js): pages that never ask do not load them.
      debug() {
        const ctx = context();
        load('debug').then((m) => m.debug(x, ctx), warn);
      },
    },
    async _start() {
      const r = await fetch(`${api}/api/w/${site}/config`, { credentials: 'omit' });
      if (!r.ok) throw Error('config: HTTP ' + r.status);
      cfg = await r.json();
      if (canStore()) {
        const ls = localStore();
        state._useStorage(ls);
        transport._release(true, ls);
        idle(transport._flush); // events left by an earlier page: they can wait until the page is idle
      } else if (!consentRec()) transport._hold();
      // Consent Mode or another consent tool: its code is a lazy file that only such sites load.
      const cc = consentCfg();
      if (cc.gcm || cc.source) load('cmp').then((m) => m.start(x), warn);
      pageview();
      // SPA: pushState, replaceState and popstate to another URL count as page views.
      const H = history, orig = { pushState: H.pushState, replaceState: H.replaceState };
      const nav = safe(() => { if (page() != lastPage) pageview(); });
      Object.keys(orig).forEach((k) => {
        H[k] = function () { const r = orig[k].apply(this, arguments); setTimeout(nav, 0); return r; };
      });
      on(window, 'popstate', nav);
      restoreHistory = () => Object.assign(H, orig);
    },
    _hide() {
      state._addTime(clock._take());
      transport._unload();
    },
    _destroy() {
      disarm();
      open.forEach((m) => m && m.close());
      offAll();
      clock._stop();
      transport._stop();
      if (restoreHistory) restoreHistory();
      const root = doc.getElementById('retarget-root');
      if (root) root.remove();
    },
  };
}
