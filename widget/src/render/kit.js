// Shared by every renderer: the shadow root, the message shell, focus handling, text,
// marketer HTML, countdown and multi-step screens.
//
// A renderer module exports render(api) -> {el, close()} where api, built by the core, is
// {campaign, variant, type, display: overlay|fullscreen|bar|slide_in, position, content,
//  visitor, firstShown, nonce, policy, on, click(url), submit(data), closed(), consent(decision, categories)}.
// close() removes the message without an event; the visitor's close calls api.closed().
import { CSS } from './styles.js';
import { fill, placeholderData } from '../placeholders.js';

export const ROOT_ID = 'retarget-root';
const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]),textarea,select,[tabindex]:not([tabindex="-1"])';
const KEEP = /^(P|BR|STRONG|EM|B|I|U|A|UL|OL|LI|SPAN|SMALL)$/;
const DROP = /^(SCRIPT|STYLE|TEMPLATE|NOSCRIPT|IFRAME|OBJECT|EMBED|SVG|MATH|TITLE)$/;
let _ids = 0;

// h('button', {class: 'b', text: 'OK', type: 'button'}, child...): text via textContent only.
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  Object.entries(props || {}).forEach(([k, v]) => {
    if (v == null || v === false) return;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  });
  kids.flat(9).forEach((c) => c != null && c !== false && el.append(c));
  return el;
}

export const uid = (p) => `rt-${p}-${++_ids}`;

// The one host element, with an open shadow root holding the stylesheet.
export function root(nonce) {
  let host = document.getElementById(ROOT_ID);
  if (host && host.shadowRoot) return host.shadowRoot;
  host = h('div', { id: ROOT_ID });
  const sr = host.attachShadow({ mode: 'open' });
  try {
    // Constructable stylesheets are not blocked by a strict style-src.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    sr.adoptedStyleSheets = [sheet];
  } catch (_) {
    sr.append(h('style', { nonce, text: CSS }));
  }
  document.body.append(host);
  return sr;
}

const safeHref = (href) => {
  try { return /^(https?|mailto):$/.test(new URL(href, location.href).protocol) ? href : null; } catch (_) { return null; }
};

// Marketer HTML (sanitized by the server) re-built node by node from an inert document.
export function html(src, tx) {
  const frag = document.createDocumentFragment();
  let doc;
  try { doc = new DOMParser().parseFromString(String(src), 'text/html'); } catch (_) {
    frag.append(tx(String(src).replace(/<[^>]*>/g, ' '))); // Trusted Types or no parser: text only
    return frag;
  }
  const copy = (from, to) => from.childNodes.forEach((n) => {
    if (n.nodeType === 3) to.append(tx(n.data));
    if (n.nodeType !== 1 || DROP.test(n.tagName)) return;
    if (!KEEP.test(n.tagName)) return copy(n, to);
    const el = document.createElement(n.tagName);
    if (n.tagName === 'A') {
      const href = safeHref(n.getAttribute('href') || '');
      if (href) el.setAttribute('href', href);
      if (n.getAttribute('title')) el.setAttribute('title', n.getAttribute('title'));
      if (n.getAttribute('target') === '_blank') { el.target = '_blank'; el.rel = 'noopener noreferrer'; }
    }
    copy(n, el);
    to.append(el);
  });
  copy(doc.body, frag);
  return frag;
}

const pad = (n) => String(n).padStart(2, '0');
export function countdownText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  return (d ? d + 'd ' : '') + [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60].map(pad).join(':');
}

