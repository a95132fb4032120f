// Shared by every renderer: the shadow root, the message shell, focus handling, text,
// marketer HTML, countdown and multi-step screens.
//
// A renderer module exports render(api) -> {el, close()} where api, built by the show path (src/lazy/show.js;
// content, visitor and policy are always objects), is
// {campaign, variant, type, display: overlay|fullscreen|bar|slide_in, position, content, lang, t (the words of
//  that language, src/lang/, with the variant's own words over them: content.strings, which the server fills from the
//  older label fields too, campaigns/targeting/compile.py), visitor, firstShown, nonce, policy, on, click(url), submit(data), closed(), consent(decision, categories)}.
// close() removes the message without an event; the visitor's close calls api.closed().
import { CSS } from './styles.js';
import { fill, placeholderData } from './placeholders.js';

export const ROOT_ID = 'retarget-root';
// What the renderers build that takes focus (the honeypot and a required category's checkbox do not).
const FOCUSABLE = 'a[href],button,input:not([disabled]):not([tabindex="-1"]),textarea';
const KEEP = /^(P|BR|STRONG|EM|B|I|U|A|UL|OL|LI|SPAN|SMALL)$/;
const D = document;
let _ids = 0;

// Children to append: null, false and '' are left out.
const kids = (list) => list.flat(9).filter((n) => n != null && n !== false && n !== '');

