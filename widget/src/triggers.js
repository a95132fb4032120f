// Triggers: each arms itself with fire(), params (docs/contracts.md) and the page `x`
// ({win, doc, device, cart(), pageviews(), siteTime(), listen(kind, name, fn)}),
// and returns its disarm(). Every listener goes through on(), so disarm is exact.
import { on } from './util.js';

const ACTIVITY = ['mousemove', 'pointerdown', 'keydown', 'scroll', 'touchstart', 'wheel'];
const PASSIVE = { passive: true, capture: true };

const hidden = (x) => x.doc.visibilityState === 'hidden';

// fire() after `ms` of visible time on this page.
export function visibleTimer(fire, ms, x) {
  let left = ms;
  let since = 0;
  let timer = null;
  const run = () => {
    if (hidden(x) || timer) return;
    since = Date.now();
    timer = setTimeout(fire, Math.max(0, left));
  };
  const off = on(x.doc, 'visibilitychange', () => {
    if (!hidden(x)) return run();
    clearTimeout(timer);
    timer = null;
    left -= Date.now() - since;
  });
  run();
  return () => { off(); clearTimeout(timer); };
}

// Counts the visible time of the page; take() returns what was not taken yet.
export function visibleClock(x) {
  let acc = 0;
  let since = hidden(x) ? 0 : Date.now();
  const off = on(x.doc, 'visibilitychange', () => {
    if (hidden(x)) { if (since) acc += Date.now() - since; since = 0; } else since = Date.now();
  });
  const peek = () => acc + (since ? Date.now() - since : 0);
  return {
    peek,
    take() { const v = peek(); acc = 0; if (since) since = Date.now(); return v; },
    stop: off,
  };
}

// ouibounce: the pointer leaves through the top of the viewport.
export function exitIntent(fire, { sensitivity = 20, min_time: minTime = 0, delay = 0 } = {}, x) {
  const armed = Date.now();
  let timer = null;
  const root = x.doc.documentElement;
  const offLeave = on(root, 'mouseleave', (e) => {
    if (e.clientY > sensitivity || Date.now() - armed < minTime * 1000) return;
    clearTimeout(timer);
    timer = setTimeout(fire, delay);
  });
  const offEnter = on(root, 'mouseenter', () => clearTimeout(timer));
  return () => { offLeave(); offEnter(); clearTimeout(timer); };
}

// Phones have no pointer leaving the window: a fast scroll up, the tab hidden, the back button.
export function mobileExit(fire, { scroll_up: up = true, tab_hidden: tab = true, back_button: back = false, min_time: minTime = 0 } = {}, x) {
  const armed = Date.now();
  const go = () => { if (Date.now() - armed >= minTime * 1000) fire(); };
  const offs = [];
  if (up) {
    let y0 = x.win.scrollY;
    let t0 = Date.now();
    offs.push(on(x.win, 'scroll', () => {
      const y = x.win.scrollY;
      const t = Date.now();
      // 100 px up within 200 ms; a slow scroll only moves the anchor
      if (y0 - y > 100 && t - t0 < 200 && y > 0) go();
      if (t - t0 >= 200 || y > y0) { y0 = y; t0 = t; }
    }, PASSIVE));
  }
  if (tab) offs.push(on(x.doc, 'visibilitychange', () => { if (hidden(x)) go(); }));
  if (back) {
    // The extra history entry needs a user gesture, or browsers skip it on "back".
    let pushed = false;
    const arm = () => {
      if (pushed) return;
      pushed = true;
      try { x.win.history.pushState({ _rt: 1 }, '', x.win.location.href); } catch (_) { /* sandboxed */ }
    };
    offs.push(on(x.doc, 'pointerdown', arm, PASSIVE), on(x.doc, 'keydown', arm, PASSIVE));
    offs.push(on(x.win, 'popstate', () => { if (pushed) { pushed = false; go(); } }));
  }
  return () => offs.forEach((off) => off());
}

export function scroll(fire, { percent = 50 } = {}, x) {
  const el = x.doc.documentElement;
  return on(x.win, 'scroll', () => {
    const seen = ((x.win.scrollY + x.win.innerHeight) / Math.max(1, el.scrollHeight)) * 100;
    if (seen >= percent) fire();
  }, PASSIVE);
}

export function inactivity(fire, { seconds = 30 } = {}, x) {
  let timer = null;
  const reset = () => { clearTimeout(timer); timer = setTimeout(fire, seconds * 1000); };
  const offs = ACTIVITY.map((type) => on(x.doc, type, reset, PASSIVE));
  reset();
  return () => { offs.forEach((off) => off()); clearTimeout(timer); };
}

export function click(fire, { selector } = {}, x) {
  return on(x.doc, 'click', (e) => {
    try {
      const t = e.target;
      if (selector && t && t.closest && t.closest(selector)) fire();
    } catch (_) { /* invalid selector: never fires */ }
  }, true);
}

const soon = (fire, ms) => { const t = setTimeout(fire, ms); return () => clearTimeout(t); };
const isDesktop = (x) => x.device === 'desktop';

export const TRIGGERS = {
  page_load: (fire, { delay = 0 } = {}) => soon(fire, delay * 1000),
  exit_intent: exitIntent,
  mobile_exit: (fire, p, x) => (isDesktop(x) ? () => {} : mobileExit(fire, p, x)),
  scroll,
  time_on_page: (fire, { seconds = 0 } = {}, x) => visibleTimer(fire, seconds * 1000, x),
  time_on_site: (fire, { seconds = 0 } = {}, x) => visibleTimer(fire, seconds * 1000 - x.siteTime(), x),
  inactivity,
  click,
  pageviews: (fire, { count = 1 } = {}, x) => (x.pageviews() >= count ? soon(fire, 0) : () => {}),
  cart_abandonment(fire, { via = 'exit_intent', seconds = 30 } = {}, x) {
    const go = () => { const c = x.cart(); if (c && ((c.items && c.items.length) || c.value > 0)) fire(); };
    if (via === 'inactivity') return inactivity(go, { seconds }, x);
    return isDesktop(x) ? exitIntent(go, {}, x) : mobileExit(go, {}, x);
  },
  js: (fire, { name } = {}, x) => x.listen('js', name, fire),
  event: (fire, { name } = {}, x) => x.listen('event', name, fire),
};

// Arms every trigger of a campaign (OR'd; none means page load) and fires at most once.
// Params may be flat ({type, delay}) or nested ({type, params: {delay}}).
export function armAll(triggers, fire, x) {
  let done = false;
  const once = () => { if (!done) { done = true; disarm(); fire(); } };
  const list = triggers && triggers.length ? triggers : [{ type: 'page_load' }];
  // An unknown trigger never fires: a bad rule hides a campaign, it never shows one everywhere.
  const offs = list.map((t) => (TRIGGERS[t.type] || (() => () => {}))(once, t.params || t, x));
  const disarm = () => { done = true; offs.forEach((off) => off()); };
  return disarm;
}
