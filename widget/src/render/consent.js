// Consent banner: accept all and reject all equally prominent, or choose categories.
import { open, h } from './kit.js';

const DEFAULT_CATEGORIES = [{ id: 'necessary', label: 'Necessary', required: true }, { id: 'marketing', label: 'Marketing' }];

export function render(api) {
  const m = open(api);
  const c = api.content || {};
  const policy = api.policy || {};
  const cats = c.categories && c.categories.length ? c.categories : DEFAULT_CATEGORIES;
  const all = cats.map((x) => x.id);
  const decide = (decision, categories) => { api.consent(decision, categories); m.close(); };
  const btn = (cls, label, fn) => h('button', { class: cls, type: 'button', text: m.tx(label), onclick: fn });
  const link = policy.policy_url && h('a', { href: policy.policy_url, target: '_blank', rel: 'noopener', text: m.tx(c.policy_label || 'Privacy policy') });

  const choose = () => {
    const boxes = cats.map((x) => h('input', { type: 'checkbox', value: x.id, checked: !!x.required, disabled: !!x.required }));
    m.screen(
      h('fieldset', null, m.text('legend', c.customize_label || 'Choose'),
        cats.map((x, i) => h('label', { class: 'opt' }, boxes[i], m.text('span', x.label), x.description && m.text('small', ' ' + x.description)))),
      h('div', { class: 'row' }, btn('b', c.save_label || 'Save choices', () => {
        const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
        decide(chosen.length === all.length ? 'granted' : 'custom', chosen);
      })),
    );
  };
  m.steps(() => [
    m.blocks({ headline: c.headline || 'Your privacy', body: c.body }),
    link && h('p', null, link),
    h('div', { class: 'row' },
      btn('b', c.accept_label || 'Accept all', () => decide('granted', all)),
      btn('b', c.reject_label || 'Reject all', () => decide('denied', cats.filter((x) => x.required).map((x) => x.id))),
      btn('link', c.customize_label || 'Choose', choose)),
  ]);
  return m;
}
