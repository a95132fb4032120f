// Polish (src/lang/en.js says what the keys are).
export default {
  close: 'Zamknij', done: 'Zamknij', thanks: 'Dziękujemy!', next: 'Dalej', send: 'Wyślij', other: 'Inne',
  pick: 'Wybierz odpowiedź.', fill: 'Wypełnij pole: #.', email_bad: 'Podaj poprawny adres e-mail.',
  tick: 'Zaznacz pole, aby kontynuować.', subscribe: 'Zapisz się', copy: 'Kopiuj', copied: 'Skopiowano!',
  cart_headline: 'Coś zostało w Twoim koszyku', cart_cta: 'Wróć do koszyka', stopped: 'Co Cię powstrzymało?',
  items: { one: '# produkt', few: '# produkty', many: '# produktów', other: '# produktu' },
  privacy: 'Twoja prywatność', policy: 'Polityka prywatności', accept: 'Akceptuj wszystkie', reject: 'Odrzuć wszystkie',
  choose: 'Wybierz', save: 'Zapisz wybór',
  nps_question: 'Jak bardzo prawdopodobne jest, że nas polecisz?', low: 'Mało prawdopodobne', high: 'Bardzo prawdopodobne',
  detractor: 'Co poszło nie tak?', passive: 'Co sprawiłoby, że dasz nam 10?', promoter: 'Co Ci się podoba?',
  match: 'Twój wybór', see: 'Zobacz', start: 'Zacznij', again: 'Zacznij od nowa', days: '# d.',
};
