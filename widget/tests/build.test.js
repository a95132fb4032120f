import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEEP_DAYS, lazyFiles, superseded, visitorFiles } from '../build.mjs';

const release = (render, debug) => ({
  core: 'retarget.js', renderers: { popup: render, nps: render }, chunks: [], lazy: [debug],
});
const A = release('render-all.AAAA.js', 'debug.AAAA.js');

test('a new build keeps the lazy files it replaces, dated the day of that build', () => {
  const kept = superseded({ previous: A, current: lazyFiles(release('render-all.BBBB.js', 'debug.AAAA.js')), today: '2026-12-06' });
  assert.deepEqual(kept, { 'render-all.AAAA.js': '2026-12-06' });
});

test('a rebuild of the same sources supersedes nothing', () => {
  assert.deepEqual(superseded({ previous: A, current: lazyFiles(A), today: '2026-12-06' }), {});
});

test(`superseded files stay ${KEEP_DAYS} days after the build that replaced them, then go`, () => {
  const previous = { ...release('render-all.CCCC.js', 'debug.AAAA.js'), superseded: { 'render-all.AAAA.js': '2026-12-01' } };
  const current = lazyFiles(previous);
  assert.deepEqual(superseded({ previous, current, today: '2026-12-08' }), { 'render-all.AAAA.js': '2026-12-01' });
  assert.deepEqual(superseded({ previous, current, today: '2026-12-09' }), {});
});

test('a file that becomes current again is no longer listed as superseded', () => {
  const previous = { ...release('render-all.BBBB.js', 'debug.AAAA.js'), superseded: { 'render-all.AAAA.js': '2026-12-05' } };
  assert.deepEqual(superseded({ previous, current: lazyFiles(A), today: '2026-12-06' }), { 'render-all.BBBB.js': '2026-12-06' });
});

test('the check keeps what the manifest lists whatever the day it runs, and adds nothing', () => {
  const previous = { ...A, superseded: { 'render-all.OLD.js': '2020-01-01' } };
  assert.deepEqual(superseded({ previous, current: lazyFiles(A), today: '2030-01-01', prune: false }),
    { 'render-all.OLD.js': '2020-01-01' });
});

test('the committed manifest names the stable core and every file it lists is committed', () => {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'static', 'widget');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.core, 'retarget.js');
  [manifest.core, ...lazyFiles(manifest), ...Object.keys(manifest.superseded || {})]
    .forEach((f) => assert.ok(fs.existsSync(path.join(dir, f)), `${f} is missing`));
});

test("one visitor's page weighs the core, the renderers, the visitors' lazy files and the largest language table", () => {
  const manifest = {
    core: 'retarget.js', renderers: { popup: 'render-all.R.js', nps: 'render-all.R.js' }, chunks: ['chunk.C.js'],
    lazy: ['debug.D.js', 'cmp.M.js', 'preview.P.js', 'aud.A.js'], owners: ['preview.P.js', 'debug.D.js'],
    langs: { en: 'lang-en.H.js', fa: 'lang-fa.H.js', pl: 'lang-pl.H.js' },
  };
  const size = (f) => ({ 'lang-en.H.js': 400, 'lang-fa.H.js': 700, 'lang-pl.H.js': 600 })[f] || 1;
  assert.deepEqual(visitorFiles(manifest, size).sort(),
    ['aud.A.js', 'chunk.C.js', 'cmp.M.js', 'lang-fa.H.js', 'render-all.R.js', 'retarget.js']);
});

test('the committed manifest names the owners\' tools, preview and debug, among its lazy files', () => {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'static', 'widget');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.owners.map((f) => f.split('.')[0]), ['preview', 'debug']);
  manifest.owners.forEach((f) => assert.ok(manifest.lazy.includes(f)));
});

test('a built language table lists its words in the order of the keys the renderer file is given', async () => {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'static', 'widget');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const langs = Object.keys(manifest.langs).sort();
  const sources = Object.fromEntries(await Promise.all(langs.map(async (l) => [l, (await import(`../src/lang/${l}.js`)).default])));
  const keys = [...new Set(langs.flatMap((l) => Object.keys(sources[l])))];
  assert.ok(fs.readFileSync(path.join(dir, manifest.renderers.popup), 'utf8').includes(JSON.stringify(keys.join(' '))));
  for (const l of langs) {
    const built = (await import(path.join(dir, manifest.langs[l]))).default;
    assert.deepEqual(Object.fromEntries(keys.map((k, i) => [k, built[i]]).filter(([, w]) => w !== null)), sources[l], l);
  }
});
