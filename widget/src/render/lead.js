// Lead capture: email (validated), optional name/phone, consent checkbox, then the coupon and a lead magnet's link.
import { open, h, honeypot } from './kit.js';

export const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const TYPES = { email: 'email', phone: 'tel' };
const AUTO = { email: 'email', phone: 'tel', name: 'name' };

export function render(api) {
  const m = open(api), c = m._c, t = api.t, cta = c.cta || {};
  const fields = c.fields.map((f) => { // required, at least one (campaigns/content.py)
    const n = f.name;
    return [f, h('input', { name: n, type: TYPES[n] || 'text', autocomplete: AUTO[n], required: f.required })];
  });
  const consent = c.consent_label && h('input', { type: 'checkbox', required: true });
  const err = m._err();
  const [trap, trapped] = honeypot();

  const problem = () => {
    for (const [f, input] of fields) {
      const v = input.value.trim();
      input.removeAttribute('aria-invalid');
      const bad = f.required && !v ? t.fill.replace('#', f.label || f.name)
        : f.name == 'email' && v && !EMAIL_RE.test(v) ? t.email_bad : '';
      if (bad) { input.setAttribute('aria-invalid', 'true'); input.focus(); return bad; }
    }
    return consent && !consent.checked ? t.tick : '';
  };

  const coupon = () => {
    const cp = c.coupon;
    if (!cp) return m._thanks();
    const out = h('output', { text: cp.code });
    const copy = m._btn(t.copy, () => {
      const ok = () => { copy.textContent = t.copied; };
      // Without the clipboard API (http, old browsers) the code is selected for a manual copy.
      const select = () => { try { getSelection().selectAllChildren(out); } catch (_) { /* none */ } };
      try { navigator.clipboard.writeText(cp.code).then(ok, select); } catch (_) { select(); }
    }, 's');
    m._thanks(cp.label && m._text('p', cp.label), h('div', { class: 'code' }, out, copy),
      m._row((cta.url && m._cta(cta, m.close)) || m._btn(t.done, m._dismiss)));
  };

  const form = h('form', { novalidate: true }, fields.map(([f, input]) => m._labelled(f.label || f.name, input)),
    consent && m._option(consent, c.consent_label), trap,
    err, m._row(h('button', { class: 'b', type: 'submit', text: m._tx((!cta.url && cta.label) || t.subscribe) })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const bad = problem(), data = { form: 'lead' };
    err.textContent = bad;
    if (bad) return;
    fields.forEach(([f, input]) => { data[f.name] = input.value.trim(); });
    if (consent) data.consent = consent.checked;
    // A lead magnet: its link joins the thank-you once the server has stored the lead.
    api.submit(trapped(data), c.magnet && ((url, text) => m._box.append(m._row(h('a', { class: 'b', href: url, text })))));
    coupon();
  });
  m._steps(() => [m._blocks(c), form]);
  return m;
}
