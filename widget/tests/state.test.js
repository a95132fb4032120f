import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createState, KEY, SESSION_IDLE, utmOf } from '../src/core/state.js';
import { memoryStorage } from '../src/core/util.js';
import { record, overlayShown, exposedFirst } from '../src/lazy/history.js';

const clock = (t = 1767225600000) => { const c = () => c.t; c.t = t; return c; };
const URL1 = 'https://shop.example/blog/a?utm_source=google&utm_medium=cpc&utm_campaign=spring';

test('a first page view creates a visitor, a session and the first touch', () => {
  const now = clock();
  const s = createState({ storage: memoryStorage(), now });
  s._pageview(URL1, 'https://www.google.com/');
  const v = s._context({ url: URL1, device: 'desktop' }).visitor;
  assert.match(v.id, /^v_/);
  assert.match(v.session_id, /^s_/);
  assert.equal(v.sessions, 1);
  assert.equal(v.pageviews_session, 1);
  assert.equal(v.pageviews_total, 1);
  assert.deepEqual(v.visited, ['/blog/a']);
  assert.deepEqual(v.first_touch, { referrer: 'https://www.google.com/', utm: { source: 'google', medium: 'cpc', campaign: 'spring' } });
  assert.deepEqual(v.utm, { source: 'google', medium: 'cpc', campaign: 'spring' });
});

// Changes are written at the end of the task that made them.
const taskEnd = () => new Promise((resolve) => setTimeout(resolve, 0));

test('changes of one task are written once, at its end', async () => {
  const storage = memoryStorage(), writes = [];
  const spy = { ...storage, setItem: (k, v) => { writes.push(k); storage.setItem(k, v); } };
  const s = createState({ storage: spy, now: clock() });
  s._pageview('https://shop.example/', '');
  s._variant(3, () => 7);
  s._setAttrs({ plan: 'pro' });
  assert.equal(s.data.attrs.plan, 'pro');
  assert.deepEqual(writes, []);
  await taskEnd();
  assert.deepEqual(writes, [KEY]);
  assert.equal(JSON.parse(storage.getItem(KEY)).variants[3], 7);
});

test('the state survives a new page load through storage', async () => {
  const storage = memoryStorage();
  const now = clock();
  const a = createState({ storage, now });
  a._pageview('https://shop.example/', '');
  await taskEnd();
  const b = createState({ storage, now });
  b._pageview('https://shop.example/b', '');
  const v = b._context({}).visitor;
  assert.equal(v.id, a.data.id);
  assert.equal(v.pageviews_session, 2);
  assert.ok(storage.getItem(KEY));
});

test('thirty minutes without activity start a new session and reset the current utm', () => {
  const now = clock();
  const s = createState({ now });
  s._pageview(URL1, '');
  const first = s.data.session.id;
  now.t += SESSION_IDLE + 1;
  s._pageview('https://shop.example/x', '');
  const v = s._context({}).visitor;
  assert.notEqual(v.session_id, first);
  assert.equal(v.sessions, 2);
  assert.equal(v.pageviews_session, 1);
  assert.equal(v.pageviews_total, 2);
  assert.deepEqual(v.utm, {});
  assert.equal(v.first_touch.utm.source, 'google');
});

test('activity within thirty minutes keeps the session', () => {
  const now = clock();
  const s = createState({ now });
  s._pageview('https://shop.example/', '');
  now.t += SESSION_IDLE - 1;
  s._pageview('https://shop.example/', '');
  assert.equal(s.data.sessions, 1);
});

test('visited paths are unique, most recent last, and bounded to 50', () => {
  const s = createState({ now: clock() });
  for (let i = 0; i < 60; i++) s._pageview(`https://shop.example/p${i}`, '');
  s._pageview('https://shop.example/p20', '');
  const visited = s.data.visited;
  assert.equal(visited.length, 50);
  assert.equal(visited[49], '/p20');
  assert.equal(visited.filter((p) => p === '/p20').length, 1);
});

test('history records impressions, closes and conversions with the session', () => {
  const now = clock();
  const s = createState({ now });
  s._pageview('https://shop.example/', '');
  record(s, 12, 'impressions');
  now.t += 1000;
  record(s, 12, 'closes');
  overlayShown(s);
  const v = s._context({}).visitor;
  assert.deepEqual(v.history['12'].impressions, [1767225600000]);
  assert.deepEqual(v.history['12'].closes, [1767225601000]);
  assert.deepEqual(v.history['12'].sessions, [v.session_id]);
  assert.equal(v.overlays_session, 1);
});

test('a variant is sticky: the first answer is kept', () => {
  const s = createState({ now: clock() });
  assert.equal(s._variant(5, () => 7), 7);
  assert.equal(s._variant(5, () => 8), 7);
  assert.equal(s._variant(6, () => null), null);
  assert.equal(s._variant(6, () => 9), null);
});

test('exposure is reported once per campaign', () => {
  const s = createState({ now: clock() });
  assert.equal(exposedFirst(s, 3), 1);
  assert.equal(exposedFirst(s, 3), false);
});

