// src/lazy/audiences.js on the compiled config of a conformance case (tests/conformance/rules.compiled.json): the
// page's group counts a view and marks its stage, then the audiences go on the page view, evaluated on that state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createState } from '../src/core/state.js';
import { memoryStorage } from '../src/core/util.js';
import { match, valueOf, contextOf, decide } from '../src/core/rules.js';
import { pageview } from '../src/lazy/audiences.js';

const COMPILED = JSON.parse(readFileSync(new URL('../../tests/conformance/rules.compiled.json', import.meta.url), 'utf8'));
// Groups Blog (/blog/..., awareness) and Shop (paths containing /shop, decision); audience 1: two Blog pages,
// 3: the decision stage and a cart of 100 or more.
const CONFIG = COMPILED.decide['audiences: a visitor in none'];

function visitor() {
  const state = createState({ storage: memoryStorage(), now: () => 1767225600000 });
  let url = '';
  const x = {
    _cfg: () => CONFIG, _rt: { match, valueOf, contextOf, decide }, _state: state,
    _context: () => state._context({ url, device: 'desktop', consent: 'granted' }),
  };
  // A page view as the core makes it: the state's, then this file's, then the event's data.
  return (path, cart) => {
    url = 'https://shop.example' + path;
    state._pageview(url, '');
    if (cart) state._setCart(cart);
    const data = {};
    pageview(x, data);
    return { data, v: state.data };
  };
}

test('views per page group and the stages reached are counted before the audiences are evaluated', () => {
  const view = visitor();
  let r = view('/blog/a');
  assert.deepEqual(r.v.groups, { Blog: 1 });
  assert.deepEqual(r.v.stages, ['awareness']);
  assert.deepEqual(r.data.audiences, []);
  r = view('/blog/b');
  assert.deepEqual(r.v.groups, { Blog: 2 });
  assert.deepEqual(r.data.audiences, [1]); // the second article makes a reader, on that page view already
  r = view('/shop/cart', { value: 150, items: [] });
  assert.deepEqual(r.v.groups, { Blog: 2, Shop: 1 });
  assert.deepEqual(r.v.stages, ['awareness', 'decision']);
  assert.deepEqual(r.data.audiences, [1, 3]);
  r = view('/about');
  assert.deepEqual(r.v.groups, { Blog: 2, Shop: 1 }); // a page of no group counts nowhere
  assert.deepEqual(r.data.audiences, [1, 3]);
});

test('the campaigns that name an audience are decided on the same state', () => {
  const view = visitor();
  view('/blog/a');
  const armed = (ctx) => decide(CONFIG, ctx).campaigns.filter((c) => c.armed).map((c) => c.id);
  const r = view('/blog/b');
  const context = { now: 1767225600000, url: 'https://shop.example/blog/b', consent: 'granted', visitor: { ...r.v, id: 'v' } };
  assert.deepEqual(armed(context), [1, 4, 6]); // in audience 1 (campaigns 1, 4), not in audience 4 (campaign 6)
});
