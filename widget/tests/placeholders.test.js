import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fill, placeholderData } from '../src/render/placeholders.js';

const data = placeholderData({
  cart: { value: 59.9, items: [{ id: 'a', qty: 2 }, { id: 'b' }] },
  attrs: { first_name: 'Ada', empty: '' },
});

const CASES = [
  ['Your cart: {{cart.value}}', 'Your cart: 59.90'],
  ['{{cart.count}} items', '3 items'],
  ['Hi {{attrs.first_name|there}}!', 'Hi Ada!'],
  ['Hi {{attrs.last_name|there}}!', 'Hi there!'],
  ['Hi {{ attrs.last_name | you }}!', 'Hi you!'],
  ['Hi {{attrs.empty|friend}}', 'Hi friend'],
  ['{{attrs.unknown}}', ''],
  ['{{cart}}', ''],
  ['{{constructor.name}}', ''],
  ['no placeholder', 'no placeholder'],
  ['<b>{{attrs.first_name}}</b>', '<b>Ada</b>'],
  ['{{cart.value', '{{cart.value'],
];

for (const [text, expected] of CASES) {
  test(`fill(${JSON.stringify(text)}) is ${JSON.stringify(expected)}`, () => {
    assert.equal(fill(text, data), expected);
  });
}

test('an integer value is shown without decimals', () => {
  assert.equal(fill('{{cart.value}}', placeholderData({ cart: { value: 60, items: [] } })), '60');
});

test('a visitor without a cart has an empty one', () => {
  assert.equal(fill('{{cart.count}} / {{cart.value}}', placeholderData({})), '0 / 0');
});

test('null text is empty', () => {
  assert.equal(fill(null, data), '');
});
