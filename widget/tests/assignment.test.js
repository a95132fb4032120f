// widget/src/core/assignment.js against tests/conformance/bucketing.json (shared with tests/campaigns/test_assignment.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assign, fnv1a32 } from '../src/core/assignment.js';

const CASES = JSON.parse(readFileSync(new URL('../../tests/conformance/bucketing.json', import.meta.url), 'utf8'));

for (const c of CASES.fnv1a32) test(`fnv1a32 ${JSON.stringify(c.input)}`, () => assert.equal(fnv1a32(c.input), c.expected));

for (const c of CASES.assign) {
  test(`assign: ${c.name}`, () => {
    assert.equal(fnv1a32(`${c.campaign_id}:${c.visitor_id}`), c.hash);
    assert.deepEqual(assign(c.campaign_id, c.visitor_id, c.control_share, c.weights), c.expected);
  });
}

test('the split follows the weights and the control share', () => {
  const n = 20000, counts = { null: 0, 0: 0, 1: 0 };
  for (let i = 0; i < n; i++) counts[assign(42, `v_${i}`, 0.2, [25, 75]).index]++;
  assert.ok(Math.abs(counts.null / n - 0.2) < 0.02);
  assert.ok(Math.abs(counts[0] / n - 0.2) < 0.02);
  assert.ok(Math.abs(counts[1] / n - 0.6) < 0.02);
});
