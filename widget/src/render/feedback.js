// Feedback: single or multiple choice plus optional free text, then thank-you.
import { open } from './kit.js';
import { feedbackScreen } from './form.js';

export function render(api) {
  const m = open(api), c = m._c;
  m._steps(() => [m._blocks({ headline: c.headline, body: c.body }), feedbackScreen(m, c)]);
  return m;
}
