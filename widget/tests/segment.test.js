// The traffic source of src/lazy/segment.js (the segment of exposures and impressions) against
// tests/conformance/source.json, shared with tests/campaigns/test_visit_source.py: the server makes a page view's
// segment with the same rule (campaigns/tally/segments.py visit_source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { segment } from '../src/lazy/segment.js';

const { cases } = JSON.parse(readFileSync(new URL('../../tests/conformance/source.json', import.meta.url), 'utf8'));

for (const c of cases) {
  test(`source: ${c.name}`, () => {
    assert.equal(segment({ utm: c.utm, first_touch: { referrer: c.referrer }, sessions: 1 }, 'desktop').source, c.source);
  });
}
