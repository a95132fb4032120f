// popup, bar, slide_in, fullscreen: headline, body, image, countdown, CTA, optional steps.
import { open, h } from './kit.js';

export function render(api) {
  const m = open(api);
  const c = m.api.content || {};
  m.steps(() => [m.blocks(c), h('div', { class: 'row' }, m.cta(c.cta, m.close))]);
  return m;
}
