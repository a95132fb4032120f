// Small shared helpers of the core bundle: one listener registry, safe calls, ids, storage.

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

// crypto.randomUUID() (secure pages), else the same format from getRandomValues().
export const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
  : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));

export const shortId = (prefix) => prefix + uuid().replace(/-/g, '').slice(0, 20);

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
