// The language a message speaks and its table of words (src/lang/<code>.js), one lazy file per language loaded only
// when a message in it is about to show.

/* global __RT_LANGS__, __RT_LANG__, __RT_KEYS__ */
// Set by build.mjs: the languages (a text: a defined array would become a shared chunk), the hash their files are
// named with (lang-<code>.<hash>.js beside this file), and the tables' keys in the order a built table lists its words
// (an array, so that the keys come once, here, instead of in every table); unbuilt (node's tests), the sources.
const LANGS = (typeof __RT_LANGS__ == 'undefined' ? 'en fa pl ro' : __RT_LANGS__).split(' ');
const FILE = typeof __RT_LANG__ == 'undefined' ? '../lang/%.js' : `./lang-%.${__RT_LANG__}.js`;
const KEYS = typeof __RT_KEYS__ == 'undefined' ? null : __RT_KEYS__.split(' ');

/** language -> its table, once loaded */
export const T = {};

/** The campaign's language if set, else the page's <html lang> if we have it (pl-PL is pl), else the site's, else English. */
export const langOf = (c, site, page = document.documentElement.lang) =>
  [c.language, page, site.language].map((l) => (l || '').toLowerCase().split('-')[0]).find((l) => LANGS.includes(l)) || 'en';

/** The language's table (keys to words), or a promise of it in T. */
export const langLoad = (l) => T[l] || import(FILE.replace('%', l)).then((m) => {
  T[l] = KEYS ? Object.fromEntries(KEYS.map((k, i) => [k, m.default[i]])) : m.default;
});

/** The tables of the campaigns' languages, loaded with the renderers while the page is idle: a message that fires
 * later shows without waiting for its words, offline too. */
export const warm = (cfg) => Promise.all(cfg.campaigns.map((c) => langLoad(langOf(c, cfg.site))));

/** `forms` (a text, or plural forms by Intl.PluralRules category) for the number n, `#` replaced by n. */
export const plural = (forms, n, lang) =>
  (forms.split ? forms : forms[new Intl.PluralRules(lang).select(n)] || forms.other).replace('#', n);
