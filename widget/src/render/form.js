// Choice questions shared by feedback and cart_recovery.
import { h, uid, honeypot } from './kit.js';

// Choices (radio or checkbox), an optional free text, then thank-you; submits {form, choices, text}.
export function feedbackScreen(m, { question, options, multiple, free_text: free }) {
  const name = uid('q');
  const inputs = options.map((o) => h('input', { type: multiple ? 'checkbox' : 'radio', name, value: o }));
  const text = free && h('textarea', { rows: 2 });
  const err = m._err();
  const [trap, trapped] = honeypot();
  const send = () => {
    const v = { choices: inputs.filter((i) => i.checked).map((i) => i.value), text: text ? text.value.trim() : '' };
    if (!v.choices.length && !v.text) { err.textContent = m._api.t.pick; return; }
    m._api.submit(trapped({ form: 'feedback', ...v }));
    m._thanks();
  };
  return [
    h('fieldset', null, question && m._text('legend', question),
      inputs.map((input, i) => m._option(input, options[i]))),
    free && m._labelled(free.label || m._api.t.other, text), trap,
    err, m._row(m._btn(m._api.t.send, send)),
  ];
}
