// Events: batched, sent as text/plain (no CORS preflight), kept in storage until the
// server has them. A retry sends the same ids; the server counts each id once.
import { readJSON, writeJSON, push } from './util.js';

export const OUTBOX = '_rt_o';
export const WAIT = 1000;
export const MAX_BATCH = 50;
const MAX_OUTBOX = 500;
export const backoff = (n) => Math.min(300e3, 1000 * 2 ** n);

// A response worth retrying: the network failed, the server is busy or broken.
const retryable = (status) => status === 429 || status >= 500 || !status;

export function createTransport({
  url, storage, fetch: fetchFn = globalThis.fetch, beacon, now = Date.now,
  setTimeout: later = globalThis.setTimeout.bind(globalThis), clearTimeout: cancel = globalThis.clearTimeout.bind(globalThis),
}) {
  let _timer = null;
  let _busy = false;
  let _store = storage;
  let _held = null; // events waiting for the consent decision (memory only)

  const read = () => readJSON(_store, OUTBOX) || { q: [], n: 0, next: 0 };
  const write = (o) => writeJSON(_store, OUTBOX, o);
  const drop = (o, ids) => { o.q = o.q.filter((e) => !ids.has(e.id)); };
  const body = (events) => JSON.stringify({ events });

  function schedule(ms) {
    if (_timer) return;
    _timer = later(() => { _timer = null; flush(); }, Math.max(0, ms));
  }

  function send(ev) {
    if (_held) { _held.push(ev); return; }
    const o = read();
    push(o.q, ev, MAX_OUTBOX);
    write(o);
    schedule(o.next > now() ? o.next - now() : WAIT);
  }

  async function flush() {
    const o = read();
    if (_busy || !o.q.length) return;
    if (o.next > now()) { schedule(o.next - now()); return; }
    _busy = true;
    const batch = o.q.slice(0, MAX_BATCH);
    let status = 0;
    try {
      const r = await fetchFn(url, { method: 'POST', keepalive: true, body: body(batch), headers: { 'Content-Type': 'text/plain' } });
      status = r.status;
    } catch (_) { /* network error: status 0 */ }
    _busy = false;
    const after = read();
    if (retryable(status)) {
      after.n += 1;
      after.next = now() + backoff(after.n);
      write(after);
      schedule(backoff(after.n));
      return;
    }
    // Delivered, or refused for good (4xx): either way not sent again.
    drop(after, new Set(batch.map((e) => e.id)));
    after.n = 0;
    after.next = 0;
    write(after);
    if (after.q.length) schedule(0);
  }

  // The page is going away: hand what is left to the browser. Skipped while the server is
  // failing: the events stay stored for the next page load.
  function unload() {
    const o = read();
    if (!o.q.length || o.next > now()) return;
    const sent = new Set();
    for (let i = 0; i < o.q.length; i += MAX_BATCH) {
      const b = o.q.slice(i, i + MAX_BATCH);
      let ok = false;
      try {
        ok = beacon ? beacon(url, body(b))
          : (fetchFn(url, { method: 'POST', keepalive: true, body: body(b), headers: { 'Content-Type': 'text/plain' } }).catch(() => {}), true);
      } catch (_) { /* too large or blocked */ }
      if (!ok) break;
      b.forEach((e) => sent.add(e.id));
    }
    drop(o, sent);
    write(o);
  }

  return {
    send,
    flush,
    unload,
    pending: () => read().q.concat(_held || []),
    // Before the consent decision: keep events in memory, send nothing.
    hold() { if (!_held) _held = []; },
    // Decided: granted moves the held events to the (now persistent) outbox; denied drops them.
    release(granted, store) {
      const held = _held || [];
      _held = null;
      if (store) _store = store;
      if (granted) held.forEach(send);
    },
    stop() { if (_timer) cancel(_timer); _timer = null; },
  };
}
