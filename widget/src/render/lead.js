// Lead capture: email (validated), optional name/phone, consent checkbox, then the coupon.
import { open, h, uid } from './kit.js';

export const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const TYPES = { email: 'email', phone: 'tel', name: 'text' };
const AUTO = { email: 'email', phone: 'tel', name: 'name' };

export function render(api) {
  const m = open(api);
  const c = api.content || {};
  const fields = (c.fields && c.fields.length ? c.fields : [{ name: 'email', label: 'Email', required: true }]).map((f) => {
    const id = uid('f');
    const input = h('input', { id, name: f.name, type: TYPES[f.name] || 'text', autocomplete: AUTO[f.name], required: f.required });
    return { f, input, nodes: [m.text('label', f.label || f.name, { for: id }), input] };
  });
  const consent = c.consent_label ? h('input', { type: 'checkbox', required: true }) : null;
  const err = h('p', { class: 'err', role: 'alert' });

  const problem = () => {
    for (const { f, input } of fields) {
      const v = input.value.trim();
      input.removeAttribute('aria-invalid');
      const bad = (f.required && !v) ? 'Please fill in ' + (f.label || f.name) + '.'
        : (f.name === 'email' && v && !EMAIL_RE.test(v)) ? 'Please enter a valid email address.' : '';
      if (bad) { input.setAttribute('aria-invalid', 'true'); input.focus(); return bad; }
    }
    return consent && !consent.checked ? 'Please tick the box to continue.' : '';
  };

  const coupon = () => {
    const cp = c.coupon;
    if (!cp) return m.thanks();
    const out = h('output', { text: cp.code });
    const copy = h('button', { class: 's', type: 'button', text: 'Copy' });
    copy.onclick = () => {
      const ok = () => { copy.textContent = 'Copied!'; };
      // Without the clipboard API (http, old browsers) the code is selected for a manual copy.
      const select = () => { try { getSelection().selectAllChildren(out); } catch (_) { /* none */ } };
      try { navigator.clipboard.writeText(cp.code).then(ok, select); } catch (_) { select(); }
    };
    const t = c.thank_you || {};
    m.screen(m.blocks({ headline: t.headline || 'Thank you!', body: t.body }),
      cp.label && m.text('p', cp.label),
      h('div', { class: 'code' }, out, copy),
      h('div', { class: 'row' }, (c.cta && c.cta.url && m.cta(c.cta, m.close)) || h('button', { class: 'b', type: 'button', text: 'Close', onclick: m.dismiss })));
  };

  const form = h('form', { novalidate: true }, fields.map((x) => x.nodes),
    consent && h('label', { class: 'opt' }, consent, m.text('span', c.consent_label)),
    err, h('div', { class: 'row' }, h('button', { class: 'b', type: 'submit', text: m.tx((c.cta && !c.cta.url && c.cta.label) || 'Subscribe') })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const bad = problem();
    err.textContent = bad;
    if (bad) return;
    const data = { form: 'lead' };
    fields.forEach(({ f, input }) => { data[f.name] = input.value.trim(); });
    if (consent) data.consent = consent.checked;
    api.submit(data);
    coupon();
  });
  m.steps(() => [m.blocks(c), form]);
  return m;
}
