// Message type -> its renderer; popup, bar, slide_in and fullscreen are `message`, or `quiz` when their content
// holds a quiz block.
import { render as message } from './message.js';
import { render as consent } from './consent.js';
import { render as nps } from './nps.js';
import { render as feedback } from './feedback.js';
import { render as lead } from './lead.js';
import { render as cart_recovery } from './cart_recovery.js';
import { render as quiz } from './quiz.js';

const RENDER = { consent, nps, feedback, lead, cart_recovery, quiz };

export const rendererOf = (type) => RENDER[type] || message;
