// popup, bar, slide_in, fullscreen: headline, body, image, countdown, CTA, optional steps.
import { open } from './kit.js';

export function render(api) {
  const m = open(api), c = m._c;
  m._steps(() => [m._blocks(c), m._row(m._cta(c.cta, m.close))]);
  return m;
}
