// Events: batched, sent as text/plain (no CORS preflight), kept in storage until the
// server has them. A retry sends the same ids; the server counts each id once.
import { readJSON, writeJSON, push, VERSION } from './util.js';

export const OUTBOX = '_rt_o';
export const WAIT = 1000;
export const MAX_BATCH = 50;
export const backoff = (n) => Math.min(300e3, 1000 * 2 ** n);

export function createTransport({
  url, storage, fetch: fetchFn = fetch, beacon, now = Date.now,
  setTimeout: later = (f, ms) => setTimeout(f, ms), clearTimeout: cancel = (t) => clearTimeout(t),
}) {
  let _timer = null, _busy = false, _store = storage;
  let _held = null; // events waiting for the consent decision (memory only)

  // The outbox: q the events, n the failures in a row, next the time of the next try.
  const read = () => readJSON(_store, OUTBOX) || { q: [], n: 0, next: 0 };
  const write = (o) => writeJSON(_store, OUTBOX, o);
  // A batch names the widget's version: the admin's installation check shows it per origin.
  const body = (events) => JSON.stringify({ events, v: VERSION });
  const post = (events) => fetchFn(url, { method: 'POST', keepalive: true, body: body(events), headers: { 'Content-Type': 'text/plain' } });
  // Removes the events sent (by id) from the outbox as it is now.
  const drop = (o, sent) => { o.q = o.q.filter((e) => !sent.some((s) => s.id == e.id)); };

  function schedule(ms) {
    if (!_timer) _timer = later(() => { _timer = null; flush(); }, Math.max(0, ms));
  }

  function send(ev) {
    if (_held) return _held.push(ev);
    const o = read();
    push(o.q, ev, 500);
    write(o);
    schedule(o.next > now() ? o.next - now() : WAIT);
  }

  async function flush() {
    const o = read();
    if (_busy || !o.q.length) return;
    if (o.next > now()) return schedule(o.next - now());
    _busy = true;
    const batch = o.q.slice(0, MAX_BATCH);
    let status = 0, res;
    try { status = (res = await post(batch)).status; } catch (_) { /* network error: status 0 */ }
    _busy = false;
    const after = read();
    // The network failed, the server is busy or broken: retry with backoff. Otherwise the batch
    // was delivered, or refused for good (4xx): either way not sent again.
    const retry = status == 429 || status >= 500 || !status;
    if (retry) after.n += 1;
    else { drop(after, batch); after.n = 0; }
    after.next = retry ? now() + backoff(after.n) : 0;
    write(after);
    if (retry || after.q.length) schedule(retry ? backoff(after.n) : 0);
    // The server's answer, to whoever waits for one (a lead magnet's link in a 202: src/lazy/show.js).
    if (!retry && t._got) t._got(res);
  }

  // The page is going away: hand what is left to the browser. Skipped while the server is
  // failing: the events stay stored for the next page load.
  function unload() {
    const o = read(), sent = [];
    if (!o.q.length || o.next > now()) return;
    for (let i = 0; i < o.q.length; i += MAX_BATCH) {
      const b = o.q.slice(i, i + MAX_BATCH);
      try {
        if (!(beacon ? beacon(url, body(b)) : (post(b).catch(() => {}), true))) break;
      } catch (_) { break; /* too large or blocked */ }
      sent.push(...b);
    }
    drop(o, sent);
    write(o);
  }

  const t = {
    _send: send,
    _flush: flush,
    _unload: unload,
    _pending: () => read().q.concat(_held || []),
    // Before the consent decision: keep events in memory, send nothing.
    _hold() { _held = _held || []; },
    // Decided: granted moves the held events to the (now persistent) outbox; denied drops them.
    _release(granted, store, ids) {
      const held = _held || [];
      _held = null;
      if (store) _store = store;
      if (granted) held.forEach((e) => send(ids ? { ...e, ...ids } : e));
    },
    _stop() { cancel(_timer); _timer = null; },
  };
  return t;
}
