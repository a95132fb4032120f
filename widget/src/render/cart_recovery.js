// Cart recovery: a summary of the cart, a CTA back to it, and a "what stopped you?" step.
import { open, h } from './kit.js';
import { feedbackScreen } from './form.js';

export function render(api) {
  const m = open(api);
  const c = api.content || {};
  const cart = (api.visitor && api.visitor.cart) || { value: 0, items: [] };
  const items = (cart.items || []).slice(0, 3);
  const fb = c.feedback;
  m.steps(() => [
    m.blocks(c.headline ? c : { ...c, headline: 'You left something in your cart' }),
    h('p', null, m.tx('{{cart.count}} item(s) · {{cart.value}}')),
    items.length ? h('ul', { class: 'items' }, items.map((i) => h('li', { text: `${i.name || i.id} × ${i.qty || 1}` }))) : null,
    h('div', { class: 'row' },
      m.cta(c.cta || { label: 'Back to my cart', url: '/cart/' }, m.close),
      fb && h('button', {
        class: 'link', type: 'button', text: m.tx(fb.label || 'What stopped you?'),
        onclick: () => m.screen(feedbackScreen(m, { question: fb.question || fb.label || 'What stopped you?', options: fb.options || [] })),
      })),
  ]);
  return m;
}
