// Consent banner: accept all and reject all equally prominent, or choose categories.
import { open, h } from './kit.js';

export function render(api) {
  const m = open(api), c = m._c, t = api.t, policy = api.policy, choose = t.choose;
  const cats = c.categories; // required, at least one (campaigns/content.py)
  const ids = (l) => l.map((x) => x.id || x.value), all = ids(cats);
  const decide = (decision, categories) => { api.consent(decision, categories); m.close(); };

  m._steps(() => [
    m._blocks({ headline: c.headline || t.privacy, body: c.body }),
    policy.policy_url && h('p', null, h('a', { href: policy.policy_url, target: '_blank', rel: 'noopener', text: m._tx(t.policy) })),
    m._row(
      m._btn(t.accept, () => decide('granted', all)),
      m._btn(t.reject, () => decide('denied', ids(cats.filter((x) => x.required)))),
      m._btn(choose, () => {
        const boxes = cats.map((x) => h('input', { type: 'checkbox', value: x.id, checked: !!x.required, disabled: !!x.required }));
        m._screen(
          h('fieldset', null, m._text('legend', choose),
            cats.map((x, i) => m._option(boxes[i], x.label, x.description && m._text('small', ' ' + x.description)))),
          m._row(m._btn(t.save, () => {
            const chosen = ids(boxes.filter((b) => b.checked));
            decide(chosen.length == all.length ? 'granted' : 'custom', chosen);
          })),
        );
      }, 'link')),
  ]);
  return m;
}
