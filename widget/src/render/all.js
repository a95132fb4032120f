// The lazy file (render-all.<hash>.js): the show path and every renderer. One request, no chunk
// waterfall, and one gzip stream (split per renderer, the files weighed about 650 B more gzipped in all).
export { resolve } from '../lazy/show.js';
export { goals } from '../lazy/goals.js';
export { consentSet, consentCommand } from '../lazy/consent_set.js';
export { warm } from '../lazy/lang.js';
