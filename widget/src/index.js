// Entry: run-once guard, queue replay, public API. Defines nothing but window.retarget.
import { on, offAll, safe, warn, VERSION } from './core/util.js';
import { createEngine } from './core/engine.js';

safe(() => {
  const w = window, d = document, prev = w.retarget;
  if (prev && prev.version) return; // loaded twice: the first copy keeps running
  const script = d.currentScript || d.querySelector('script[data-site]');
  const attr = (name) => script && script.getAttribute(name);
  const site = attr('data-site');
  if (!site) throw Error('data-site is missing on the <script> tag');
  const src = new URL(script.src, location.href);
  const handlers = { show: [], close: [], convert: [] };
  const engine = createEngine(
    site, (attr('data-api') || src.origin).replace(/\/+$/, ''), script.nonce || attr('nonce') || undefined, new URL('.', src).href,
    (name, detail) => {
      handlers[name].forEach((cb) => safe(cb)(detail));
      d.dispatchEvent(new CustomEvent('retarget:' + name, { detail }));
    },
  );

  let waiting = [];
  const run = (args) => {
    const [cmd, a, b] = args, fn = engine._commands[cmd];
    if (cmd == 'on') return handlers[a] && typeof b == 'function' && handlers[a].push(b);
    if (cmd == 'destroy') { engine._destroy(); offAll(); w.retarget = undefined; return; }
    if (waiting) return waiting.push(args);
    if (!fn) throw Error('unknown command ' + cmd);
    fn(a, b);
  };
  const retarget = w.retarget = function () { safe(run)([...arguments]); };
  retarget.version = VERSION;
  ((prev && prev.q) || []).forEach((args) => retarget(...args));

  engine._start().then(() => {
    const queued = waiting;
    waiting = null;
    queued.forEach(safe(run));
  }, warn);
  on(w, 'pagehide', engine._hide);
  on(d, 'visibilitychange', () => { if (d.visibilityState == 'hidden') engine._hide(); });
})();
