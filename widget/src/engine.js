// The flow: load the config, decide, arm triggers, pick what shows, render, send events.
import { on, offAll, safe, warn, uuid, memoryStorage, readJSON, writeJSON } from './util.js';
import { createState } from './state.js';
import { createTransport, OUTBOX } from './transport.js';
import { armAll, visibleClock } from './triggers.js';
import { decide, ruleMatches } from './rules.js';
import { assign } from './assignment.js';

/* global __RT_RENDERERS__ */
const RENDERERS = typeof __RT_RENDERERS__ === 'undefined' ? null : __RT_RENDERERS__;
const CONSENT_KEY = '_rt_c';
const OVERLAY_TYPES = ['popup', 'fullscreen', 'nps', 'feedback', 'lead', 'cart_recovery'];
const OWN_RENDERER = ['nps', 'feedback', 'lead', 'cart_recovery', 'consent'];
const DAY = 864e5;

export const rendererOf = (type) => (OWN_RENDERER.includes(type) ? type : 'message');

// overlay | fullscreen | bar | slide_in (docs/contracts.md: only overlays count for the cap)
export function displayOf(campaign, variant) {
  const t = campaign.type;
  const c = (variant && variant.content) || {};
  const pos = c.position || '';
  const corner = pos.includes('_');
  if (t === 'bar' || t === 'slide_in') return t;
  if (t === 'consent') return corner ? 'slide_in' : 'bar';
  if (c.display === 'bar' || c.display === 'slide_in') return c.display;
  if (t === 'fullscreen') return 'fullscreen';
  return corner ? 'slide_in' : pos === 'top' || pos === 'bottom' ? 'bar' : 'overlay';
}
export const isOverlay = (campaign, display) => OVERLAY_TYPES.includes(campaign.type) && (display === 'overlay' || display === 'fullscreen');

export function deviceOf(ua, touchPoints) {
  if (/iPad|Tablet|PlayBook|Silk|Kindle/i.test(ua) || (/Android/i.test(ua) && !/Mobi/i.test(ua)) || (/Macintosh/.test(ua) && touchPoints > 1)) return 'tablet';
  return /Mobi|iPhone|iPod|Android/i.test(ua) ? 'mobile' : 'desktop';
}

function cookies() {
  const out = {};
  document.cookie.split(/; */).forEach((kv) => {
    const i = kv.indexOf('=');
    if (i > 0) try { out[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); } catch (_) { out[kv.slice(0, i)] = kv.slice(i + 1); }
  });
  return out;
}

function localStore() {
  try { const s = window.localStorage; s.getItem('_rt'); return s; } catch (_) { return memoryStorage(); }
}

// Consent for Retarget: everything granted, or chosen categories that include marketing.
export const allows = (rec) => !!rec && (rec.decision === 'granted' || (rec.categories || []).includes('marketing'));

