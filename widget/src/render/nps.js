// NPS: 0-10 buttons, a follow-up question that depends on the score, then thank-you.
import { open, h } from './kit.js';

export const band = (score) => (score <= 6 ? 'detractor' : score <= 8 ? 'passive' : 'promoter');

export function render(api) {
  const m = open(api), c = m._c, t = api.t;
  let score = null, sent = false;
  const submit = (followup) => {
    sent = true;
    api.submit({ form: 'nps', score, followup });
  };
  // A score picked and the box closed before the follow-up still counts.
  m._cleanup(() => { if (score !== null && !sent) submit(''); });

  const followup = () => {
    const b = band(score), text = h('textarea', { rows: 3 });
    m._screen(
      m._labelled(t[b], text),
      m._row(m._btn(t.send, () => { submit(text.value.trim()); m._thanks(); })),
    );
  };
  m._steps(() => [
    m._blocks({ headline: c.headline }),
    h('fieldset', null, m._text('legend', t.nps_question),
      h('div', { class: 'nps' }, Array.from({ length: 11 }, (_, i) => h('button', {
        type: 'button', text: i, onclick: () => { score = i; followup(); },
      }))),
      h('div', { class: 'ends', 'aria-hidden': 'true' }, m._text('span', t.low), m._text('span', t.high))),
  ]);
  return m;
}
