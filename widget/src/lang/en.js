// The widget's own words in English; each language has a table with the same keys (src/lang/*.js), a lazy file that
// loads when a message in it is about to show. `#` stands for a number or a field's name; `items` holds the plural
// forms Intl.PluralRules names; `close` names the × button, `done` is the button that closes a thank-you. A variant's
// content.strings overrides any key (campaigns/content.py, STRING_KEYS).
export default {
  close: 'Close', done: 'Close', thanks: 'Thank you!', next: 'Next', send: 'Send', other: 'Other',
  pick: 'Please choose an answer.', fill: 'Please fill in #.', email_bad: 'Please enter a valid email address.',
  tick: 'Please tick the box to continue.', subscribe: 'Subscribe', copy: 'Copy', copied: 'Copied!',
  cart_headline: 'You left something in your cart', cart_cta: 'Back to my cart', stopped: 'What stopped you?',
  items: { one: '# item', other: '# items' },
  privacy: 'Your privacy', policy: 'Privacy policy', accept: 'Accept all', reject: 'Reject all', choose: 'Choose',
  save: 'Save choices',
  nps_question: 'How likely are you to recommend us?', low: 'Not likely', high: 'Very likely',
  detractor: 'What went wrong?', passive: 'What would make it a 10?', promoter: 'What do you love?',
  match: 'Your match', see: 'See it', start: 'Start', again: 'Start again', days: '#d',
};
