import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, update, TCF_PURPOSES } from '../src/lazy/consent.js';
import { allows } from '../src/core/consent.js';

const MAP = { ad_storage: 'marketing', ad_user_data: 'marketing', analytics_storage: 'analytics', security_storage: 'necessary' };

// The core's side as src/lazy/consent.js uses it; decisions taken are collected in `decided`.
function core({ consent = {}, rec = null, win = {} } = {}) {
  const decided = [], held = [], warned = [], listeners = [];
  const x = {
    _win: win, _doc: { readyState: 'loading' },
    _cfg: () => ({ site: { consent: { gcm: MAP, ...consent } } }),
    _consentRec: () => rec,
    _transport: { _hold: () => held.push(1) },
    _load: (name) => Promise.resolve({
      consentSet(_x, decision, categories, proof) { decided.push([name, decision, categories, proof]); rec = { decision, categories, tc_string: proof }; },
    }),
    _safe: (f) => f, _warn: (e) => warned.push(e.message),
    on(target, type, fn) { listeners.push([type, fn]); return () => {}; },
  };
  return { x, decided, held, warned, listeners, setRec: (r) => { rec = r; } };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

test('consent for Retarget: all granted, or categories that include marketing', () => {
  assert.equal(allows({ decision: 'granted', categories: [] }), true);
  assert.equal(allows({ decision: 'custom', categories: ['necessary', 'marketing'] }), true);
  assert.equal(allows({ decision: 'custom', categories: ['necessary', 'analytics'] }), false);
  assert.equal(allows({ decision: 'denied', categories: ['necessary'] }), false);
  assert.equal(allows(null), false);
});

test('our decision becomes a Consent Mode update: by category, necessary always granted', () => {
  const win = {};
  const { x } = core({ win });
  update(x, { decision: 'custom', categories: ['analytics'] });
  update(x, { decision: 'granted', categories: [] });
  update(x, { decision: 'denied', categories: [] });
  const entries = win.dataLayer.map((a) => [...a]);
  assert.deepEqual(entries, [
    ['consent', 'update', { ad_storage: 'denied', ad_user_data: 'denied', analytics_storage: 'granted', security_storage: 'granted' }],
    ['consent', 'update', { ad_storage: 'granted', ad_user_data: 'granted', analytics_storage: 'granted', security_storage: 'granted' }],
    ['consent', 'update', { ad_storage: 'denied', ad_user_data: 'denied', analytics_storage: 'denied', security_storage: 'granted' }],
  ]);
  assert.ok(!Array.isArray(win.dataLayer[0]), 'pushed as an Arguments object, as gtag() does');
});

test('the update goes through the site\'s gtag when it has one', () => {
  const calls = [];
  const { x } = core({ win: { gtag: (...a) => calls.push(a) } });
  update(x, { decision: 'granted', categories: [] });
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].slice(0, 2), ['consent', 'update']);
});

test('start re-sends a stored decision over the page\'s default, and nothing without one', () => {
  const win = {};
  start(core({ win }).x);
  assert.equal(win.dataLayer, undefined);
  start(core({ win, rec: { decision: 'denied', categories: [] } }).x);
  assert.equal(win.dataLayer.length, 1);
});

test('TCF: undecided is ignored; the needed purposes grant marketing; one missing denies; the TC string is kept', async () => {
  let cb;
  const win = { __tcfapi: (cmd, version, f) => { assert.deepEqual([cmd, version], ['addEventListener', 2]); cb = f; } };
  const { x, decided, held } = core({ consent: { source: 'tcf' }, win });
  start(x);
  const all = Object.fromEntries(TCF_PURPOSES.map((n) => [n, true]));
  cb({ eventStatus: 'cmpuishown', gdprApplies: true, purpose: { consents: {} } }, true);
  cb({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: all }, tcString: 'CPa' }, false); // failed call
  await tick();
  assert.deepEqual(decided, []);
  cb({ eventStatus: 'useractioncomplete', gdprApplies: true, purpose: { consents: all }, tcString: 'CPa' }, true);
  await tick();
  cb({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: all }, tcString: 'CPa' }, true); // the same again
  await tick();
  cb({ eventStatus: 'useractioncomplete', gdprApplies: true, purpose: { consents: { ...all, 5: false } }, tcString: 'CPb' }, true);
  await tick();
  assert.deepEqual(decided, [['render', 'granted', ['marketing'], 'CPa'], ['render', 'denied', [], 'CPb']]);
  assert.equal(held.length, 2, 'events wait in memory until the decision is taken');
});

test('TCF: where the GDPR does not apply, marketing is granted', async () => {
  let cb;
  const { x, decided } = core({ consent: { source: 'tcf' }, win: { __tcfapi: (c, v, f) => { cb = f; } } });
  start(x);
  cb({ eventStatus: 'tcloaded', gdprApplies: false, purpose: { consents: {} }, tcString: '' }, true);
  await tick();
  assert.deepEqual(decided.map((d) => d[1]), ['granted']);
});

test('TCF: a CMP that comes after the widget is looked for once more at load, then warned about', () => {
  const win = {};
  const { x, listeners, warned } = core({ consent: { source: 'tcf' }, win });
  start(x);
  assert.deepEqual(listeners.map((l) => l[0]), ['load']);
  let registered = false;
  win.__tcfapi = () => { registered = true; };
  listeners[0][1]();
  assert.ok(registered);
  delete win.__tcfapi;
  const late = core({ consent: { source: 'tcf' }, win: {} });
  start(late.x);
  late.listeners[0][1]();
  assert.equal(late.warned.length, 1);
  assert.deepEqual(warned, []);
});

test('Consent Mode adapter: the site\'s updates, already pushed and later, decide by category', async () => {
  const gtagArgs = function () { return arguments; };
  const win = { dataLayer: [gtagArgs('consent', 'default', { ad_storage: 'denied' }), gtagArgs('js', new Date())] };
  const { x, decided } = core({ consent: { source: 'gcm' }, win });
  start(x);
  await tick();
  assert.deepEqual(decided, [], 'a default is not a decision');
  win.dataLayer.push(gtagArgs('consent', 'update', { ad_storage: 'granted', ad_user_data: 'granted', analytics_storage: 'granted', security_storage: 'granted' }));
  await tick();
  win.dataLayer.push(gtagArgs('consent', 'update', { ad_storage: 'granted' })); // nothing changed
  await tick();
  win.dataLayer.push(gtagArgs('consent', 'update', { ad_user_data: 'denied' }));
  await tick();
  win.dataLayer.push(gtagArgs('consent', 'update', { analytics_storage: 'denied', security_storage: 'denied' }));
  await tick();
  assert.deepEqual(decided.map((d) => [d[1], d[2]]), [
    ['granted', ['marketing', 'analytics', 'necessary']],
    ['custom', ['analytics', 'necessary']],
    ['denied', []],
  ]);
  assert.equal(win.dataLayer.length, 6, 'the pushes still reach the dataLayer');
});

test('Consent Mode adapter: an update pushed before the widget started is read', async () => {
  const args = function () { return arguments; };
  const win = { dataLayer: [args('consent', 'update', { ad_storage: 'denied', ad_user_data: 'denied' })] };
  const { x, decided } = core({ consent: { source: 'gcm', gcm: { ad_storage: 'marketing', ad_user_data: 'marketing' } }, win });
  start(x);
  await tick();
  assert.deepEqual(decided.map((d) => [d[1], d[2]]), [['denied', []]]);
});
