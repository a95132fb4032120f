// Cart recovery: a summary of the cart, a CTA back to it, and a "what stopped you?" step.
import { open, h } from './kit.js';
import { feedbackScreen } from './form.js';
import { plural } from '../lazy/lang.js';
import { placeholderData } from './placeholders.js';

export function render(api) {
  const m = open(api), c = m._c, t = api.t, fb = c.feedback, stop = t.stopped;
  const items = ((api.visitor.cart || {}).items || []).slice(0, 3);
  m._steps(() => [
    m._blocks(c.headline ? c : { ...c, headline: t.cart_headline }),
    h('p', null, m._tx(plural(t.items, placeholderData(api.visitor).cart.count, api.lang) + ' · {{cart.value}}')),
    items.length ? h('ul', { class: 'items' }, items.map((i) => h('li', { text: `${i.name || i.id} × ${i.qty || 1}` }))) : null,
    m._row(
      m._cta(c.cta || { label: t.cart_cta, url: '/cart/' }, m.close),
      fb && m._btn(fb.label || stop, () => m._screen(feedbackScreen(m, { question: fb.question || fb.label || stop, options: fb.options })), 'link')),
  ]);
  return m;
}
