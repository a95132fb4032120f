// Previews: one campaign drawn by the visitors' own show path (resolve() of the renderer file) on a core of its own
// that remembers nothing and sends nothing. Two callers: the admin's preview frame (draw(), with a screen to open)
// and "Preview on my site" (start(), from the core when the page carries a signed preview link).
// Nothing here is imported by the renderer file: a shared module would split it into chunks.

/** @typedef {import('../core/engine.js').Core} Core */

// The query parameter of a preview link; the tab keeps it in window.name as `retarget_preview=<token>`, the text
// the core looks for in the URL's query and in window.name. window.name lasts as long as the tab stays on the site
// (browsers clear it on a navigation to another site), as a sessionStorage key would, and the core can read it
// without the synchronous call to the browser that a page's first sessionStorage access costs.
export const PARAM = 'retarget_preview';
const forget = () => { if (window.name.startsWith(PARAM)) window.name = ''; };
const noop = () => {};

// The admin's frame has no core: the few members the show path uses.
const FRAME = {
  _device: 'desktop',
  on(t, type, fn, o) { t.addEventListener(type, fn, o); return () => t.removeEventListener(type, fn, o); },
  _safe: (fn) => function () { try { return fn.apply(this, arguments); } catch (e) { console.warn('[retarget preview]', e); } },
  _warn: (e) => console.warn('[retarget preview]', e),
};

// A visitor with a cart, so that cart placeholders show a value in the admin.
const SAMPLE = {
  history: {}, attrs: {}, utm: {}, sessions: 1, first_touch: { referrer: '' },
  cart: { value: 59.9, items: [{ id: 'sample', name: 'Sample product', qty: 2, price: 29.95 }] },
};

// A core for one campaign c and its variant v: eligible now, no cap, a state in memory, events dropped.
function previewCore(base, cfg, c, v, visitor) {
  const d = { history: {}, overlays: [], exposed: {}, variants: {}, session: { id: 's_preview' } };
  return {
    ...base, _cfg: () => cfg, _context: () => ({ visitor }), _eligible: () => new Map([[c.id, {}]]),
    _variantOf: () => v, _open: new Map(), _emit: noop, _notify: noop,
    _state: { data: d, _mut: (fn) => fn(d), _session: () => d.session, _now: Date.now },
  };
}

// The site's overlay cap is not applied: the owner asked to see this message. Async: the message's language table
// loads first.
async function show(render, base, config, visitor) {
  const cfg = { ...config, site: { ...config.site, caps: [] } }, c = cfg.campaigns[0];
  const x = previewCore(base, cfg, c, c.variants[0], visitor);
  await render.resolve(x, [c]);
  return x._open.get(c.id);
}

// The screens reached the way a visitor reaches them: by clicking through the real message. `screen` is one of the
// names campaigns/admin/live_preview.py lists: main, step:<i>, thanks, coupon, followup:<band>, question:<i>,
// result, feedback, choose.
function open(m, c, screen) {
  const box = m.el.querySelector('.box'), [name, arg] = screen.split(':'), n = +arg || 0;
  const buttons = () => [...box.querySelectorAll('button')];
  const press = (text) => { const b = buttons().find((x) => x.textContent == text); if (b) b.click(); return b; };
  const primary = () => { const b = box.querySelector('.row .b'); if (b) b.click(); };
  const steps = (c.variants[0].content.steps || []).length;
  for (let i = 0; i < (name == 'step' ? n : steps); i++) primary();
  if (name == 'step' || name == 'main') return;
  if (name == 'followup' || (name == 'thanks' && c.type == 'nps')) {
    press(String({ detractor: 0, passive: 7 }[arg] ?? 10));
    if (name == 'thanks') primary(); // Send, in the message's language
    return;
  }
  if (name == 'question' || name == 'result') {
    primary(); // the quiz's start
    for (let i = 0; i < (name == 'result' ? Infinity : n); i++) {
      const a = box.querySelector('.ans button');
      if (!a) break;
      a.click();
    }
    return;
  }
  if (name == 'choose' || name == 'feedback' || c.type == 'cart_recovery') {
    const link = box.querySelector('.row .link');
    if (link) link.click();
    if (name != 'thanks') return;
  }
  const form = box.querySelector('form');
  if (form) {
    form.querySelectorAll('input').forEach((i) => {
      if (i.closest('.hp')) return;
      if (i.type == 'checkbox') i.checked = true;
      else i.value = i.type == 'email' ? 'you@example.com' : i.type == 'tel' ? '+1 555 0100' : 'Sam';
    });
    // the event, not requestSubmit(): a sandboxed frame without allow-forms submits nothing, not even the event
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    return;
  }
  const choice = box.querySelector('fieldset input');
  if (choice) choice.checked = true;
  const text = box.querySelector('textarea');
  if (text && !choice) text.value = 'Sample answer';
  primary(); // Send
}

