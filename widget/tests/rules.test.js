// widget/src/rules.js against tests/conformance/rules.json (the same cases as tests/campaigns/test_rules.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ruleMatches, explain, decide, parseTime, weekdayHour } from '../src/rules.js';

const CASES = JSON.parse(readFileSync(new URL('../../tests/conformance/rules.json', import.meta.url), 'utf8'));
// A case's context: inline, or the name of a shared one.
const contextOf = (c) => (typeof c.context == 'string' ? CASES.contexts[c.context] : c.context);

for (const c of CASES.rules) {
  test(`rule: ${c.name}`, () => {
    const tz = c.tz || 'UTC';
    assert.equal(ruleMatches(c.rule, contextOf(c), tz), c.expected);
    const why = explain(c.rule, contextOf(c), tz);
    assert.equal(why === null, c.expected);
    if ('explain' in c) assert.equal(why && why.path, c.explain);
  });
}

for (const c of CASES.decide) {
  test(`decide: ${c.name}`, () => {
    const result = decide(c.config, contextOf(c)), ex = c.expected, rows = result.campaigns, byId = {};
    for (const row of rows) byId[row.id] = row;
    const got = {
      order: rows.map((r) => r.id),
      armed: rows.filter((r) => r.armed).map((r) => r.id),
      holdout: rows.filter((r) => r.holdout).map((r) => r.id),
      overlay: result.overlay,
    };
    for (const key of ['order', 'armed', 'holdout', 'overlay']) if (key in ex) assert.deepEqual(got[key], ex[key], key);
    for (const [key, field] of [['reasons', 'reason'], ['paths', 'path'], ['variants', 'variant'], ['triggers', 'triggers']]) {
      for (const [id, value] of Object.entries(ex[key] || {})) assert.deepEqual(byId[id][field], value, `${key} ${id}`);
    }
  });
}

test('at least 200 cases', () => assert.ok(CASES.rules.length + CASES.decide.length >= 200));

test('explain names the leaf and its value', () => {
  assert.deepEqual(explain({ all: [{ attr: 'path', op: 'starts_with', value: '/blog/' }] }, { url: 'https://shop.example/cart' }), {
    path: 'targeting.all[0]', text: 'path starts_with "/blog/" did not match (path is "/cart")',
  });
});

test('parseTime reads ISO with an offset only', () => {
  assert.equal(parseTime('2026-01-01T01:00:00+01:00'), 1767225600000);
  assert.equal(parseTime('2026-01-01T00:00:00.5Z'), 1767225600500);
  assert.equal(parseTime('2026-01-01T00:00:00'), null);
  assert.equal(parseTime('0001-01-01T00:00:00Z'), null);
});

test('weekday and hour follow DST', () => {
  assert.deepEqual(weekdayHour(parseTime('2026-03-29T00:59:00Z'), 'Europe/Paris'), [6, 1]);
  assert.deepEqual(weekdayHour(parseTime('2026-03-29T01:00:00Z'), 'Europe/Paris'), [6, 3]);
  assert.deepEqual(weekdayHour(parseTime('2026-01-01T00:00:00Z'), 'Not/AZone'), [3, 0]);
});

test('malformed rules and contexts never throw', () => {
  const junk = [null, 1, 'x', [], {}, { all: 1 }, { any: [null, 2] }, { not: [] }, { attr: 'path', op: 'regex', value: {} },
    { attr: 'visited', op: 'contains', value: 1, min_count: 'x' }, { attr: 'attrs.__proto__', op: 'exists' },
    { attr: 'cookie.toString', op: 'exists' }, { attr: 'campaign.constructor.seen', op: 'gt', value: 0 }];
  const contexts = [{}, { url: 5, visitor: [] }, { visitor: { visited: [1, null, {}], cart: { items: [null, [], { qty: 'x' }] } } }];
  for (const r of junk) for (const c of contexts) {
    assert.equal(typeof ruleMatches(r, c), 'boolean');
    assert.equal(explain(r, c) === null, ruleMatches(r, c));
  }
  assert.equal(ruleMatches({ attr: 'attrs.constructor', op: 'exists' }, { visitor: { attrs: {} } }), false);
});