test('attrs merge, cart is normalised, events are unique', () => {
  const s = createState({ now: clock() });
  s._setAttrs({ plan: 'pro' });
  s._setAttrs({ first_name: 'Ada' });
  s._setCart({ value: '59.9', items: [{ id: 'sku-1', qty: 1 }] });
  s._event('purchase');
  s._event('purchase');
  const v = s._context({}).visitor;
  assert.deepEqual(v.attrs, { plan: 'pro', first_name: 'Ada' });
  assert.deepEqual(v.cart, { value: 59.9, items: [{ id: 'sku-1', qty: 1 }] });
  assert.deepEqual(v.events, ['purchase']);
});

test('moving to persistent storage keeps the memory visitor when nothing is stored', () => {
  const s = createState({ now: clock() });
  s._pageview('https://shop.example/', '');
  const id = s.data.id;
  const ls = memoryStorage();
  s._useStorage(ls);
  assert.equal(JSON.parse(ls.getItem(KEY)).id, id);
});

test('moving to persistent storage prefers the visitor stored there', async () => {
  const ls = memoryStorage();
  const old = createState({ storage: ls, now: clock() });
  old._pageview('https://shop.example/', '');
  await taskEnd();
  const s = createState({ now: clock() });
  s._pageview('https://shop.example/', '');
  s._useStorage(ls);
  assert.equal(s.data.id, old.data.id);
});

test('forget removes the stored visitor and goes on in memory as a new visitor, in the store it returns', async () => {
  const ls = memoryStorage();
  const s = createState({ storage: ls, now: clock() });
  s._pageview('https://shop.example/', '');
  const before = s.data.id;
  const memory = s._forget();
  s._pageview('https://shop.example/b', '');
  assert.equal(ls.getItem(KEY), null);
  assert.notEqual(s.data.id, before);
  assert.equal(s.data.pv, 1);
  await Promise.resolve(); // the page view is written at the end of its task
  assert.equal(JSON.parse(memory.getItem(KEY)).id, s.data.id);
});

test('a storage that throws behaves like no storage', () => {
  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); }, removeItem() {} };
  const s = createState({ storage: broken, now: clock() });
  s._pageview('https://shop.example/', '');
  assert.equal(s._context({}).visitor.pageviews_total, 1);
});

test('utm parameters are read from the url', () => {
  assert.deepEqual(utmOf('https://x.example/?utm_source=a&utm_term=b&x=1'), { source: 'a', term: 'b' });
  assert.deepEqual(utmOf('not a url'), {});
});

test('each page view gives its journey: the previous path of the session and its step', () => {
  const s = createState({ now: clock() });
  const steps = (j) => ({ prev: j.prev, step: j.step });
  assert.deepEqual(steps(s._pageview('https://shop.example/blog/a?utm_source=x#top', '')), { prev: null, step: 1 });
  assert.deepEqual(steps(s._pageview('https://shop.example/product/1?ref=mail', '')), { prev: '/blog/a', step: 2 });
  // A reload is a step from the page to itself.
  assert.deepEqual(steps(s._pageview('https://shop.example/product/1', '')), { prev: '/product/1', step: 3 });
});

test('each journey carries what its segment is made of: sessions, the session\'s utm, the first referrer', () => {
  const now = clock();
  const s = createState({ now });
  assert.deepEqual(s._pageview('https://shop.example/?utm_source=google&utm_medium=cpc', 'https://www.google.com/'), {
    prev: null, step: 1, sessions: 1, utm: { source: 'google', medium: 'cpc' }, referrer: 'https://www.google.com/',
  });
  // Later pages of the session keep its utm; a new session forgets it, and the first referrer stays.
  assert.deepEqual(s._pageview('https://shop.example/cart', 'https://shop.example/').utm, { source: 'google', medium: 'cpc' });
  now.t += SESSION_IDLE + 1;
  assert.deepEqual(s._pageview('https://shop.example/', ''), {
    prev: null, step: 1, sessions: 2, utm: {}, referrer: 'https://www.google.com/',
  });
});

test('the previous path survives a new page load through storage', async () => {
  const storage = memoryStorage(), now = clock();
  createState({ storage, now })._pageview('https://shop.example/cart', '');
  await taskEnd();
  assert.equal(JSON.parse(storage.getItem(KEY)).session.path, '/cart');
  const j = createState({ storage, now })._pageview('https://shop.example/checkout', '');
  assert.deepEqual([j.prev, j.step], ['/cart', 2]);
});

test('a new session after thirty idle minutes starts its journey again', () => {
  const now = clock();
  const s = createState({ now });
  s._pageview('https://shop.example/a', '');
  s._pageview('https://shop.example/b', '');
  now.t += SESSION_IDLE + 1;
  const j = s._pageview('https://shop.example/c', '');
  assert.deepEqual([j.prev, j.step, j.sessions], [null, 1, 2]);
});
