import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { langOf, langLoad, plural, T } from '../src/lazy/lang.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'lang');
const CODES = fs.readdirSync(DIR).map((f) => f.replace(/\.js$/, '')).sort();
const tables = Object.fromEntries(await Promise.all(CODES.map(async (l) => [l, (await import(path.join(DIR, `${l}.js`))).default])));

test('the campaign language comes first, then the page, then the site, then English', () => {
  assert.equal(langOf({ language: 'fa' }, { language: 'pl' }, 'ro'), 'fa');
  assert.equal(langOf({ language: null }, { language: 'pl' }, 'ro-RO'), 'ro');
  assert.equal(langOf({}, { language: 'pl' }, ''), 'pl');
  assert.equal(langOf({}, {}, ''), 'en');
});

test('a page language with a region is matched by its language, whatever its case', () => {
  assert.equal(langOf({}, { language: 'en' }, 'pl-PL'), 'pl');
  assert.equal(langOf({}, { language: 'en' }, 'FA-ir'), 'fa');
});

test('a language the widget does not speak is skipped, wherever it is set', () => {
  assert.equal(langOf({ language: 'de' }, { language: 'ro' }, 'fr-FR'), 'ro');
  assert.equal(langOf({}, { language: 'xx' }, 'de'), 'en');
});

test('the languages the widget chooses from are the tables in src/lang', () => {
  assert.deepEqual(CODES, ['en', 'fa', 'pl', 'ro']);
  CODES.forEach((l) => assert.equal(langOf({ language: l }, {}, ''), l));
});

test('every table has the English keys, and only them (fa adds its direction)', () => {
  const keys = Object.keys(tables.en).sort();
  CODES.forEach((l) => assert.deepEqual(Object.keys(tables[l]).filter((k) => k != 'dir').sort(), keys, l));
  assert.equal(tables.fa.dir, 'rtl');
  CODES.filter((l) => l != 'fa').forEach((l) => assert.equal(tables[l].dir, undefined));
});

test('every plural category a language uses has its form of "items", unless one text serves them all', () => {
  CODES.filter((l) => typeof tables[l].items != 'string').forEach((l) => new Intl.PluralRules(l).resolvedOptions()
    .pluralCategories.forEach((cat) => assert.ok(tables[l].items[cat], `${l}: ${cat}`)));
});

test('item counts follow each language\'s plural rules', () => {
  const items = (l, n) => plural(tables[l].items, n, l);
  assert.deepEqual([1, 2, 0].map((n) => items('en', n)), ['1 item', '2 items', '0 items']);
  assert.deepEqual([1, 2, 4, 5, 12, 22, 25].map((n) => items('pl', n)),
    ['1 produkt', '2 produkty', '4 produkty', '5 produktów', '12 produktów', '22 produkty', '25 produktów']);
  assert.deepEqual([1, 2, 19, 20, 101].map((n) => items('ro', n)),
    ['1 produs', '2 produse', '19 produse', '20 de produse', '101 produse']);
  assert.deepEqual([1, 3].map((n) => items('fa', n)), ['1 کالا', '3 کالا']);
});

test('an override given as one text is used for every count', () => {
  assert.equal(plural('# × in your bag', 3, 'en'), '3 × in your bag');
});

test('a table loads once and is kept', async () => {
  await langLoad('pl');
  assert.equal(T.pl.send, 'Wyślij');
  assert.equal(langLoad('pl'), T.pl);
});

test('the countdown names days in the message\'s language', async () => {
  globalThis.document ??= {}; // kit.js keeps a reference to the document; countdownText does not use it
  const { countdownText } = await import('../src/render/kit.js');
  const ms = (2 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000;
  assert.equal(countdownText(ms), '2d 03:04:05');
  assert.equal(countdownText(ms, tables.pl.days), '2 d. 03:04:05');
});
