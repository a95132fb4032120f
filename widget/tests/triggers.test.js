import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { armAll, TRIGGERS, visibleClock } from '../src/core/triggers.js';
import { listenerCount, offAll } from '../src/core/util.js';

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
    _win: win, _doc: doc, _device: 'desktop', _cart: () => null, _pageviews: () => 1, _siteTime: () => 0,
    _listen(kind, name, fn) { const k = kind + ':' + name; (signals[k] = signals[k] || new Set()).add(fn); return () => signals[k].delete(fn); },
    signal(kind, name) { (signals[kind + ':' + name] || []).forEach((fn) => fn()); },
    ...over,
  };
}
const leave = (x, clientY = 0) => { const e = new Event('mouseleave'); e.clientY = clientY; x._doc.documentElement.dispatchEvent(e); };
const enter = (x) => x._doc.documentElement.dispatchEvent(new Event('mouseenter'));
const scrollTo = (x, y) => { x._win.scrollY = y; x._win.dispatchEvent(new Event('scroll')); };
const hide = (x, state = 'hidden') => { x._doc.visibilityState = state; x._doc.dispatchEvent(new Event('visibilitychange')); };

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1767225600000 }));
afterEach(() => { mock.timers.reset(); offAll(); });

// Triggers arrive compiled, [type, ...parameters] with times in ms (campaigns/targeting/triggers.py; the
// defaults, nested params and "no trigger means page load" are tested in tests/campaigns/targeting/test_compile.py).

test('page_load waits for its delay', () => {
  const fire = mock.fn();
  armAll([['page_load', 2000]], fire, page());
  mock.timers.tick(1999);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1);
  assert.equal(fire.mock.callCount(), 1);
});

test('exit intent fires when the pointer leaves through the top only', () => {
  const fire = mock.fn();
  const x = page();
  armAll([['exit_intent', 20, 0, 0]], fire, x);
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
  armAll([['exit_intent', 20, 0, 500]], fire, x);
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
  armAll([['exit_intent', 20, 5000, 0]], fire, x);
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
  armAll([['exit_intent', 20, 0, 0], ['js', 'promo']], fire, x);
  x.signal('js', 'promo');
  leave(x, 0);
  mock.timers.tick(0);
  x.signal('js', 'promo');
  assert.equal(fire.mock.callCount(), 1);
  assert.equal(listenerCount(), before);
});

test('disarm removes every listener it added', () => {
  const x = page({ _device: 'mobile' });
  const before = listenerCount();
  const disarm = armAll([
    ['exit_intent', 20, 0, 0], ['mobile_exit', true, true, true, 0], ['scroll', 50],
    ['inactivity', 5000], ['click', '.x'], ['time_on_page', 5000],
  ], mock.fn(), x);
  assert.ok(listenerCount() > before);
  disarm();
  assert.equal(listenerCount(), before);
});

test('scroll fires at the percentage of the page seen', () => {
  const fire = mock.fn();
  const x = page();
  armAll([['scroll', 50]], fire, x);
  scrollTo(x, 400); // (400 + 500) / 2000 = 45%
  assert.equal(fire.mock.callCount(), 0);
  scrollTo(x, 500);
  assert.equal(fire.mock.callCount(), 1);
});

test('time on page counts visible time only', () => {
  const fire = mock.fn();
  const x = page();
  armAll([['time_on_page', 10000]], fire, x);
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
  armAll([['time_on_site', 60000]], fire, page({ _siteTime: () => 50000 }));
  mock.timers.tick(9999);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1);
  assert.equal(fire.mock.callCount(), 1);
});

test('inactivity restarts on activity', () => {
  const fire = mock.fn();
  const x = page();
  armAll([['inactivity', 10000]], fire, x);
  mock.timers.tick(9000);
  x._doc.dispatchEvent(new Event('keydown'));
  mock.timers.tick(9000);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1000);
  assert.equal(fire.mock.callCount(), 1);
});

