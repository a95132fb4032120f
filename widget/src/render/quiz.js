// Product quiz (content.quiz of a popup, slide-in or fullscreen): an intro, one question per screen, and a last
// screen with the product the answers scored highest. The result is computed from the answers, never stored.
import { open, h } from './kit.js';

// The product with the most points from the answers picked (the first listed on a tie, or when nothing scored).
// Every answer has its scores, whole numbers (campaigns/content.py).
export function quizWinner(quiz, picked) {
  const points = {};
  picked.forEach((a) => Object.keys(a.scores).forEach((id) => { points[id] = (points[id] || 0) + a.scores[id]; }));
  return quiz.products.reduce((best, p) => ((points[p.id] || 0) > (points[best.id] || 0) ? p : best), quiz.products[0]);
}

export function render(api) {
  const m = open(api), c = m._c, t = api.t, q = c.quiz, picked = [], n = q.questions.length;
  const result = () => {
    const p = quizWinner(q, picked);
    m._screen(
      m._text('h2', t.match),
      p.image && h('img', { src: p.image, alt: '' }),
      m._text('p', p.title, { class: 'pick', 'data-rt-product': p.id }),
      p.description && m._text('p', p.description),
      m._row(m._cta({ label: t.see, url: p.url }, m.close), m._btn(t.again, () => ask(0), 's')),
    );
  };
  const ask = (i) => {
    picked.length = i;
    if (i == n) return result();
    const question = q.questions[i];
    m._screen(h('fieldset', null,
      m._text('legend', question.question),
      h('p', { class: 'qn', text: `${i + 1} / ${n}` }),
      h('div', { class: 'ans' }, question.answers.map((a) => m._btn(a.label, () => { picked[i] = a; ask(i + 1); }, 's')))));
  };
  m._steps(() => [m._blocks(c), m._row(m._btn(t.start, () => ask(0)))]);
  return m;
}
