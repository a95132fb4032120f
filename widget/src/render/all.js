// Every renderer in one lazy file (render-all.<hash>.js): one request, no chunk waterfall, and
// one gzip stream (split per renderer, the files weighed about 650 B more gzipped in all).
export { render as message } from './message.js';
export { render as consent } from './consent.js';
export { render as nps } from './nps.js';
export { render as feedback } from './feedback.js';
export { render as lead } from './lead.js';
export { render as cart_recovery } from './cart_recovery.js';
