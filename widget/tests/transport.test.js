import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTransport, OUTBOX, WAIT, MAX_BATCH, backoff } from '../src/core/transport.js';
import { memoryStorage, VERSION } from '../src/core/util.js';

// A fake world: time, timers and the network.
function world(statuses = []) {
  const w = { t: 1000, timers: [], calls: [], beacons: [] };
  w.now = () => w.t;
  w.setTimeout = (fn, ms) => { const id = { fn, at: w.t + ms }; w.timers.push(id); return id; };
  w.clearTimeout = (id) => { w.timers = w.timers.filter((x) => x !== id); };
  w.fetch = async (url, opts) => {
    w.calls.push({ url, opts, events: JSON.parse(opts.body).events });
    const s = statuses.length ? statuses.shift() : 202;
    if (s === 'offline') throw new TypeError('Failed to fetch');
    return { status: s, ok: s >= 200 && s < 300 };
  };
  // Runs the timers due within `ms`, in order, letting promises settle.
  w.advance = async (ms) => {
    const end = w.t + ms;
    for (;;) {
      w.timers.sort((a, b) => a.at - b.at);
      const next = w.timers[0];
      if (!next || next.at > end) break;
      w.timers.shift();
      w.t = Math.max(w.t, next.at);
      next.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    w.t = end;
  };
  return w;
}

const make = (w, storage = memoryStorage(), beacon) => createTransport({
  url: 'https://rt.example/api/w/pk_1/events', storage, fetch: w.fetch, now: w.now,
  setTimeout: w.setTimeout, clearTimeout: w.clearTimeout, beacon,
});
const ev = (i) => ({ id: `id-${i}`, type: 'pageview', ts: 1 });

test('events are batched for about a second, then sent as text/plain with keepalive', async () => {
  const w = world();
  const t = make(w);
  t._send(ev(1));
  t._send(ev(2));
  await w.advance(WAIT - 1);
  assert.equal(w.calls.length, 0);
  await w.advance(1);
  assert.equal(w.calls.length, 1);
  const { opts, events } = w.calls[0];
  assert.deepEqual(events.map((e) => e.id), ['id-1', 'id-2']);
  assert.equal(opts.method, 'POST');
  assert.equal(opts.keepalive, true);
  assert.equal(opts.headers['Content-Type'], 'text/plain');
  assert.deepEqual(t._pending(), []);
});

test('a batch holds at most 50 events; the rest follow', async () => {
  const w = world();
  const t = make(w);
  for (let i = 0; i < 120; i++) t._send(ev(i));
  await w.advance(WAIT + 10);
  assert.deepEqual(w.calls.map((c) => c.events.length), [MAX_BATCH, MAX_BATCH, 20]);
});

test('a 5xx keeps the events and retries with backoff, with the same ids', async () => {
  const w = world([503, 'offline', 202]);
  const t = make(w);
  t._send(ev(1));
  await w.advance(WAIT);
  assert.equal(w.calls.length, 1);
  assert.equal(t._pending().length, 1);
  await w.advance(backoff(1) - 1);
  assert.equal(w.calls.length, 1);
  await w.advance(1);
  assert.equal(w.calls.length, 2);
  await w.advance(backoff(2));
  assert.equal(w.calls.length, 3);
  assert.deepEqual(w.calls.map((c) => c.events[0].id), ['id-1', 'id-1', 'id-1']);
  assert.deepEqual(t._pending(), []);
});

test('429 is retried, other 4xx are dropped', async () => {
  const w = world([429, 202, 400]);
  const t = make(w);
  t._send(ev(1));
  await w.advance(WAIT + backoff(1));
  assert.equal(w.calls.length, 2);
  t._send(ev(2));
  await w.advance(WAIT);
  assert.equal(w.calls.length, 3);
  assert.deepEqual(t._pending(), []);
});

test('events that failed are sent again on a later page load', async () => {
  const storage = memoryStorage();
  const w1 = world(['offline']);
  make(w1, storage)._send(ev(1));
  await w1.advance(WAIT);
  assert.equal(JSON.parse(storage.getItem(OUTBOX)).q.length, 1);

  const w2 = world();
  w2.t = w1.t + backoff(1);
  const t2 = make(w2, storage);
  t2._flush();
  await w2.advance(0);
  assert.equal(w2.calls.length, 1);
  assert.equal(w2.calls[0].events[0].id, 'id-1');
  assert.deepEqual(t2._pending(), []);
});

test('a later page load waits for the backoff before retrying', async () => {
  const storage = memoryStorage();
  const w1 = world(['offline']);
  make(w1, storage)._send(ev(1));
  await w1.advance(WAIT);
  const w2 = world();
  w2.t = w1.t;
  make(w2, storage)._flush();
  await w2.advance(backoff(1) - 1);
  assert.equal(w2.calls.length, 0);
  await w2.advance(1);
  assert.equal(w2.calls.length, 1);
});

test('unload hands the queue to sendBeacon and forgets what it accepted', () => {
  const w = world();
  const sent = [];
  const t = make(w, memoryStorage(), (url, body) => { sent.push(JSON.parse(body).events.length); return true; });
  for (let i = 0; i < 60; i++) t._send(ev(i));
  t._unload();
  assert.deepEqual(sent, [50, 10]);
  assert.deepEqual(t._pending(), []);
});

test('unload keeps the events when the beacon is refused', () => {
  const w = world();
  const t = make(w, memoryStorage(), () => false);
  t._send(ev(1));
  t._unload();
  assert.equal(t._pending().length, 1);
});

test('unload keeps the events while the server is failing', async () => {
  const w = world([503]);
  let beacons = 0;
  const t = make(w, memoryStorage(), () => { beacons += 1; return true; });
  t._send(ev(1));
  await w.advance(WAIT);
  t._unload();
  assert.equal(beacons, 0);
  assert.equal(t._pending().length, 1);
});

test('held events wait for consent: granted sends them, denied drops them', async () => {
  const w = world();
  const t = make(w);
  t._hold();
  t._send(ev(1));
  await w.advance(WAIT * 3);
  assert.equal(w.calls.length, 0);
  t._release(true);
  await w.advance(WAIT);
  assert.deepEqual(w.calls[0].events.map((e) => e.id), ['id-1']);

  const w2 = world();
  const t2 = make(w2);
  t2._hold();
  t2._send(ev(2));
  t2._release(false);
  await w2.advance(WAIT * 3);
  assert.equal(w2.calls.length, 0);
  assert.deepEqual(t2._pending(), []);
});

test('the answer of a batch the server took is handed to whoever waits for it, a failed one is not', async () => {
  const w = world([503, 202]);
  const t = make(w);
  const answers = [];
  t._got = (res) => answers.push(res.status);
  t._send(ev(1));
  await w.advance(WAIT);
  assert.deepEqual(answers, []);
  await w.advance(backoff(1));
  assert.deepEqual(answers, [202]);
});

test('every batch names the widget version, posted and beaconed alike', async () => {
  const w = world();
  const beacons = [];
  const t = make(w, memoryStorage(), (url, body) => { beacons.push(JSON.parse(body)); return true; });
  t._send(ev(1));
  await w.advance(WAIT);
  assert.equal(JSON.parse(w.calls[0].opts.body).v, VERSION);
  t._send(ev(2));
  t._unload();
  assert.equal(beacons[0].v, VERSION);
  assert.ok(VERSION);
});
