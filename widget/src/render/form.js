// Choice questions shared by feedback and cart_recovery.
import { h, uid } from './kit.js';

// -> {nodes, value(): {choices, text}}
export function choices(m, { question, options = [], multiple = false, free_text: free = null }) {
  const name = uid('q');
  const inputs = options.map((o) => h('input', { type: multiple ? 'checkbox' : 'radio', name, value: o }));
  const textId = uid('x');
  const text = free ? h('textarea', { id: textId, rows: 2 }) : null;
  const nodes = [
    h('fieldset', null, question && m.text('legend', question),
      inputs.map((input, i) => h('label', { class: 'opt' }, input, m.text('span', options[i])))),
    free && m.text('label', free.label || 'Other', { for: textId }), text,
  ];
  return {
    nodes,
    value: () => ({ choices: inputs.filter((i) => i.checked).map((i) => i.value), text: text ? text.value.trim() : '' }),
  };
}

export function feedbackScreen(m, q, form = 'feedback') {
  const f = choices(m, q);
  const err = h('p', { class: 'err', role: 'alert' });
  const send = () => {
    const v = f.value();
    if (!v.choices.length && !v.text) { err.textContent = 'Please choose an answer.'; return; }
    m.api.submit({ form, ...v });
    m.thanks();
  };
  return [f.nodes, err, h('div', { class: 'row' }, h('button', { class: 'b', type: 'button', text: 'Send', onclick: send }))];
}