/**
 * The admin's frame: the compiled config `cfg` of one campaign with one variant (campaigns/admin/live_preview.py),
 * drawn by `render` (the renderer file's module) at `screen`.
 */
export async function draw(render, cfg, screen) {
  const m = await show(render, FRAME, cfg, SAMPLE);
  if (m && screen) open(m, cfg.campaigns[0], screen);
  return m;
}

/**
 * The core found a preview link (or its token kept for this tab): the campaign it names is shown at once, and the
 * page's own campaigns are not run. `api` is the site's endpoint prefix (/api/w/<key>). The promise never settles:
 * the page's commands stay queued, so nothing is decided, stored or sent while previewing.
 * @param {Core} x @param {string} api
 */
export async function start(x, api) {
  let token = new URLSearchParams(location.search).get(PARAM);
  if (token) window.name = PARAM + '=' + token;
  else token = new URLSearchParams(window.name).get(PARAM);
  x._transport._send = noop;
  const r = await fetch(`${api}/preview?token=${encodeURIComponent(token || '')}`, { credentials: 'omit', cache: 'no-store' });
  const cfg = await r.json();
  if (!r.ok) {
    forget();
    throw Error('preview: ' + cfg.error);
  }
  await show(await x._load('render'), x, cfg, x._context().visitor);
  badge(x);
  return new Promise(noop);
}

// What the badge looks like: a corner the messages leave free, above an overlay's backdrop.
const BADGE_CSS = '.pv{position:fixed;left:12px;bottom:12px;z-index:2147483647;display:flex;gap:8px;align-items:center;'
  + 'padding:6px 10px;border-radius:6px;background:#1d2433;color:#fff;font:600 13px/1.2 system-ui,sans-serif;'
  + 'box-shadow:0 2px 8px rgba(0,0,0,.3)}.pv button{font:inherit;font-weight:400;color:#1d2433;background:#fff;'
  + 'border:0;border-radius:4px;padding:3px 8px;cursor:pointer}';

// "Preview" in the widget's shadow root (the message's, or one of its own when nothing could be shown), so the owner
// knows this page shows a preview; "Leave preview" forgets the tab's token and loads the page without it.
function badge(x) {
  const D = document, make = (tag, props) => Object.assign(D.createElement(tag), props);
  let host = D.getElementById('retarget-root');
  if (!host || !host.shadowRoot) {
    host = make('div', { id: 'retarget-preview' });
    host.attachShadow({ mode: 'open' });
    D.body.append(host);
  }
  const sr = host.shadowRoot;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(BADGE_CSS);
    sr.adoptedStyleSheets = [...sr.adoptedStyleSheets, sheet];
  } catch (_) {
    sr.append(make("style", { nonce: x._nonce, textContent: BADGE_CSS }));
  }
  const leave = make('button', { type: 'button', textContent: 'Leave preview' });
  leave.addEventListener('click', () => {
    forget();
    const url = new URL(location.href);
    url.searchParams.delete(PARAM);
    location.replace(url.href);
  });
  const box = make('div', { className: 'pv' });
  box.setAttribute('role', 'status');
  box.setAttribute('data-rt-preview', '');
  box.append(make('span', { textContent: 'Preview' }), leave);
  sr.append(box);
}
