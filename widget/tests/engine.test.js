import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceOf, allows, rendererOf } from '../src/engine.js';
import { displayOf, isOverlay } from '../src/rules.js';

test('overlay types are overlays unless their position makes them a corner or a bar', () => {
  assert.equal(displayOf('popup', {}), 'overlay');
  assert.equal(displayOf('popup', undefined), 'overlay');
  assert.equal(displayOf('nps', { position: 'center' }), 'overlay');
  assert.equal(displayOf('nps', { position: 'bottom_right' }), 'slide_in');
  assert.equal(displayOf('lead', { position: 'top' }), 'bar');
  assert.equal(displayOf('feedback', { position: 'bottom' }), 'bar');
  assert.equal(displayOf('fullscreen', {}), 'fullscreen');
  assert.equal(displayOf('fullscreen', { position: 'top_left' }), 'slide_in');
  for (const type of ['popup', 'fullscreen', 'nps', 'feedback', 'lead', 'cart_recovery']) {
    assert.equal(isOverlay(type, {}), true, type);
    assert.equal(isOverlay(type, { position: 'center' }), true, type);
    assert.equal(isOverlay(type, { position: 'bottom_left' }), false, type);
    assert.equal(isOverlay(type, { position: 'bottom' }), false, type);
  }
});

test('bars, slide-ins and the consent banner are never overlays', () => {
  for (const type of ['bar', 'slide_in', 'consent']) {
    assert.equal(isOverlay(type, {}), false, type);
    assert.equal(isOverlay(type, { position: 'center' }), false, type);
  }
  assert.equal(displayOf('bar', { position: 'top' }), 'bar');
  assert.equal(displayOf('slide_in', { position: 'center' }), 'slide_in');
  assert.equal(displayOf('consent', {}), 'bar');
  assert.equal(displayOf('consent', { position: 'bottom_left' }), 'slide_in');
});

test('renderers: one module for the plain messages, one per form type', () => {
  assert.equal(rendererOf('popup'), 'message');
  assert.equal(rendererOf('fullscreen'), 'message');
  assert.equal(rendererOf('nps'), 'nps');
  assert.equal(rendererOf('consent'), 'consent');
});

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
