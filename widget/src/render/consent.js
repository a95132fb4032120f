// Consent banner: accept all and reject all equally prominent, or choose categories.
import { open, h } from './kit.js';

const DEFAULT_CATEGORIES = [{ id: 'necessary', label: 'Necessary', required: true }, { id: 'marketing', label: 'Marketing' }];

export function render(api) {
  const m = open(api), c = m._c, policy = api.policy, choose = c.customize_label || 'Choose';
  const cats = c.categories && c.categories.length ? c.categories : DEFAULT_CATEGORIES;
  const ids = (l) => l.map((x) => x.id || x.value), all = ids(cats);
  const decide = (decision, categories) => { api.consent(decision, categories); m.close(); };

  m._steps(() => [
    m._blocks({ headline: c.headline || 'Your privacy', body: c.body }),
    policy.policy_url && h('p', null, h('a', { href: policy.policy_url, target: '_blank', rel: 'noopener', text: m._tx(c.policy_label || 'Privacy policy') })),
    m._row(
      m._btn(c.accept_label || 'Accept all', () => decide('granted', all)),
      m._btn(c.reject_label || 'Reject all', () => decide('denied', ids(cats.filter((x) => x.required)))),
      m._btn(choose, () => {
        const boxes = cats.map((x) => h('input', { type: 'checkbox', value: x.id, checked: !!x.required, disabled: !!x.required }));
        m._screen(
          h('fieldset', null, m._text('legend', choose),
            cats.map((x, i) => m._option(boxes[i], x.label, x.description && m._text('small', ' ' + x.description)))),
          m._row(m._btn(c.save_label || 'Save choices', () => {
            const chosen = ids(boxes.filter((b) => b.checked));
            decide(chosen.length == all.length ? 'granted' : 'custom', chosen);
          })),
        );
      }, 'link')),
  ]);
  return m;
}