test('click fires for a matching selector, and an invalid selector never fires', () => {
  const fire = mock.fn();
  const x = page();
  armAll([['click', '.chat']], fire, x);
  const click = (target) => { const e = new Event('click'); Object.defineProperty(e, 'target', { value: target }); x._doc.dispatchEvent(e); };
  click({ closest: () => null });
  assert.equal(fire.mock.callCount(), 0);
  click({ closest: (s) => (s === '.chat' ? {} : null) });
  assert.equal(fire.mock.callCount(), 1);
  const bad = mock.fn();
  armAll([['click', '!!']], bad, x);
  click({ closest: () => { throw new SyntaxError('bad selector'); } });
  assert.equal(bad.mock.callCount(), 0);
});

test('pageviews fires when the session has enough page views', () => {
  const few = mock.fn();
  const enough = mock.fn();
  armAll([['pageviews', 3]], few, page({ _pageviews: () => 2 }));
  armAll([['pageviews', 3]], enough, page({ _pageviews: () => 3 }));
  mock.timers.tick(0);
  assert.equal(few.mock.callCount(), 0);
  assert.equal(enough.mock.callCount(), 1);
});

test('cart abandonment needs a cart that is not empty', () => {
  let cart = { value: 0, items: [] };
  const fire = mock.fn();
  const x = page({ _cart: () => cart });
  armAll([['cart_abandonment', false, 30000]], fire, x);
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
  armAll([['cart_abandonment', true, 30000]], fire, page({ _cart: () => ({ value: 10, items: [{ id: 'a' }] }) }));
  mock.timers.tick(29999);
  assert.equal(fire.mock.callCount(), 0);
  mock.timers.tick(1);
  assert.equal(fire.mock.callCount(), 1);
});

test('mobile exit: a fast scroll up fires, a slow one does not', () => {
  const fire = mock.fn();
  const x = page({ _device: 'mobile' });
  armAll([['mobile_exit', true, false, false, 0]], fire, x);
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
  const x = page({ _device: 'mobile' });
  armAll([['mobile_exit', true, true, false, 0]], fire, x);
  hide(x);
  assert.equal(fire.mock.callCount(), 1);
  const desk = mock.fn();
  const d = page();
  armAll([['mobile_exit', true, true, false, 0]], desk, d);
  hide(d);
  assert.equal(desk.mock.callCount(), 0);
});

test('mobile exit: the back button, after a gesture added a history entry', () => {
  const fire = mock.fn();
  const x = page({ _device: 'mobile' });
  armAll([['mobile_exit', false, false, true, 0]], fire, x);
  x._win.dispatchEvent(new Event('popstate'));
  assert.equal(fire.mock.callCount(), 0);
  x._doc.dispatchEvent(new Event('pointerdown'));
  assert.equal(x._win.pushed, true);
  x._win.dispatchEvent(new Event('popstate'));
  assert.equal(fire.mock.callCount(), 1);
});

test('js and event triggers fire on their name only', () => {
  const fire = mock.fn();
  const x = page();
  armAll([['js', 'promo'], ['event', 'signup']], fire, x);
  x.signal('js', 'other');
  x.signal('event', 'promo');
  assert.equal(fire.mock.callCount(), 0);
  x.signal('event', 'signup');
  assert.equal(fire.mock.callCount(), 1);
});

test('an unknown trigger type never fires', () => {
  const fire = mock.fn();
  armAll([['teleport'], [null]], fire, page());
  mock.timers.tick(100000);
  assert.equal(fire.mock.callCount(), 0);
});

test('the visible clock counts visible time and hands it over once', () => {
  const x = page();
  const clock = visibleClock(x);
  mock.timers.tick(3000);
  hide(x);
  mock.timers.tick(10000);
  assert.equal(clock._peek(), 3000);
  hide(x, 'visible');
  mock.timers.tick(1000);
  assert.equal(clock._take(), 4000);
  mock.timers.tick(500);
  assert.equal(clock._take(), 500);
});

test('every trigger type of the contract is known', () => {
  assert.deepEqual(Object.keys(TRIGGERS).sort(), ['cart_abandonment', 'click', 'event', 'exit_intent', 'inactivity', 'js',
    'mobile_exit', 'page_load', 'pageviews', 'scroll', 'time_on_page', 'time_on_site'].sort());
});
