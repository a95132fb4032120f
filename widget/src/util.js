// Small shared helpers of the core bundle: one listener registry, safe calls, ids.

const _listeners = new Set();

// Every listener goes through on(): it returns its own off(), and offAll() removes exactly
// what the widget added (destroy()).
export function on(target, type, fn, opts) {
  const g = safe(fn);
  const rec = [target, type, g, opts];
  target.addEventListener(type, g, opts);
  _listeners.add(rec);
  return () => {
    if (_listeners.delete(rec)) target.removeEventListener(type, g, opts);
  };
}

export function offAll() {
  _listeners.forEach(([t, type, fn, opts]) => t.removeEventListener(type, fn, opts));
  _listeners.clear();
}

export const listenerCount = () => _listeners.size;

let _warned = false;
// Warn once: the host page's console is not ours to flood.
export function warn(err) {
  if (_warned) return;
  _warned = true;
  try { console.warn('[retarget]', err); } catch (_) { /* no console */ }
}

// Wrap a function so that nothing it throws ever reaches the host page.
export function safe(fn) {
  return function () {
    try { return fn.apply(this, arguments); } catch (e) { warn(e); }
  };
}

export function uuid() {
  const c = globalThis.crypto;
  if (c && c.randomUUID) return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.random() * 256;
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const h = [...b].map((x) => (x + 256).toString(16).slice(1)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const shortId = (prefix) => prefix + uuid().replace(/-/g, '').slice(0, 20);

// localStorage with a memory fallback; a storage that throws (Safari private mode, quota,
// blocked third-party storage) behaves like memory.
export function memoryStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => { m.set(k, String(v)); },
    removeItem: (k) => { m.delete(k); },
  };
}

export function readJSON(storage, key) {
  try { return JSON.parse(storage.getItem(key)) || null; } catch (_) { return null; }
}

export function writeJSON(storage, key, value) {
  try { storage.setItem(key, JSON.stringify(value)); } catch (_) { /* full or blocked */ }
}

export const push = (list, item, max) => {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
  return list;
};
