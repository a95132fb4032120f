// Feedback: single or multiple choice plus optional free text, then thank-you.
import { open } from './kit.js';
import { feedbackScreen } from './form.js';

export function render(api) {
  const m = open(api);
  const c = api.content || {};
  m.steps(() => [c.headline && m.text('h2', c.headline), c.body && m.html(c.body), feedbackScreen(m, c)]);
  return m;
}
