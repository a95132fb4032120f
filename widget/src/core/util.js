// Small shared helpers of the core bundle: one listener registry, safe calls, ids, storage.

/* global __RT_VERSION__ */
// The build's version (package.json): retarget.version, and the `v` of every batch sent.
export const VERSION = typeof __RT_VERSION__ == 'undefined' ? 'dev' : __RT_VERSION__;

const _listeners = new Set();

// Every listener goes through on(): it returns its own off(), and offAll() removes exactly
// what the widget added (destroy()).
export function on(target, type, fn, opts) {
  const g = safe(fn), off = () => { if (_listeners.delete(off)) target.removeEventListener(type, g, opts); };
  target.addEventListener(type, g, opts);
  _listeners.add(off);
  return off;
}

export const offAll = () => _listeners.forEach((off) => off());

export const listenerCount = () => _listeners.size;

let _warned = false;
// Warn once: the host page's console is not ours to flood.
export function warn(err) {
  if (!_warned) try { _warned = true; console.warn('[retarget]', err); } catch (_) { /* no console */ }
}

// Wrap a function so that nothing it throws ever reaches the host page.
export const safe = (fn) => function () {
  try { return fn.apply(this, arguments); } catch (e) { warn(e); }
};

const _hex = (bytes) => [...bytes].map((b) => (b + 256).toString(16).slice(1)).join('');
const _random = (n) => crypto.getRandomValues(new Uint8Array(n));

// Event ids: UUID version 7 (RFC 9562), the time in ms then 74 random bits. Ids made later sort later, so the
// server's unique index on them grows at its end instead of at random places (PostgreSQL's CPU per insert stays
// flat as the table grows; bench/collect_bench.lua sends ids of this form too). getRandomValues works on http
// pages too, where crypto.randomUUID() does not exist.
export const uuid = () => {
  const h = (Date.now() + 2 ** 48).toString(16).slice(1) + _hex(_random(10));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) & 3]}${h.slice(17, 20)}-${h.slice(20)}`;
};

// Visitor and session ids: 80 random bits (no time in them: two visitors of the same millisecond stay apart).
export const shortId = (prefix) => prefix + _hex(_random(10));

// localStorage with a memory fallback; a storage that throws (Safari private mode, quota,
// blocked third-party storage) behaves like memory.
export function memoryStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
  };
}

// localStorage if it works (probed once: the first access is the costly one), else memory.
let _ls;
export function localStore() {
  if (!_ls) try { _ls = localStorage; _ls.getItem('_rt'); } catch (_) { _ls = memoryStorage(); }
  return _ls;
}

export function readJSON(storage, key) {
  try { return JSON.parse(storage.getItem(key)); } catch (_) { return null; }
}

export function writeJSON(storage, key, value) {
  try { storage.setItem(key, JSON.stringify(value)); } catch (_) { /* full or blocked */ }
}

// Appends, keeping the last `max` items.
export const push = (list, item, max) => {
  list.push(item);
  list.splice(0, list.length - max);
  return list;
};