// h('button', {class: 'b', text: 'OK', type: 'button'}, child...): text via textContent only.
export function h(tag, props, ...children) {
  const el = D.createElement(tag);
  for (const k in props) {
    const v = props[k];
    if (v == null || v === false) continue;
    if (k == 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...kids(children));
  return el;
}

export const uid = (p) => `rt-${p}-${++_ids}`;

// A field people never meet (off-screen, hidden from assistive technology, skipped by Tab and autofill) that
// form-filling bots fill in. Returns [element, add(data)]: add puts its value in the answer only when filled, and
// the server refuses such an answer.
export function honeypot() {
  const input = h('input', { type: 'text', name: 'homepage', tabindex: '-1', autocomplete: 'off' });
  return [h('div', { class: 'hp', 'aria-hidden': 'true' }, input), (data) => {
    if (input.value) data.hp = input.value;
    return data;
  }];
}

// The one host element, with an open shadow root holding the stylesheet.
export function root(nonce) {
  let host = D.getElementById(ROOT_ID);
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
  D.body.append(host);
  return sr;
}

const safeHref = (href) => {
  try { return /^(https?|mailto):$/.test(new URL(href, location.href).protocol) ? href : null; } catch (_) { return null; }
};

// Marketer HTML re-built node by node from an inert document, as text nodes and the elements of KEEP. The server has
// sanitized it with the same allow-list (campaigns/content.py, nh3, when saved and again in the config), so no other
// element reaches here; one that did would be unwrapped to its text, never markup.
export function html(src, tx) {
  const frag = D.createDocumentFragment();
  let doc;
  try { doc = new DOMParser().parseFromString(String(src), 'text/html'); } catch (_) {
    frag.append(tx(String(src).replace(/<[^>]*>/g, ' '))); // Trusted Types or no parser: text only
    return frag;
  }
  const copy = (from, to) => from.childNodes.forEach((n) => {
    const tag = n.tagName, attr = (a) => n.getAttribute(a);
    if (n.nodeType == 3) to.append(tx(n.data));
    if (n.nodeType != 1) return;
    if (!KEEP.test(tag)) return copy(n, to);
    const el = D.createElement(tag);
    if (tag == 'A') {
      const href = safeHref(attr('href') || '');
      if (href) el.setAttribute('href', href);
      if (attr('title')) el.setAttribute('title', attr('title'));
      if (attr('target') == '_blank') { el.target = '_blank'; el.rel = 'noopener noreferrer'; }
    }
    copy(n, el);
    to.append(el);
  });
  copy(doc.body, frag);
  return frag;
}

const pad = (n) => String(n).padStart(2, '0');
export function countdownText(ms, days = '#d') {
  const s = Math.max(0, Math.floor(ms / 1000)), d = Math.floor(s / 86400);
  return (d ? days.replace('#', d) + ' ' : '') + [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60].map(pad).join(':');
}

// Opens the shell of a message and returns the toolkit `m` the renderers build with.
export function open(api) {
  const c = api.content, display = api.display, pos = api.position, t = api.t;
  const overlay = display == 'overlay' || display == 'fullscreen';
  const data = placeholderData(api.visitor);
  const tx = (s) => fill(s, data);
  const titleId = uid('t'), cleanups = [], prev = D.activeElement;
  const box = h('div', { class: 'box' });
  const el = h('div', {
    class: 'm ' + (overlay ? 'ov' + (display == 'fullscreen' ? ' fs' : '')
      : display == 'bar' ? 'bar ' + (pos == 'top' ? 'top' : 'bottom')
        : 'corner ' + (/^(top|bottom)_(left|right)$/.test(pos) ? pos : 'bottom_right').replace('_', ' ')),
    'data-rt-campaign': api.campaign.id, 'data-rt-variant': api.variant.id,
    'data-rt-type': api.type, role: overlay ? 'dialog' : 'region', 'aria-modal': overlay && 'true',
    'aria-labelledby': titleId, lang: api.lang, dir: t.dir,
  }, overlay && h('div', { class: 'bd' }), box);
  const colors = c.colors || {};
  [['--bg', colors.background], ['--fg', colors.text], ['--ac', colors.accent]].forEach(([k, v]) => v && el.style.setProperty(k, v));
  const focusables = () => [...box.querySelectorAll(FOCUSABLE)];

  let done = false;
  const m = {
    el, _box: box, _tx: tx, _api: api, _c: c,
    _text: (tag, s, props) => h(tag, { ...props, text: tx(s) }),
    _html: (s) => h('div', { class: 'body' }, html(s, tx)),
    _cleanup: (fn) => cleanups.push(fn),
    // A button with a text (placeholders filled) and a click handler; class b (primary) by default.
    _btn: (label, onclick, cls = 'b') => h('button', { class: cls, type: 'button', text: tx(label), onclick }),
    _row: (...nodes) => h('div', { class: 'row' }, nodes),
    // Where a form says what is missing (read out when it changes).
    _err: () => h('p', { class: 'err', role: 'alert' }),
    // A field and its label, tied by a fresh id.
    _labelled(label, field) {
      field.id = uid('f');
      return [m._text('label', label, { for: field.id }), field];
    },
    // A checkbox or radio button with its text beside it.
    _option: (input, text, more) => h('label', { class: 'opt' }, input, m._text('span', text), more),
    // Replace the content of the box (a new step), keeping the close button.
    _screen(...nodes) {
      box.replaceChildren(closeBtn, ...kids(nodes));
      const t = box.querySelector('h2,legend');
      if (t) t.id = titleId; else el.removeAttribute('aria-labelledby');
      if (overlay) m._focusFirst();
    },
    _focusFirst() {
      const f = focusables();
      (f.find((x) => x != closeBtn) || f[0] || box).focus({ preventScroll: true });
    },
    // headline, body, image and countdown of a block (the main content, a step, a thank-you)
    _blocks: (b) => [
      b.image && h('img', { src: b.image, alt: '' }),
      b.headline && m._text('h2', b.headline),
      b.body && m._html(b.body),
      b == c && m._countdown(),
    ],
    _countdown() {
      const cd = c.countdown;
      if (!cd) return null;
      const end = cd.ends_at ? Date.parse(cd.ends_at) : (api.firstShown || Date.now()) + (cd.minutes || 0) * 60e3;
      if (!(end > 0)) return null;
      const out = h('span'), tick = () => { out.textContent = countdownText(end - Date.now(), t.days); };
      tick();
      const timer = setInterval(tick, 1000);
      cleanups.push(() => clearInterval(timer));
      return h('p', { class: 'cd' }, cd.label ? tx(cd.label) + ' ' : '', out);
    },
    _cta(cta, onClick) {
      if (!cta) return null; // a CTA has its label (campaigns/content.py)
      const click = () => { api.click(cta.url || null); if (onClick) onClick(); };
      return cta.url ? h('a', { class: 'b', href: safeHref(cta.url), text: tx(cta.label), onclick: click }) : m._btn(cta.label, click);
    },
    // The thank-you screen, with a close button unless other nodes are given.
    _thanks(...more) {
      const y = c.thank_you || {};
      m._screen(m._blocks({ headline: y.headline || t.thanks, body: y.body }), more.length ? more : m._row(m._btn(t.done, m._dismiss)));
    },
    // Steps first (each CTA moves on), then the main screen built by main().
    _steps(main) {
      const steps = c.steps || [];
      const go = (i) => m._screen(i < steps.length ? [m._blocks(steps[i]), m._row(m._btn((steps[i].cta || {}).label || t.next, () => go(i + 1)))] : main());
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
    _dismiss() { if (!done) { m.close(); api.closed(); } },
  };
  const closeBtn = h('button', { class: 'x', type: 'button', 'aria-label': t.close, text: '×', onclick: m._dismiss });

  el.addEventListener('keydown', (e) => {
    if (e.key == 'Escape') { e.stopPropagation(); m._dismiss(); }
    if (e.key != 'Tab' || !overlay) return;
    const f = focusables(), i = f.indexOf(el.getRootNode().activeElement), last = f.length - 1;
    if (e.shiftKey ? i <= 0 : i == last) { e.preventDefault(); f[e.shiftKey ? last : 0].focus(); }
  });
  if (overlay) {
    // Focus that escapes to the page (a click behind, a screen reader) comes back.
    cleanups.push(api.on(D, 'focusin', (e) => { if (e.target != D.getElementById(ROOT_ID)) m._focusFirst(); }));
  }
  root(api.nonce).append(el);
  return m;
}