// Opens the shell of a message and returns the toolkit `m` the renderers build with.
export function open(api) {
  const c = api.content || {};
  const overlay = api.display === 'overlay' || api.display === 'fullscreen';
  const data = placeholderData(api.visitor || {});
  const tx = (s) => fill(s, data);
  const titleId = uid('t');
  const cleanups = [];
  const prev = document.activeElement;
  const cls = overlay ? `m ov${api.display === 'fullscreen' ? ' fs' : ''}`
    : api.display === 'bar' ? `m bar ${api.position === 'top' ? 'top' : 'bottom'}`
      : `m corner ${/^(top|bottom)_(left|right)$/.test(api.position) ? api.position : 'bottom_right'}`;
  const box = h('div', { class: 'box' });
  const el = h('div', {
    class: cls, 'data-rt-campaign': api.campaign.id, 'data-rt-variant': api.variant ? api.variant.id : '',
    'data-rt-type': api.type, role: overlay ? 'dialog' : 'region', 'aria-modal': overlay ? 'true' : null,
    'aria-labelledby': titleId,
  }, overlay && h('div', { class: 'bd' }), box);
  const colors = c.colors || {};
  [['--bg', colors.background], ['--fg', colors.text], ['--ac', colors.accent]].forEach(([k, v]) => v && el.style.setProperty(k, v));

  let done = false;
  const m = {
    el, box, tx, api, titleId,
    text: (tag, s, props) => h(tag, { ...props, text: tx(s) }),
    html: (s) => h('div', { class: 'body' }, html(s, tx)),
    cleanup: (fn) => cleanups.push(fn),
    // Replace the content of the box (a new step), keeping the close button.
    screen(...nodes) {
      box.replaceChildren(closeBtn, ...nodes.flat(9).filter((n) => n != null && n !== false && n !== ""));
      const t = box.querySelector('h2,legend');
      if (t) t.id = titleId; else el.removeAttribute('aria-labelledby');
      if (overlay) m.focusFirst();
    },
    focusFirst() {
      const f = [...box.querySelectorAll(FOCUSABLE)];
      (f.find((x) => x !== closeBtn) || f[0] || box).focus({ preventScroll: true });
    },
    // headline, body, image and countdown of a block (the main content, a step, a thank-you)
    blocks(b) {
      return [
        b.image && h('img', { src: b.image, alt: '' }),
        b.headline && m.text('h2', b.headline),
        b.body && m.html(b.body),
        b === c && m.countdown(),
      ];
    },
    countdown() {
      const cd = c.countdown;
      if (!cd) return null;
      const end = cd.ends_at ? Date.parse(cd.ends_at) : (api.firstShown || Date.now()) + (cd.minutes || 0) * 60e3;
      if (!(end > 0)) return null;
      const out = h('span');
      const tick = () => { out.textContent = countdownText(end - Date.now()); };
      tick();
      const t = setInterval(tick, 1000);
      cleanups.push(() => clearInterval(t));
      return h('p', { class: 'cd' }, cd.label ? tx(cd.label) + ' ' : '', out);
    },
    cta(cta, onClick) {
      if (!cta || !cta.label) return null;
      const click = () => { api.click(cta.url || null); if (onClick) onClick(); };
      return cta.url ? h('a', { class: 'b', href: safeHref(cta.url), text: tx(cta.label), onclick: click })
        : h('button', { class: 'b', type: 'button', text: tx(cta.label), onclick: click });
    },
    thanks() {
      const t = c.thank_you || {};
      m.screen(m.blocks({ headline: t.headline || 'Thank you!', body: t.body }),
        h('div', { class: 'row' }, h('button', { class: 'b', type: 'button', text: tx(c.close_label || 'Close'), onclick: m.dismiss })));
    },
    // Steps first (each CTA moves on), then the main screen built by main().
    steps(main) {
      const steps = c.steps || [];
      const go = (i) => (i < steps.length
        ? m.screen(m.blocks(steps[i]), h('div', { class: 'row' },
          h('button', { class: 'b', type: 'button', text: tx((steps[i].cta || {}).label || 'Next'), onclick: () => go(i + 1) })))
        : m.screen(main()));
      go(0);
    },
    close() {
      if (done) return;
      done = true;
      cleanups.forEach((fn) => fn());
      el.remove();
      if (overlay && prev && prev.focus) try { prev.focus({ preventScroll: true }); } catch (_) { /* gone */ }
    },
    // The visitor closes it.
    dismiss() { if (!done) { m.close(); api.closed(); } },
  };
  const closeBtn = h('button', { class: 'x', type: 'button', 'aria-label': 'Close', text: '×', onclick: m.dismiss });

  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.stopPropagation(); m.dismiss(); }
    if (e.key !== 'Tab' || !overlay) return;
    const f = [...box.querySelectorAll(FOCUSABLE)];
    const active = el.getRootNode().activeElement;
    const i = f.indexOf(active);
    if (e.shiftKey && i <= 0) { e.preventDefault(); f[f.length - 1].focus(); }
    if (!e.shiftKey && i === f.length - 1) { e.preventDefault(); f[0].focus(); }
  });
  if (overlay) {
    // Focus that escapes to the page (a click behind, a screen reader) comes back.
    cleanups.push(api.on(document, 'focusin', (e) => { if (e.target !== document.getElementById(ROOT_ID)) m.focusFirst(); }));
  }
  root(api.nonce).append(el);
  return m;
}
