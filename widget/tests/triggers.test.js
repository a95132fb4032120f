import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { armAll, TRIGGERS, visibleClock } from '../src/triggers.js';
import { listenerCount, offAll } from '../src/util.js';

// A fake page: EventTargets for window, document and <html>, and the values triggers read.
function page(over = {}) {
  const doc = new EventTarget();
  doc.visibilityState = 'visible';
  doc.documentElement = new EventTarget();
  doc.documentElement.scrollHeight = 2000;
  const win = new EventTarget();
  Object.assign(win, { scrollY: 0, innerHeight: 500, location: { href: 'https://shop.example/' }, history: { pushState() { win.pushed = true; } } });
  const signals = {};
  return {
    win, doc, device: 'desktop', cart: () => null, pageviews: () => 1, siteTime: () => 0,
    listen(kind, name, fn) { const k = kind + ':' + name; (signals[k] = signals[k] || new Set()).add(fn); return () => signals[k].delete(fn); },
    signal(kind, name) { (signals[kind + ':' + name] || []).forEach((fn) => fn()); },
    ...over,
  };
}
const leave = (x, clientY = 0) => { const e = new Event('mouseleave'); e.clientY = clientY; x.doc.documentElement.dispatchEvent(e); };
const enter = (x) => x.doc.documentElement.dispatchEvent(new Event('mouseenter'));
const scrollTo = (x, y) => { x.win.scrollY = y; x.win.dispatchEvent(new Event('scroll')); };
const hide = (x, state = 'hidden') => { x.doc.visibilityState = state; x.doc.dispatchEvent(new Event('visibilitychange')); };

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1767225600000 }));
afterEach(() => { mock.timers.reset(); offAll(); });

test('no trigger means page load', () => {
  const fire = mock.fn();
  armAll([], fire, page());
  mock.timers.tick(0);
  assert.equal(fire.mock.callCount(), 1);
});

test('page_load waits for its delay in seconds', () => {
  const fire = mock.fn();
  armAll([{ type: 'page_load', delay: 2 }], fire, page());
  mock.timers.tick(1999);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1);
  assert.equal(fire.mock.callCount(), 1);
});

test('params may be nested under params', () => {
  const fire = mock.fn();
  armAll([{ type: 'page_load', params: { delay: 1 } }], fire, page());
  mock.timers.tick(999);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1);
  assert.equal(fire.mock.callCount(), 1);
});

test('exit intent fires when the pointer leaves through the top only', () => {
  const fire = mock.fn();
  const x = page();
  armAll([{ type: 'exit_intent', sensitivity: 20 }], fire, x);
  leave(x, 300);
  mock.timers.tick(0);
  assert.equal(fire.mock.callCount(), 0);
  leave(x, 10);
  mock.timers.tick(0);
  assert.equal(fire.mock.callCount(), 1);
});

test('exit intent delay is cancelled when the pointer returns', () => {
  const fire = mock.fn();
  const x = page();
  armAll([{ type: 'exit_intent', delay: 500 }], fire, x);
  leave(x, 0);
  mock.timers.tick(200);
  enter(x);
  mock.timers.tick(1000);
  assert.equal(fire.mock.callCount(), 0);
  leave(x, 0);
  mock.timers.tick(500);
  assert.equal(fire.mock.callCount(), 1);
});

test('exit intent is ignored before min_time', () => {
  const fire = mock.fn();
  const x = page();
  armAll([{ type: 'exit_intent', min_time: 5 }], fire, x);
  leave(x, 0);
  mock.timers.tick(0);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(5000);
  leave(x, 0);
  mock.timers.tick(0);
  assert.equal(fire.mock.callCount(), 1);
});

test('a campaign fires once even when several triggers match, and then listens no more', () => {
  const fire = mock.fn();
  const x = page();
  const before = listenerCount();
  armAll([{ type: 'exit_intent' }, { type: 'js', name: 'promo' }], fire, x);
  x.signal('js', 'promo');
  leave(x, 0);
  mock.timers.tick(0);
  x.signal('js', 'promo');
  assert.equal(fire.mock.callCount(), 1);
  assert.equal(listenerCount(), before);
});

test('disarm removes every listener it added', () => {
  const x = page({ device: 'mobile' });
  const before = listenerCount();
  const disarm = armAll([
    { type: 'exit_intent' }, { type: 'mobile_exit', back_button: true }, { type: 'scroll', percent: 50 },
    { type: 'inactivity', seconds: 5 }, { type: 'click', selector: '.x' }, { type: 'time_on_page', seconds: 5 },
  ], mock.fn(), x);
  assert.ok(listenerCount() > before);
  disarm();
  assert.equal(listenerCount(), before);
});

test('scroll fires at the percentage of the page seen', () => {
  const fire = mock.fn();
  const x = page();
  armAll([{ type: 'scroll', percent: 50 }], fire, x);
  scrollTo(x, 400); // (400 + 500) / 2000 = 45%
  assert.equal(fire.mock.callCount(), 0);
  scrollTo(x, 500);
  assert.equal(fire.mock.callCount(), 1);
});

test('time on page counts visible time only', () => {
  const fire = mock.fn();
  const x = page();
  armAll([{ type: 'time_on_page', seconds: 10 }], fire, x);
  mock.timers.tick(4000);
  hide(x);
  mock.timers.tick(60000);
  assert.equal(fire.mock.callCount(), 0);
  hide(x, 'visible');
  mock.timers.tick(5999);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1);
  assert.equal(fire.mock.callCount(), 1);
});

test('time on site goes on from the time already spent in the session', () => {
  const fire = mock.fn();
  armAll([{ type: 'time_on_site', seconds: 60 }], fire, page({ siteTime: () => 50000 }));
  mock.timers.tick(9999);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1);
  assert.equal(fire.mock.callCount(), 1);
});

