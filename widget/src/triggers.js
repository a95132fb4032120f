// Triggers: each arms itself with fire(), params (docs/contracts.md) and the page `x`
// ({win, doc, device, cart(), pageviews(), siteTime(), listen(kind, name, fn)}),
// and returns its disarm(). Every listener goes through on(), so disarm is exact.
import { on } from './util.js';

const PASSIVE = { passive: true, capture: true };
const now = () => Date.now();
const hidden = (x) => x.doc.visibilityState == 'hidden';
const all = (offs) => () => offs.forEach((off) => off());
const later = (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); };
const never = () => () => {};

// Counts the visible time of the page; take() returns what was not taken yet.
export function visibleClock(x) {
  let acc = 0, since = !hidden(x) && now();
  const peek = () => acc + (since ? now() - since : 0);
  const stop = on(x.doc, 'visibilitychange', () => { acc = peek(); since = !hidden(x) && now(); });
  return { peek, take() { const v = peek(); acc = 0; since = since && now(); return v; }, stop };
}

// fire() after `ms` of visible time on this page.
function visibleTimer(fire, ms, x) {
  const clock = visibleClock(x);
  let off = null;
  const run = () => { if (off) off(); off = hidden(x) ? null : later(fire, ms - clock.peek()); };
  const stop = on(x.doc, 'visibilitychange', run);
  run();
  return () => { stop(); clock.stop(); if (off) off(); };
}

// ouibounce: the pointer leaves through the top of the viewport.
function exitIntent(fire, { sensitivity = 20, min_time = 0, delay = 0 } = {}, x) {
  const armed = now(), root = x.doc.documentElement;
  let off = never();
  return all([
    on(root, 'mouseleave', (e) => { if (e.clientY <= sensitivity && now() - armed >= min_time * 1000) { off(); off = later(fire, delay); } }),
    on(root, 'mouseenter', () => off()),
    () => off(),
  ]);
}

// Phones have no pointer leaving the window: a fast scroll up, the tab hidden, the back button.
function mobileExit(fire, { scroll_up = true, tab_hidden = true, back_button = false, min_time = 0 } = {}, x) {
  const armed = now(), w = x.win, offs = [];
  const go = () => { if (now() - armed >= min_time * 1000) fire(); };
  let y0 = w.scrollY, t0 = now(), pushed = false;
  if (scroll_up) {
    offs.push(on(w, 'scroll', () => {
      const y = w.scrollY, t = now();
      // 100 px up within 200 ms; a slow scroll only moves the anchor
      if (y0 - y > 100 && t - t0 < 200 && y > 0) go();
      if (t - t0 >= 200 || y > y0) { y0 = y; t0 = t; }
    }, PASSIVE));
  }
  if (tab_hidden) offs.push(on(x.doc, 'visibilitychange', () => { if (hidden(x)) go(); }));
  if (back_button) {
    // The extra history entry needs a user gesture, or browsers skip it on "back".
    const arm = () => {
      if (!pushed) try { pushed = true; w.history.pushState({ rt: 1 }, '', w.location.href); } catch (_) { /* sandboxed */ }
    };
    offs.push(on(x.doc, 'pointerdown', arm, PASSIVE), on(x.doc, 'keydown', arm, PASSIVE),
      on(w, 'popstate', () => { if (pushed) { pushed = false; go(); } }));
  }
  return all(offs);
}

function inactivity(fire, { seconds = 30 } = {}, x) {
  let off = never();
  const reset = () => { off(); off = later(fire, seconds * 1000); };
  const offs = ['mousemove', 'pointerdown', 'keydown', 'scroll', 'touchstart', 'wheel'].map((type) => on(x.doc, type, reset, PASSIVE));
  reset();
  return all([...offs, () => off()]);
}

const desktop = (x) => x.device == 'desktop';

export const TRIGGERS = {
  page_load: (fire, { delay = 0 } = {}) => later(fire, delay * 1000),
  exit_intent: exitIntent,
  mobile_exit: (fire, p, x) => (desktop(x) ? never() : mobileExit(fire, p, x)),
  scroll: (fire, { percent = 50 } = {}, x) => on(x.win, 'scroll', () => {
    if ((x.win.scrollY + x.win.innerHeight) * 100 >= percent * Math.max(1, x.doc.documentElement.scrollHeight)) fire();
  }, PASSIVE),
  time_on_page: (fire, { seconds = 0 } = {}, x) => visibleTimer(fire, seconds * 1000, x),
  time_on_site: (fire, { seconds = 0 } = {}, x) => visibleTimer(fire, seconds * 1000 - x.siteTime(), x),
  inactivity,
  click: (fire, { selector } = {}, x) => on(x.doc, 'click', (e) => {
    const t = e.target;
    try { if (selector && t && t.closest && t.closest(selector)) fire(); } catch (_) { /* invalid selector: never fires */ }
  }, true),
  pageviews: (fire, { count = 1 } = {}, x) => (x.pageviews() >= count ? later(fire, 0) : never()),
  cart_abandonment(fire, { via = 'exit_intent', seconds = 30 } = {}, x) {
    const go = () => { const c = x.cart(); if (c && ((c.items && c.items.length) || c.value > 0)) fire(); };
    return via == 'inactivity' ? inactivity(go, { seconds }, x) : (desktop(x) ? exitIntent : mobileExit)(go, {}, x);
  },
  js: (fire, { name } = {}, x) => x.listen('js', name, fire),
  event: (fire, { name } = {}, x) => x.listen('event', name, fire),
};

// Arms every trigger of a campaign (OR'd; none means page load) and fires at most once.
// Params may be flat ({type, delay}) or nested ({type, params: {delay}}).
export function armAll(triggers, fire, x) {
  let done = false;
  const once = () => { if (!done) { disarm(); fire(); } };
  // An unknown trigger never fires: a bad rule hides a campaign, it never shows one everywhere.
  const offs = (triggers && triggers.length ? triggers : [{ type: 'page_load' }]).map((t) => (TRIGGERS[t.type] || never)(once, t.params || t, x));
  const disarm = () => { done = true; offs.forEach((off) => off()); };
  return disarm;
}
