// The flow: load the config, decide, arm triggers, send events. What happens once a campaign fires (which
// one shows, the renderers, goals, a new consent decision) is in the lazy renderer file: src/lazy/ and src/render/.
import { on, offAll, safe, warn, uuid, memoryStorage, localStore } from './util.js';
import { createState } from './state.js';
import { allows, consentUse, consentRec, consentKeep, consentValue, canStore } from './consent.js';
import { deviceOf } from './device.js';
import { createTransport } from './transport.js';
import { armAll, visibleClock } from './triggers.js';
import { decide, decode, match, valueOf, contextOf } from './rules.js';

/* global __RT_FILES__ */
// The lazy modules by name -> file name, set by build.mjs: `render` (src/render/all.js), `debug`, `cmp`, `preview` and `aud`.
const FILES = typeof __RT_FILES__ == 'undefined' ? {} : __RT_FILES__;
const RENDER = 'render';

function cookies() {
  const out = {};
  for (const kv of document.cookie.split(/; */)) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = decode(kv.slice(i + 1));
  }
  return out;
}

// Work that can wait: when the page is idle (at most 1 s later).
const idle = (fn) => (self.requestIdleCallback ? requestIdleCallback(fn, { timeout: 1000 }) : setTimeout(fn, 1));

/**
 * `x`, built by createEngine(): the page as the triggers see it, and the core's side for the lazy files (src/lazy/).
 * They are bundled apart from the core, so what they need of it comes through this object instead of an import
 * (which would ship a second copy). Members are `_`-prefixed so that every bundle renames them alike.
 * @typedef {object} Core
 * @property {Window} _win the host page's window
 * @property {Document} _doc the host page's document
 * @property {'desktop'|'mobile'|'tablet'} _device the visitor's device (src/core/device.js)
 * @property {() => ?{value: number, items: Array}} _cart the visitor's cart, as retarget('cart', ...) set it
 * @property {() => number} _pageviews page views in this session
 * @property {() => number} _siteTime ms the visitor has spent on the site in this session, visible time only
 * @property {(kind: 'js'|'event', name: string, fn: Function) => Function} _listen calls fn on retarget('trigger',
 *   name) or retarget('track', name); returns its off()
 * @property {ReturnType<typeof createState>} _state the visitor's state (src/core/state.js)
 * @property {ReturnType<typeof createTransport>} _transport the event queue (src/core/transport.js)
 * @property {(type: string, extra?: object) => void} _emit queues an event of this visitor and page
 * @property {(name: 'show'|'close'|'convert', detail: object) => void} _notify tells the page's listeners
 * @property {() => object} _context the visitor context of docs/contracts.md, built now
 * @property {Map<number, object>} _open campaign id -> its rendered message
 * @property {string|undefined} _nonce the CSP nonce of the script tag, for the message's style
 * @property {(fn: Function) => Function} _safe fn that warns instead of throwing into the page
 * @property {(err: any) => void} _warn warns once in the console
 * @property {(target: EventTarget, type: string, fn: Function, opts?: object) => Function} on a listener that
 *   destroy() removes; returns its off()
 * @property {() => string} _uuid a new event id
 * @property {() => Storage} _store localStorage, or memory where it is blocked
 * @property {(rec: ?object) => boolean} _allows whether a consent record allows Retarget (src/core/consent.js)
 * @property {() => ?object} _consentRec the visitor's consent decision for the current policy, null if none
 * @property {(rec: object) => void} _consentKeep stores a decision (src/core/consent.js)
 * @property {() => void} _arm arms the campaigns that became eligible
 * @property {() => object} _cfg the site's config
 * @property {{decide: Function, match: Function, valueOf: Function, contextOf: Function}} _rt the rules VM
 *   (src/core/rules.js)
 * @property {(ctx: object) => Map<number, object>} _eligible decide()'s armed rows by campaign id
 * @property {(c: object, row: object) => ?object|undefined} _variantOf the visitor's sticky variant of c: null
 *   for the holdout, undefined once it is gone
 * @property {Map<number, Function>} _armed campaign id -> disarm(), for this page view
 * @property {Set<number>} _fired campaigns fired on this page view
 * @property {(name: 'render'|'debug'|'cmp'|'preview'|'aud') => Promise<object>} _load a lazy module, loaded once
 */

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
  const open = new Map(); // campaign id -> rendered message (src/lazy/show.js)
  const modules = {}, signals = {};
  let cfg, pending = [], prefetch, lastPage, restoreHistory;
  // Page views waiting for the audiences file: a page left before it arrives still sends its view, without them
  // (the state already counts it as the session's step, which the next page's view names as its previous).
  const unsent = new Set(), sendView = (data) => unsent.delete(data) && emit('pageview', { data });

  const page = () => location.href.split('#')[0];

  const context = () => {
    const ctx = state._context({
      url: location.href, referrer: doc.referrer, device, language: navigator.language, consent: consentValue(),
    });
    // document.cookie is a synchronous round trip to the browser: read only by a cookie.* rule.
    return Object.defineProperty(ctx, 'cookies', { get: cookies, enumerable: true });
  };

  function emit(type, extra) {
    if (consentValue() == 'denied' && type != 'consent') return; // nothing leaves after a denial but the denial itself
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
  // f(module) once the renderer file is there (src/render/all.js).
  const lazy = (f) => load(RENDER).then(f).catch(warn);

  // The page as the triggers see it, and the core's side for the lazy files.
  /** @type {Core} */
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
    _load: load, _consentRec: consentRec, _consentKeep: consentKeep,
  };
  const signal = (kind, name) => [...(signals[kind + ':' + name] || [])].forEach((fn) => fn());

  // Arms the campaigns that became eligible; already armed ones are left as they are.
  function arm() {
    const ok = eligible(context());
    cfg.campaigns.forEach((c) => {
      if (armed.has(c.id) || !ok.has(c.id)) return;
      const v = variantOf(c, ok.get(c.id));
      if (v === undefined) return;
      // prefetch, once the page is idle (one idle callback for every campaign armed): the renderers and the words
      if (v && !prefetch) prefetch = idle(() => load(RENDER).then((m) => m.warm(cfg)).catch(() => {}));
      armed.set(c.id, armAll(c.arm, safe(() => fire(c)), x));
    });
  }
  const disarm = () => { armed.forEach((off) => off()); armed.clear(); fired.clear(); };

  // Campaigns fired in the same tick compete: resolve() picks what shows.
  function fire(c) {
    fired.add(c.id);
    if (pending.push(c) == 1) setTimeout(() => lazy((m) => m.resolve(x, pending.splice(0))).finally(() => { pending = []; }), 0);
  }

  // Goals count only after an impression: checked in the renderer file (src/lazy/goals.js), loaded only when a
  // campaign with a goal of this type was shown.
  const goals = (type, name) => {
    const h = state.data.history;
    if (cfg.campaigns.some((c) => c.goal && c.goal.type == type && h[c.id])) lazy((m) => m.goals(x, type, name));
  };

  async function pageview() {
    lastPage = page();
    disarm();
    open.forEach((m, id) => { if (!m.el.isConnected) open.delete(id); });
    const data = { journey: state._pageview(location.href, doc.referrer) };
    unsent.add(data);
    // A site with page groups or audiences: src/lazy/audiences.js counts the page in its group and adds the
    // visitor's audiences to the page view before it is sent and the campaigns are decided.
    if (cfg.site.aud) await load('aud').then((m) => m.pageview(x, data), warn);
    sendView(data);
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
        // A decision is taken by the renderer file (src/lazy/consent_set.js): a page where nobody decides does not
        // carry that code, nor the reading of the command's value.
        transport._hold();
        lazy((m) => m.consentCommand(x, value));
      },
      // The explanations are a lazy chunk (debug.js): pages that never ask do not load them.
      debug() {
        const ctx = context();
        load('debug').then((m) => m.debug(x, ctx), warn);
      },
    },
    async _start() {
      // "Preview on my site": a preview link on the page, or kept for this tab in window.name (src/lazy/preview.js
      // reads them), shows that campaign to this browser only, instead of the site's. Not kept in sessionStorage:
      // its first access is a synchronous call to the browser, which every visitor's page load would pay.
      if ((location.href + window.name).includes('retarget_preview=')) return load('preview').then((m) => m.start(x, `${api}/api/w/${site}`));
      const r = await fetch(`${api}/api/w/${site}/config`, { credentials: 'omit' });
      if (!r.ok) throw Error('config: HTTP ' + r.status);
      cfg = await r.json();
      const cc = consentUse(cfg.site.consent);
      if (canStore()) {
        const ls = localStore();
        state._useStorage(ls);
        transport._release(true, ls);
        idle(transport._flush); // events left by an earlier page: they can wait until the page is idle
      } else if (!consentRec()) transport._hold();
      // Consent Mode or another consent tool: its code is a lazy file that only such sites load.
      if (cc.gcm || cc.source) load('cmp').then((m) => m.start(x), warn);
      await pageview();
      // SPA: pushState, replaceState and popstate to another URL count as page views (pageview() is async: what
      // fails in it is warned here, as safe() does for the rest).
      const H = history, orig = { pushState: H.pushState, replaceState: H.replaceState };
      const nav = safe(() => { if (page() != lastPage) pageview().catch(warn); });
      Object.keys(orig).forEach((k) => {
        H[k] = function () { const r = orig[k].apply(this, arguments); setTimeout(nav, 0); return r; };
      });
      on(window, 'popstate', nav);
      restoreHistory = () => Object.assign(H, orig);
    },
    _hide() {
      unsent.forEach(sendView);
      state._addTime(clock._take());
      transport._unload();
    },
    _destroy() {
      disarm();
      open.forEach((m) => m.close());
      offAll();
      clock._stop();
      transport._stop();
      if (restoreHistory) restoreHistory();
      const root = doc.getElementById('retarget-root');
      if (root) root.remove();
    },
  };
}
