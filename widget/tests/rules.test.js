// widget/src/core/rules.js against tests/conformance/rules.json (the same cases as tests/campaigns/test_rules.py),
// through rules.compiled.json: each case's rule and config as campaigns/targeting/compile.py compiles them for the
// widget (tests/campaigns/targeting/test_compile.py checks that the file is current). Paths come from debug.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ruleMatches, match, valueOf, contextOf, decide } from '../src/core/rules.js';
import { matched } from '../src/lazy/audiences.js';
import { explain, pathOf, whyText } from '../src/lazy/debug.js';

const read = (name) => JSON.parse(readFileSync(new URL(`../../tests/conformance/${name}`, import.meta.url), 'utf8'));
const CASES = read('rules.json'), COMPILED = read('rules.compiled.json');
const rt = { match, valueOf, contextOf };
// A case's context: inline, or the name of a shared one.
const contextOf_ = (c) => (typeof c.context == 'string' ? CASES.contexts[c.context] : c.context);

for (const c of CASES.rules) {
  test(`rule: ${c.name}`, () => {
    const { rule, tzo } = COMPILED.rules[c.name], context = contextOf_(c);
    assert.equal(ruleMatches(rule, context, tzo), c.expected);
    const why = explain(rule, c.rule, contextOf(context, tzo), rt);
    assert.equal(why === null, c.expected);
    if ('explain' in c) assert.equal(why && why[0], c.explain);
  });
}

for (const c of CASES.decide) {
  test(`decide: ${c.name}`, () => {
    const config = COMPILED.decide[c.name], context = contextOf_(c), ctx = contextOf(context, config.site.tzo);
    const result = decide(config, context), ex = c.expected, rows = result.campaigns, byId = {}, campaign = {};
    for (const row of rows) byId[row.id] = row;
    for (const k of config.campaigns) campaign[k.id] = k;
    const got = {
      order: rows.map((r) => r.id),
      armed: rows.filter((r) => r.armed).map((r) => r.id),
      holdout: rows.filter((r) => r.holdout).map((r) => r.id),
      overlay: result.overlay,
    };
    for (const key of ['order', 'armed', 'holdout', 'overlay']) if (key in ex) assert.deepEqual(got[key], ex[key], key);
    const field = {
      reasons: (r) => r.reason, variants: (r) => r.variant, triggers: (r) => campaign[r.id].triggers,
      paths: (r) => (r.armed ? null : pathOf(r, campaign[r.id], config.site.caps, ctx, rt)),
    };
    for (const key of Object.keys(field)) {
      for (const [id, value] of Object.entries(ex[key] || {})) assert.deepEqual(field[key](byId[id]), value, `${key} ${id}`);
    }
    if ('audiences' in ex) assert.deepEqual(matched(config.site.aud.audiences, match, ctx), ex.audiences, 'audiences');
  });
}

test('at least 200 cases', () => assert.ok(CASES.rules.length + CASES.decide.length >= 200));

test('every case has its compiled copy', () => {
  assert.deepEqual(Object.keys(COMPILED.rules).sort(), CASES.rules.map((c) => c.name).sort());
  assert.deepEqual(Object.keys(COMPILED.decide).sort(), CASES.decide.map((c) => c.name).sort());
});

test('explain names the leaf and its value', () => {
  const src = { all: [{ attr: 'path', op: 'starts_with', value: '/blog/' }] }, c = contextOf({ url: 'https://shop.example/cart' });
  const why = explain({ all: [[1, 0, 3, '/blog/', 0]] }, src, c, rt);
  assert.equal(why[0], 'targeting.all[0]');
  assert.equal(whyText(why, c, rt), 'path starts_with "/blog/" did not match (path is "/cart")');
});

test('weekday and hour come from the offsets in force', () => {
  // Europe/Paris around 2026-03-29 01:00Z: +60 min, then +120 (as rules_compile.tz_offsets sends it)
  const tzo = [60, 1774746000000, 120], at = (now) => [
    ruleMatches([10, 0, 1, [6], 0], { now }, tzo), ruleMatches([10, 1, 1, [1], 0], { now }, tzo), ruleMatches([10, 1, 1, [3], 0], { now }, tzo)];
  assert.deepEqual(at(1774745940000), [true, true, false]);
  assert.deepEqual(at(1774746000000), [true, false, true]);
  assert.equal(ruleMatches([10, 1, 1, [0], 0], { now: 1767225600000 }), true); // no offsets: UTC
});

test('malformed rules and contexts never throw', () => {
  const junk = [true, false, { all: [] }, { any: [] }, { not: false }, [3, ['visitor', 'attrs', '__proto__'], 0, null, 0],
    [3, ['cookies', 'toString'], 0, null, 0], [13, ['visitor', 'history', 'constructor', 'impressions'], 7, [0, null], 0],
    [3, ['visitor', 'visited'], 2, 1, 0, 'x'], [5, ['visitor', 'sessions'], 5, '(', 0]];
  const contexts = [{}, { url: 5, visitor: [] }, { visitor: { visited: [1, null, {}], cart: { items: [null, [], { qty: 'x' }] } } }];
  for (const r of junk) for (const c of contexts) assert.equal(typeof ruleMatches(r, c), 'boolean');
  assert.equal(ruleMatches([3, ['visitor', 'attrs', 'constructor'], 0, null, 0], { visitor: { attrs: {} } }), false);
});
