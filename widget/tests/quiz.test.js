import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

// kit.js (imported by the renderer) keeps a reference to the document; scoring needs none.
globalThis.document = globalThis.document || {};
const { quizWinner } = await import('../src/render/quiz.js');

// The gallery's product quiz, as the server validated it.
const template = JSON.parse(fs.readFileSync(new URL('../../campaigns/gallery/catalog/product_quiz.json', import.meta.url)));
const quiz = template.variants[0].content.quiz;
const pick = (...labels) => labels.map((label, i) => quiz.questions[i].answers.find((a) => a.label == label));

const CASES = [
  [['On roads and pavements', 'Longer than that', 'Speed'], 'road-runner'],
  [['On trails and in the mountains', 'Longer than that', 'Grip'], 'trail-master'],
  [['A bit of both', 'Under 5 km', 'Comfort'], 'daily-trainer'],
  [['On roads and pavements', 'Under 5 km', 'Comfort'], 'daily-trainer'], // 1 + 2 + 2 beats road-runner's 3
  [['On trails and in the mountains', 'Under 5 km', 'Comfort'], 'daily-trainer'], // 4 against 3
];

for (const [labels, expected] of CASES) {
  test(`the answers ${labels.join(' / ')} lead to ${expected}`, () => {
    assert.equal(quizWinner(quiz, pick(...labels)).id, expected);
  });
}

test('a tie goes to the product listed first, and no answer at all to the first product', () => {
  const products = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  assert.equal(quizWinner({ products }, [{ scores: { b: 2, c: 2 } }]).id, 'b');
  assert.equal(quizWinner({ products }, [{ scores: { c: 2 } }, { scores: { b: 1 } }, { scores: { b: 1 } }]).id, 'b');
  assert.equal(quizWinner({ products }, []).id, 'a');
});
