// Romanian (src/lang/en.js says what the keys are).
export default {
  close: 'Închide', done: 'Închide', thanks: 'Mulțumim!', next: 'Înainte', send: 'Trimite', other: 'Altceva',
  pick: 'Alege un răspuns.', fill: 'Completează câmpul #.', email_bad: 'Introdu o adresă de e-mail validă.',
  tick: 'Bifează caseta pentru a continua.', subscribe: 'Abonează-te', copy: 'Copiază', copied: 'Copiat!',
  cart_headline: 'Ai lăsat ceva în coș', cart_cta: 'Înapoi la coș', stopped: 'Ce te-a oprit?',
  items: { one: '# produs', few: '# produse', other: '# de produse' },
  privacy: 'Confidențialitatea ta', policy: 'Politica de confidențialitate', accept: 'Acceptă tot', reject: 'Respinge tot',
  choose: 'Alege', save: 'Salvează opțiunile',
  nps_question: 'Cât de probabil este să ne recomanzi?', low: 'Puțin probabil', high: 'Foarte probabil',
  detractor: 'Ce nu a mers bine?', passive: 'Ce ne-ar aduce un 10?', promoter: 'Ce îți place?',
  match: 'Potrivirea ta', see: 'Vezi', start: 'Începe', again: 'Ia-o de la capăt', days: '# z',
};