export function createEngine({ site, api, nonce, base, notify }) {
  const state = createState();
  const transport = createTransport({
    url: `${api}/api/w/${site}/events`, storage: memoryStorage(),
    beacon: navigator.sendBeacon && ((u, b) => navigator.sendBeacon(u, b)),
  });
  const device = deviceOf(navigator.userAgent, navigator.maxTouchPoints);
  const clock = visibleClock({ doc: document });
  const armed = new Map(); // campaign id -> disarm(), for this page view
  const firedIds = new Set();
  const open = new Map(); // campaign id -> rendered message (or null while loading)
  const modules = {};
  const signals = { js: {}, event: {} };
  let cfg = null;
  let consentCfg = {};
  let pending = [];
  let lastPage = '';
  let restoreHistory = null;

  // The decision for the current policy version: a new version asks again.
  const consentRec = () => {
    const r = readJSON(localStore(), CONSENT_KEY);
    return r && String(r.policy_version) === String(consentCfg.policy_version || null) ? r : null;
  };
  const required = () => !!consentCfg.required;
  const canStore = () => !required() || allows(consentRec());
  const decided = () => !!consentRec();

  const context = () => state.context({
    url: location.href, referrer: document.referrer, device, language: navigator.language,
    cookies: cookies(), consent: decided() ? (allows(consentRec()) ? 'granted' : 'denied') : 'unknown',
  });

  function emit(type, extra) {
    if (required() && decided() && !canStore() && type !== 'consent') return; // denied: nothing leaves
    const d = state.data;
    transport.send({
      id: uuid(), type, ts: Date.now(), visitor: d.id, session: d.session && d.session.id,
      campaign: null, variant: null, url: location.href, data: {}, ...extra,
    });
  }

  // rules.js decides (consent, schedule, targeting, frequency, site cap); the ids armed now.
  const eligible = (ctx) => new Set(decide(cfg, ctx).campaigns.filter((d) => d.armed).map((d) => d.id));
  const byPriority = (a, b) => (b.priority || 0) - (a.priority || 0);

  // Sticky: the stored variant id, null for the holdout, undefined when there is none to show.
  function variantOf(c) {
    const vid = state.variant(c.id, () => {
      const r = assign(c.id, state.data.id, c.control_share, (c.variants || []).map((v) => v.weight));
      return r.holdout ? null : r.index == null ? undefined : c.variants[r.index].id;
    });
    return vid === null ? null : (c.variants || []).find((v) => v.id === vid);
  }

  const load = (type) => {
    const name = rendererOf(type);
    const url = RENDERERS ? base + RENDERERS[name] : `./render/${name}.js`;
    return modules[name] || (modules[name] = import(url).catch((e) => { delete modules[name]; throw e; }));
  };

  const x = {
    win: window, doc: document, device,
    cart: () => state.data.cart,
    pageviews: () => (state.data.session || {}).pv || 0,
    siteTime: () => ((state.data.session || {}).time || 0) + clock.peek(),
    listen(kind, name, fn) {
      const set = signals[kind][name] || (signals[kind][name] = new Set());
      set.add(fn);
      return () => set.delete(fn);
    },
  };
  const signal = (kind, name) => [...(signals[kind][name] || [])].forEach((fn) => fn());

  // Arms the campaigns that became eligible; already armed ones are left as they are.
  function arm() {
    const ctx = context();
    const ok = eligible(ctx);
    cfg.campaigns.slice().sort(byPriority).forEach((c) => {
      if (armed.has(c.id) || !ok.has(c.id)) return;
      const v = variantOf(c);
      if (v === undefined) return;
      if (v) load(c.type).catch(() => {}); // prefetch
      armed.set(c.id, armAll(c.triggers, safe(() => fired(c)), x));
    });
  }
  const disarm = () => { armed.forEach((off) => off()); armed.clear(); firedIds.clear(); };

  // Campaigns fired in the same tick compete: the first by priority wins the overlay slot.
  function fired(c) {
    firedIds.add(c.id);
    pending.push(c);
    if (pending.length === 1) setTimeout(safe(resolve), 0);
  }

  function capAllows(v) {
    const cap = (cfg.site && cfg.site.cap) || {};
    const last = v.overlays[v.overlays.length - 1];
    if (cap.max_overlays_per_session != null && v.overlays_session >= cap.max_overlays_per_session) return false;
    return !(cap.min_overlay_gap_seconds && last && Date.now() - last < cap.min_overlay_gap_seconds * 1000);
  }
  const overlayOpen = () => [...open.values()].some((m) => m === null || (m.overlay && m.el.isConnected));

  function resolve() {
    const list = pending.sort(byPriority);
    pending = [];
    const ctx = context();
    const ok = eligible(ctx);
    list.forEach((c) => {
      if (!ok.has(c.id) || open.has(c.id)) return;
      const v = variantOf(c);
      const display = displayOf(c, v || (c.variants || [])[0]);
      const overlay = isOverlay(c, display);
      if (overlay && (overlayOpen() || !capAllows(ctx.visitor))) return;
      if (v === null) {
        if (state.firstExposure(c.id)) emit('exposure', { campaign: c.id });
        return;
      }
      if (v) show(c, v, display, overlay).catch((e) => { open.delete(c.id); warn(e); });
    });
  }

  async function show(c, v, display, overlay) {
    open.set(c.id, null);
    const ids = { campaign: c.id, variant: v.id };
    const detail = { ...ids, type: c.type };
    const mod = await load(c.type);
    const visitor = context().visitor;
    const h = visitor.history[c.id];
    const m = mod.render({
      campaign: c, variant: v, type: c.type, display, position: (v.content || {}).position, content: v.content || {},
      visitor, firstShown: h && h.impressions[0], nonce, policy: consentCfg, on,
      click: safe((url) => { emit('click', { ...ids, data: url ? { url } : {} }); goal(c, 'cta_click'); }),
      submit: safe((data) => { emit('submit', { ...ids, data }); goal(c, 'submit'); }),
      closed: safe(() => { state.record(c.id, 'closes'); emit('close', ids); notify('close', detail); }),
      consent: safe((decision, categories) => setConsent(decision, categories)),
    });
    m.overlay = overlay;
    open.set(c.id, m);
    state.record(c.id, 'impressions');
    if (overlay) state.overlay();
    emit('impression', ids);
    notify('show', detail);
  }

  // A conversion for a campaign whose goal it is, once per impression within the attribution window.
  function goal(c, type, test) {
    const g = c.goal || {};
    if (g.type !== type || (test && !test(g))) return;
    const h = state.data.history[c.id];
    const shown = h && h.impressions[h.impressions.length - 1];
    const last = h && h.conversions[h.conversions.length - 1];
    if (!shown || (last && last >= shown) || Date.now() - shown > (g.attribution_days || 7) * DAY) return;
    state.record(c.id, 'conversions');
    notify('convert', { campaign: c.id, variant: state.data.variants[c.id], type: c.type, goal: type });
  }
  const goals = (type, test) => cfg.campaigns.forEach((c) => goal(c, type, test));

  function page() {
    lastPage = location.href.split('#')[0];
    disarm();
    open.forEach((m, id) => { if (m && !m.el.isConnected) open.delete(id); });
    state.pageview(location.href, document.referrer);
    emit('pageview');
    const ctx = context();
    goals('url', (g) => g.url && ruleMatches({ attr: 'url', ...g.url }, ctx, cfg.site && cfg.site.tz));
    arm();
  }

  // SPA: pushState, replaceState and popstate to another URL count as page views.
  function watchHistory() {
    const H = history;
    const nav = safe(() => { if (location.href.split('#')[0] !== lastPage) page(); });
    const orig = {};
    ['pushState', 'replaceState'].forEach((k) => {
      const o = (orig[k] = H[k]);
      H[k] = function () { const r = o.apply(this, arguments); setTimeout(nav, 0); return r; };
    });
    on(window, 'popstate', nav);
    restoreHistory = () => Object.keys(orig).forEach((k) => { H[k] = orig[k]; });
  }

  function setConsent(decision, categories) {
    const rec = {
      decision: decision === 'granted' || decision === 'denied' ? decision : 'custom',
      categories: categories || [],
      policy_version: consentCfg.policy_version || null, consent_id: uuid(),
    };
    const ls = localStore();
    writeJSON(ls, CONSENT_KEY, { ...rec, ts: Date.now() });
    if (allows(rec)) {
      state.useStorage(ls);
      transport.release(true, ls);
    } else {
      transport.release(false, memoryStorage());
      state.forget(); // a stored visitor (an earlier "granted") is forgotten
      try { ls.removeItem(OUTBOX); } catch (_) { /* blocked */ }
    }
    emit('consent', { data: rec, ...(allows(rec) ? {} : { visitor: null, session: null }) });
    open.forEach((m, id) => { const c = cfg.campaigns.find((k) => k.id === id); if (m && c && c.type === 'consent') m.close(); });
    arm();
  }

  const commands = {
    set(attrs) { state.setAttrs(attrs || {}); arm(); },
    cart(cart) { state.setCart(cart); arm(); },
    track(name, props) {
      const p = props || {};
      emit('conversion', { data: { name, value: p.value == null ? null : +p.value, props: p } });
      state.event(name);
      if (name === 'purchase') state.setCart(null);
      goals('event', (g) => g.event === name);
      goals('purchase', () => name === 'purchase');
      signal('event', name);
      arm();
    },
    trigger(name) { signal('js', name); },
    consent(value) {
      if (value === 'granted' || value === 'denied') setConsent(value, value === 'granted' ? ['marketing'] : []);
      else setConsent('custom', (value && value.categories) || []);
    },
    debug() {
      const ctx = context();
      const c = console;
      c.group('[retarget] debug');
      c.log('config version', cfg.version, '- consent', ctx.consent, required() ? '(required)' : '');
      c.log('visitor', ctx.visitor);
      const status = (id) => (open.has(id) ? 'shown' : firedIds.has(id) ? 'fired' : armed.has(id) ? 'armed' : 'not armed');
      decide(cfg, ctx).campaigns.forEach((d) => c.log(`campaign ${d.id}: ${status(d.id)}; variant ${state.data.variants[d.id]};`,
        d.armed ? 'eligible' : `not eligible: ${d.reason_text} (${d.path})`, d));
      c.groupEnd();
    },
  };

  return {
    commands,
    async start() {
      const r = await fetch(`${api}/api/w/${site}/config`, { credentials: 'omit' });
      if (!r.ok) throw new Error('config: HTTP ' + r.status);
      cfg = await r.json();
      cfg.campaigns = cfg.campaigns || [];
      consentCfg = (cfg.site && cfg.site.consent) || {};
      if (canStore()) {
        const ls = localStore();
        state.useStorage(ls);
        transport.release(true, ls);
        transport.flush(); // events left by an earlier page
      } else if (!decided()) transport.hold();
      page();
      watchHistory();
    },
    hide() {
      state.addTime(clock.take());
      transport.unload();
    },
    destroy() {
      disarm();
      open.forEach((m) => m && m.close());
      offAll();
      clock.stop();
      transport.stop();
      if (restoreHistory) restoreHistory();
      const root = document.getElementById('retarget-root');
      if (root) root.remove();
    },
  };
}
