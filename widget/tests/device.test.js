// widget/src/core/device.js against tests/conformance/device.json (shared with tests/campaigns/test_device.py), and
// the segment that carries the device to the server (src/lazy/segment.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deviceOf } from '../src/core/device.js';
import { segment } from '../src/lazy/segment.js';

const { cases } = JSON.parse(readFileSync(new URL('../../tests/conformance/device.json', import.meta.url), 'utf8'));

for (const c of cases) test(`device: ${c.name}`, () => assert.equal(deviceOf(c.ua, c.touch_points), c.device));

test('the cases cover every device', () => {
  assert.deepEqual([...new Set(cases.map((c) => c.device))].sort(), ['desktop', 'mobile', 'tablet']);
});

test('the segment the widget sends carries its device, beside the source and new or returning', () => {
  const visitor = { utm: { source: 'google', medium: 'cpc' }, first_touch: { referrer: '' }, sessions: 2 };
  assert.deepEqual(segment(visitor, 'tablet'), { source: 'google/cpc', returning: true, device: 'tablet' });
  assert.deepEqual(segment({ first_touch: { referrer: 'https://news.example/a' }, sessions: 1 }, 'mobile'),
    { source: 'news.example', returning: false, device: 'mobile' });
});
