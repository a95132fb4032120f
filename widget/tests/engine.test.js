import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceOf, allows } from '../src/engine.js';

// Display and overlays are worked out by the server now: tests/campaigns/targeting/test_compile.py.

test('device from the user agent', () => {
  const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148';
  const androidPhone = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36';
  const androidTablet = 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/120 Safari/537.36';
  const ipadOs = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15';
  assert.equal(deviceOf(iphone, 5), 'mobile');
  assert.equal(deviceOf(androidPhone, 5), 'mobile');
  assert.equal(deviceOf(androidTablet, 5), 'tablet');
  assert.equal(deviceOf(ipadOs, 5), 'tablet');
  assert.equal(deviceOf(ipadOs, 0), 'desktop');
});

test('consent for Retarget: all granted, or categories that include marketing', () => {
  assert.equal(allows({ decision: 'granted', categories: [] }), true);
  assert.equal(allows({ decision: 'custom', categories: ['necessary', 'marketing'] }), true);
  assert.equal(allows({ decision: 'custom', categories: ['necessary', 'analytics'] }), false);
  assert.equal(allows({ decision: 'denied', categories: ['necessary'] }), false);
  assert.equal(allows(null), false);
});
