import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuid, shortId } from '../src/core/util.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const timeOf = (id) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

test('event ids are UUID version 7 carrying the time they were made', () => {
  const before = Date.now(), id = uuid(), after = Date.now();
  assert.match(id, V7);
  assert.ok(timeOf(id) >= before && timeOf(id) <= after, `${timeOf(id)} not in [${before}, ${after}]`);
});

test('an event id made in a later millisecond sorts after an earlier one', async () => {
  const first = uuid();
  await new Promise((resolve) => setTimeout(resolve, 2));
  const second = uuid();
  assert.ok(second > first, `${second} <= ${first}`);
});

test('event ids made in the same millisecond still differ', () => {
  const ids = Array.from({ length: 5000 }, uuid);
  assert.equal(new Set(ids).size, ids.length);
  ids.forEach((id) => assert.match(id, V7));
});

test('visitor and session ids are 80 random bits, with no time in them', () => {
  const ids = Array.from({ length: 5000 }, () => shortId('v_'));
  assert.equal(new Set(ids).size, ids.length);
  ids.forEach((id) => assert.match(id, /^v_[0-9a-f]{20}$/));
  // Made in the same few milliseconds, they do not share a leading time part as version 7 ids do.
  assert.ok(new Set(ids.map((id) => id.slice(2, 8))).size > 4000);
});
