// Entry: run-once guard, queue replay, public API. Defines nothing but window.retarget.
import { on, offAll, safe, warn } from './util.js';
import { createEngine } from './engine.js';

/* global __RT_VERSION__ */
const VERSION = typeof __RT_VERSION__ === 'undefined' ? 'dev' : __RT_VERSION__;

safe(() => {
  const w = window;
  const prev = w.retarget;
  if (prev && prev.version) return; // loaded twice: the first copy keeps running
  const script = document.currentScript || document.querySelector('script[data-site]');
  const site = script && script.getAttribute('data-site');
  if (!site) throw new Error('data-site is missing on the <script> tag');
  const src = new URL(script.src, location.href);
  const api = (script.getAttribute('data-api') || src.origin).replace(/\/+$/, '');

  const handlers = { show: [], close: [], convert: [] };
  const engine = createEngine({
    site, api, nonce: script.nonce || script.getAttribute('nonce') || undefined,
    base: new URL('.', src).href,
    notify(name, detail) {
      handlers[name].forEach((cb) => safe(cb)(detail));
      document.dispatchEvent(new CustomEvent('retarget:' + name, { detail }));
    },
  });

  const waiting = [];
  let ready = false;
  const run = (args) => {
    const [cmd, a, b] = args;
    if (cmd === 'on') return handlers[a] && typeof b === 'function' && handlers[a].push(b);
    if (cmd === 'destroy') { engine.destroy(); offAll(); w.retarget = undefined; return; }
    if (!ready) return waiting.push(args);
    const fn = engine.commands[cmd];
    if (!fn) throw new Error('unknown command ' + cmd);
    fn(a, b);
  };
  const retarget = function () { safe(run)([...arguments]); };
  retarget.version = VERSION;
  const queued = (prev && prev.q) || [];
  w.retarget = retarget;
  queued.forEach((args) => retarget(...args));

  engine.start().then(() => {
    ready = true;
    waiting.splice(0).forEach(safe(run));
  }, warn);
  on(w, 'pagehide', engine.hide);
  on(document, 'visibilitychange', () => { if (document.visibilityState === 'hidden') engine.hide(); });
})();