test('inactivity restarts on activity', () => {
  const fire = mock.fn();
  const x = page();
  armAll([{ type: 'inactivity', seconds: 10 }], fire, x);
  mock.timers.tick(9000);
  x.doc.dispatchEvent(new Event('keydown'));
  mock.timers.tick(9000);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1000);
  assert.equal(fire.mock.callCount(), 1);
});

test('click fires for a matching selector, and an invalid selector never fires', () => {
  const fire = mock.fn();
  const x = page();
  armAll([{ type: 'click', selector: '.chat' }], fire, x);
  const click = (target) => { const e = new Event('click'); Object.defineProperty(e, 'target', { value: target }); x.doc.dispatchEvent(e); };
  click({ closest: () => null });
  assert.equal(fire.mock.callCount(), 0);
  click({ closest: (s) => (s === '.chat' ? {} : null) });
  assert.equal(fire.mock.callCount(), 1);
  const bad = mock.fn();
  armAll([{ type: 'click', selector: '!!' }], bad, x);
  click({ closest: () => { throw new SyntaxError('bad selector'); } });
  assert.equal(bad.mock.callCount(), 0);
});

test('pageviews fires when the session has enough page views', () => {
  const few = mock.fn();
  const enough = mock.fn();
  armAll([{ type: 'pageviews', count: 3 }], few, page({ pageviews: () => 2 }));
  armAll([{ type: 'pageviews', count: 3 }], enough, page({ pageviews: () => 3 }));
  mock.timers.tick(0);
  assert.equal(few.mock.callCount(), 0);
  assert.equal(enough.mock.callCount(), 1);
});

test('cart abandonment needs a cart that is not empty', () => {
  let cart = { value: 0, items: [] };
  const fire = mock.fn();
  const x = page({ cart: () => cart });
  armAll([{ type: 'cart_abandonment', via: 'exit_intent' }], fire, x);
  leave(x, 0);
  mock.timers.tick(0);
  assert.equal(fire.mock.callCount(), 0);
  cart = { value: 59.9, items: [{ id: 'sku-1', qty: 1 }] };
  leave(x, 0);
  mock.timers.tick(0);
  assert.equal(fire.mock.callCount(), 1);
});

test('cart abandonment via inactivity waits its seconds', () => {
  const fire = mock.fn();
  armAll([{ type: 'cart_abandonment', via: 'inactivity', seconds: 30 }], fire, page({ cart: () => ({ value: 10, items: [{ id: 'a' }] }) }));
  mock.timers.tick(29999);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1);
  assert.equal(fire.mock.callCount(), 1);
});

test('mobile exit: a fast scroll up fires, a slow one does not', () => {
  const fire = mock.fn();
  const x = page({ device: 'mobile' });
  armAll([{ type: 'mobile_exit', tab_hidden: false }], fire, x);
  scrollTo(x, 1000);
  mock.timers.tick(1000);
  scrollTo(x, 950);
  mock.timers.tick(1000);
  scrollTo(x, 900);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1000);
  scrollTo(x, 880);
  mock.timers.tick(50);
  scrollTo(x, 700);
  assert.equal(fire.mock.callCount(), 1);
});

test('mobile exit: the tab hidden fires; desktops never arm it', () => {
  const fire = mock.fn();
  const x = page({ device: 'mobile' });
  armAll([{ type: 'mobile_exit' }], fire, x);
  hide(x);
  assert.equal(fire.mock.callCount(), 1);
  const desk = mock.fn();
  const d = page();
  armAll([{ type: 'mobile_exit' }], desk, d);
  hide(d);
  assert.equal(desk.mock.callCount(), 0);
});

test('mobile exit: the back button, after a gesture added a history entry', () => {
  const fire = mock.fn();
  const x = page({ device: 'mobile' });
  armAll([{ type: 'mobile_exit', back_button: true, scroll_up: false, tab_hidden: false }], fire, x);
  x.win.dispatchEvent(new Event('popstate'));
  assert.equal(fire.mock.callCount(), 0);
  x.doc.dispatchEvent(new Event('pointerdown'));
  assert.equal(x.win.pushed, true);
  x.win.dispatchEvent(new Event('popstate'));
  assert.equal(fire.mock.callCount(), 1);
});

test('js and event triggers fire on their name only', () => {
  const fire = mock.fn();
  const x = page();
  armAll([{ type: 'js', name: 'promo' }, { type: 'event', name: 'signup' }], fire, x);
  x.signal('js', 'other');
  x.signal('event', 'promo');
  assert.equal(fire.mock.callCount(), 0);
  x.signal('event', 'signup');
  assert.equal(fire.mock.callCount(), 1);
});

test('an unknown trigger type never fires', () => {
  const fire = mock.fn();
  armAll([{ type: 'teleport' }], fire, page());
  mock.timers.tick(100000);
  assert.equal(fire.mock.callCount(), 0);
});

test('the visible clock counts visible time and hands it over once', () => {
  const x = page();
  const clock = visibleClock(x);
  mock.timers.tick(3000);
  hide(x);
  mock.timers.tick(10000);
  assert.equal(clock.peek(), 3000);
  hide(x, 'visible');
  mock.timers.tick(1000);
  assert.equal(clock.take(), 4000);
  mock.timers.tick(500);
  assert.equal(clock.take(), 500);
});

test('every trigger type of the contract is known', () => {
  assert.deepEqual(Object.keys(TRIGGERS).sort(), ['cart_abandonment', 'click', 'event', 'exit_intent', 'inactivity', 'js',
    'mobile_exit', 'page_load', 'pageviews', 'scroll', 'time_on_page', 'time_on_site'].sort());
});
