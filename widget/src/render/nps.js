// NPS: 0-10 buttons, a follow-up question that depends on the score, then thank-you.
import { open, h } from './kit.js';

export const band = (score) => (score <= 6 ? 'detractor' : score <= 8 ? 'passive' : 'promoter');
const FOLLOWUP = { detractor: 'What went wrong?', passive: 'What would make it a 10?', promoter: 'What do you love?' };

export function render(api) {
  const m = open(api);
  const c = api.content || {};
  let score = null;
  let sent = false;
  const submit = (followup) => {
    sent = true;
    api.submit({ form: 'nps', score, followup: followup || '' });
  };
  // A score picked and the box closed before the follow-up still counts.
  m.cleanup(() => { if (score !== null && !sent) submit(''); });

  const followup = () => {
    const id = 'rt-nps-f';
    const text = h('textarea', { id, rows: 3 });
    m.screen(
      m.text('label', (c.followup || {})[band(score)] || FOLLOWUP[band(score)], { for: id }),
      text,
      h('div', { class: 'row' }, h('button', { class: 'b', type: 'button', text: 'Send', onclick: () => { submit(text.value.trim()); m.thanks(); } })),
    );
  };
  const buttons = Array.from({ length: 11 }, (_, i) => h('button', {
    type: 'button', text: String(i), 'aria-pressed': 'false',
    onclick: () => { score = i; followup(); },
  }));
  m.steps(() => [
    c.headline && m.text('h2', c.headline),
    h('fieldset', null, m.text('legend', c.question || 'How likely are you to recommend us?'),
      h('div', { class: 'nps' }, buttons),
      h('div', { class: 'ends', 'aria-hidden': 'true' }, m.text('span', c.low_label || 'Not likely'), m.text('span', c.high_label || 'Very likely'))),
  ]);
  return m;
}
