// Triggers: each arms itself with fire(), its parameters and the page `x`
// ({_win, _doc, _device, _cart(), _pageviews(), _siteTime(), _listen(kind, name, fn)}),
// and returns its disarm(). Every listener goes through on(), so disarm is exact. The server sends each
// trigger as [type, ...parameters], defaults applied and times in ms (campaigns/targeting/triggers.py).
import { on } from './util.js';

const PASSIVE = { passive: true, capture: true };
const now = () => Date.now();
const hidden = (x) => x._doc.visibilityState == 'hidden';
const all = (offs) => () => offs.forEach((off) => off());
const later = (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); };
const never = () => () => {};

// Counts the visible time of the page; take() returns what was not taken yet.
export function visibleClock(x) {
  let acc = 0, since = !hidden(x) && now();
  const peek = () => acc + (since ? now() - since : 0);
  const stop = on(x._doc, 'visibilitychange', () => { acc = peek(); since = !hidden(x) && now(); });
  return { _peek: peek, _take() { const v = peek(); acc = 0; since = since && now(); return v; }, _stop: stop };
}

// fire() after `ms` of visible time on this page.
function visibleTimer(fire, ms, x) {
  const clock = visibleClock(x);
  let off = null;
  const run = () => { if (off) off(); off = hidden(x) ? null : later(fire, ms - clock._peek()); };
  const stop = on(x._doc, 'visibilitychange', run);
  run();
  return () => { stop(); clock._stop(); if (off) off(); };
}

// ouibounce: the pointer leaves through the top of the viewport.
function exitIntent(fire, [sensitivity, minTime, delay], x) {
  const armed = now(), root = x._doc.documentElement;
  let off = never();
  return all([
    on(root, 'mouseleave', (e) => { if (e.clientY <= sensitivity && now() - armed >= minTime) { off(); off = later(fire, delay); } }),
    on(root, 'mouseenter', () => off()),
    () => off(),
  ]);
}

// Phones have no pointer leaving the window: a fast scroll up, the tab hidden, the back button.
function mobileExit(fire, [scrollUp, tabHidden, backButton, minTime], x) {
  const armed = now(), w = x._win, offs = [];
  const go = () => { if (now() - armed >= minTime) fire(); };
  let y0 = w.scrollY, t0 = now(), pushed = false;
  if (scrollUp) {
    offs.push(on(w, 'scroll', () => {
      const y = w.scrollY, t = now();
      // 100 px up within 200 ms; a slow scroll only moves the anchor
      if (y0 - y > 100 && t - t0 < 200 && y > 0) go();
      if (t - t0 >= 200 || y > y0) { y0 = y; t0 = t; }
    }, PASSIVE));
  }
  if (tabHidden) offs.push(on(x._doc, 'visibilitychange', () => { if (hidden(x)) go(); }));
  if (backButton) {
    // The extra history entry needs a user gesture, or browsers skip it on "back".
    const arm = () => {
      if (!pushed) try { pushed = true; w.history.pushState({ rt: 1 }, '', w.location.href); } catch (_) { /* sandboxed */ }
    };
    offs.push(on(x._doc, 'pointerdown', arm, PASSIVE), on(x._doc, 'keydown', arm, PASSIVE),
      on(w, 'popstate', () => { if (pushed) { pushed = false; go(); } }));
  }
  return all(offs);
}

function inactivity(fire, [ms], x) {
  let off = never();
  const reset = () => { off(); off = later(fire, ms); };
  const offs = ['mousemove', 'pointerdown', 'keydown', 'scroll', 'touchstart', 'wheel'].map((type) => on(x._doc, type, reset, PASSIVE));
  reset();
  return all([...offs, () => off()]);
}

const desktop = (x) => x._device == 'desktop';

export const TRIGGERS = {
  page_load: (fire, [ms]) => later(fire, ms),
  exit_intent: exitIntent,
  mobile_exit: (fire, p, x) => (desktop(x) ? never() : mobileExit(fire, p, x)),
  scroll: (fire, [percent], x) => on(x._win, 'scroll', () => {
    if ((x._win.scrollY + x._win.innerHeight) * 100 >= percent * Math.max(1, x._doc.documentElement.scrollHeight)) fire();
  }, PASSIVE),
  time_on_page: (fire, [ms], x) => visibleTimer(fire, ms, x),
  time_on_site: (fire, [ms], x) => visibleTimer(fire, ms - x._siteTime(), x),
  inactivity,
  click: (fire, [selector], x) => on(x._doc, 'click', (e) => {
    const t = e.target;
    try { if (selector && t && t.closest && t.closest(selector)) fire(); } catch (_) { /* invalid selector: never fires */ }
  }, true),
  pageviews: (fire, [count], x) => (x._pageviews() >= count ? later(fire, 0) : never()),
  // [idle, ms]: idle for ms (true), or the visitor leaving (false: exit intent, mobile exit on touch devices)
  cart_abandonment(fire, [idle, ms], x) {
    const go = () => { const c = x._cart(); if (c && ((c.items && c.items.length) || c.value > 0)) fire(); };
    return idle ? inactivity(go, [ms], x) : desktop(x) ? exitIntent(go, [20, 0, 0], x) : mobileExit(go, [1, 1, 0, 0], x);
  },
  js: (fire, [name], x) => x._listen('js', name, fire),
  event: (fire, [name], x) => x._listen('event', name, fire),
};

// Arms every trigger of a campaign (OR'd; the server sends a page load for none) and fires at most once.
export function armAll(triggers, fire, x) {
  let done = false;
  const once = () => { if (!done) { disarm(); fire(); } };
  // An unknown trigger never fires: a bad rule hides a campaign, it never shows one everywhere.
  const offs = triggers.map(([type, ...p]) => (TRIGGERS[type] || never)(once, p, x));
  const disarm = () => { done = true; offs.forEach((off) => off()); };
  return disarm;
}
