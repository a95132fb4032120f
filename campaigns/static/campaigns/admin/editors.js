// Structured editors over the admin's JSON fields (campaigns/admin/editors.py renders their containers).
//
// Each `[data-editor]` holds the field's own textarea (what the form posts) and a JSON data block with the
// vocabulary the editor offers, read from the rule registry: this file names no trigger, operator or goal type.
// Every change writes the whole JSON back into the textarea and dispatches `input` on it, so anything listening
// there (the live preview, the summary) sees the same value the form will post. Keys an editor does not show
// are kept as they are. A value the editor cannot show (JSON that does not parse after a failed save, a shape it
// does not know) opens in raw mode with the reason; "Raw JSON" switches either way.
// No inline script or style: the admin's Content-Security-Policy allows neither.
'use strict';
(function () {
  const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

  // ------------------------------------------------------------ small DOM helpers

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key === 'on') for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
      else if (key === 'value') node.value = value;
      else if (key === 'checked') node.checked = true;
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat()) if (child != null) node.append(child);
    return node;
  }

  const words = (name) => String(name).replace(/[._]/g, ' ');
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const empty = (o) => isObject(o) && Object.keys(o).length === 0;

  function field(label, input, hint) {
    return el('label', { class: 'rt-field' }, el('span', { class: 'rt-label', text: label }), input,
      hint ? el('small', { class: 'rt-hint', text: hint }) : null);
  }

  // Several of the options (values as given: an audience's id stays a number), as a list of values.
  function multiSelect(options, current, onChange) {
    const chosen = Array.isArray(current) ? current.map(String) : [];
    const node = el('select', { multiple: true, 'aria-label': 'values', class: 'rt-list' });
    const values = {};
    for (const option of options) {
      const [value, label] = Array.isArray(option) ? option : [option, words(option)];
      values[String(value)] = value;
      const item = el('option', { value: String(value), text: label });
      item.selected = chosen.includes(String(value));
      node.append(item);
    }
    node.addEventListener('change', () => onChange([...node.selectedOptions].map((o) => values[o.value])));
    return node;
  }

  function select(options, current, onChange, props) {
    const node = el('select', props || {});
    for (const option of options) {
      const [value, label] = Array.isArray(option) ? option : [option, words(option)];
      node.append(el('option', { value: String(value), text: label }));
    }
    if (current != null && ![...node.options].some((o) => o.value === String(current))) {
      node.append(el('option', { value: String(current), text: `${current} (unknown)` }));
    }
    node.value = current == null ? '' : String(current);
    node.addEventListener('change', () => onChange(node.value));
    return node;
  }

  function numberInput(value, onChange, { low, high, integer, label, param } = {}) {
    return el('input', {
      type: 'number', value: value == null ? '' : String(value), min: low ?? undefined, max: high ?? undefined,
      step: integer ? '1' : 'any', 'aria-label': label, 'data-param': param,
      on: { input: (e) => onChange(e.target.value === '' ? undefined : Number(e.target.value)) },
    });
  }

  function textInput(value, onChange, props) {
    return el('input', {
      type: 'text', value: value == null ? '' : String(value), ...props,
      on: { input: (e) => onChange(e.target.value) },
    });
  }

  function checkbox(checked, onChange, props) {
    return el('input', { type: 'checkbox', checked: !!checked, ...props, on: { change: (e) => onChange(e.target.checked) } });
  }

  function button(text, onClick, props) {
    return el('button', { type: 'button', class: 'button rt-small', text, ...props, on: { click: onClick } });
  }

  // A key set to a value, or removed when the value is empty: an editor writes only what the owner chose.
  function put(object, key, value) {
    if (value === undefined || value === '' || value === null || (Array.isArray(value) && !value.length) || empty(value)) {
      delete object[key];
    } else {
      object[key] = value;
    }
  }

  // ------------------------------------------------------------ regular expressions, checked as validation does

  function regexProblem(pattern, rules) {
    if (pattern.length > rules.max_length) return `longer than ${rules.max_length} characters`;
    try {
      new RegExp(pattern); // eslint-disable-line no-new
    } catch (error) {
      return error.message;
    }
    const rest = pattern.replace(new RegExp(rules.harmless, 'g'), '');
    if (new RegExp(rules.denied).test(rest)) return 'uses a feature that works differently in the browser';
    return null;
  }

  function regexInput(value, onChange, rules) {
    const status = el('small', { class: 'rt-check', role: 'status' });
    const input = textInput(value, (v) => { check(); onChange(v); }, { 'aria-label': 'pattern', class: 'rt-regex' });
    function check() {
      const problem = input.value ? regexProblem(input.value, rules) : null;
      input.setCustomValidity(problem || '');
      status.textContent = !input.value ? '' : problem ? `Invalid pattern: ${problem}` : 'Valid pattern';
      status.classList.toggle('rt-bad', !!problem);
    }
    check();
    return el('span', { class: 'rt-inline' }, input, status);
  }

  // ------------------------------------------------------------ triggers

  function triggersEditor(ctx) {
    if (!Array.isArray(ctx.value)) throw new Error('triggers are a list');
    const specs = Object.fromEntries(ctx.data.triggers.map((t) => [t.name, t]));
    const list = ctx.value;
    const defaults = (name) => {
      const trigger = { type: name };
      for (const p of specs[name].params) if (p.default !== null) trigger[p.name] = p.default;
      return trigger;
    };

    function render() {
      ctx.box.replaceChildren();
      if (!list.length) ctx.box.append(el('p', { class: 'rt-note', text: 'No trigger: the message shows on page load.' }));
      list.forEach((trigger, index) => {
        if (!isObject(trigger)) throw new Error('a trigger is an object');
        const spec = specs[trigger.type];
        const params = isObject(trigger.params) ? trigger.params : trigger;
        const path = `triggers[${index}]${isObject(trigger.params) ? '.params' : ''}`;
        const row = el('div', { class: 'rt-row rt-trigger', 'data-trigger': trigger.type, 'data-path': `triggers[${index}]` },
          select(ctx.data.triggers.map((t) => t.name), trigger.type, (name) => {
            list[index] = defaults(name);
            ctx.commit(list);
            render();
          }, { 'aria-label': 'trigger' }));
        for (const p of spec ? spec.params : []) row.append(paramInput(p, params, path));
        row.append(button('Remove', () => { list.splice(index, 1); ctx.commit(list); render(); }));
        ctx.box.append(row);
      });
      ctx.box.append(select([['', 'Add a trigger…'], ...ctx.data.triggers.map((t) => [t.name, words(t.name)])], '',
        (name) => { if (name) { list.push(defaults(name)); ctx.commit(list); render(); } },
        { 'aria-label': 'add a trigger' }));
    }

    function paramInput(p, params, path) {
      const set = (v) => { put(params, p.name, v); ctx.commit(list); };
      const label = `${words(p.name)}${p.unit ? ` (${p.unit})` : ''}`;
      const bounds = p.low != null && p.kind !== 'str' ? `${p.low}–${p.high}` : p.required ? 'required' : '';
      let input;
      if (p.kind === 'bool') input = checkbox(params[p.name] ?? p.default, set, { 'data-param': p.name });
      else if (p.kind === 'choice') input = select(p.choices, params[p.name] ?? p.default, set, { 'data-param': p.name });
      else if (p.kind === 'str') input = textInput(params[p.name], set, { maxlength: p.high, 'data-param': p.name, required: p.required });
      else input = numberInput(params[p.name], set, { low: p.low, high: p.high, integer: p.kind === 'int', param: p.name });
      input.dataset.path = `${path}.${p.name}`;
      return field(label, input, bounds);
    }

    render();
  }

  // ------------------------------------------------------------ targeting

  function targetingEditor(ctx) {
    const { operators } = ctx.data;
    // The page's own choices (a site's page groups and audiences) for the attributes that name them.
    const attributes = ctx.data.attributes.map((a) => (ctx.data.choices && ctx.data.choices[a.name]
      ? { ...a, choices: ctx.data.choices[a.name] } : a));
    const exact = Object.fromEntries(attributes.filter((a) => !a.prefix).map((a) => [a.name, a]));
    const prefixes = attributes.filter((a) => a.prefix);
    let root = ctx.value;
    if (root !== null && !isObject(root)) throw new Error('targeting is a rule');

    const attributeOf = (name) => exact[name] || prefixes.find((a) => typeof name === 'string' && name.startsWith(a.name));
    const opsFor = (kind) => operators.filter((o) => o.kinds.includes(kind));
    const opSpec = (name) => operators.find((o) => o.name === name);

    function newLeaf() {
      const attr = attributes[0];
      return { attr: attr.name, op: opsFor(attr.kind)[0].name, value: '' };
    }

    function commit() { ctx.commit(root); }
    function render() {
      ctx.box.replaceChildren();
      if (root === null) {
        ctx.box.append(el('p', { class: 'rt-note', text: 'Everyone, everywhere.' }),
          button('Add a condition', () => { root = { all: [newLeaf()] }; commit(); render(); }));
        return;
      }
      ctx.box.append(node(root, (replacement) => {
        root = replacement === undefined ? null : replacement;
        commit();
        render();
      }, 0, 'targeting'));
    }

    // One node of the tree; `replace(x)` puts x in its place (undefined removes it).
    function node(rule, replace, depth, path, negated = false) {
      if (!isObject(rule) || depth > ctx.data.max_depth) throw new Error('not a rule');
      const key = Array.isArray(rule.all) ? 'all' : Array.isArray(rule.any) ? 'any' : null;
      if (key) return group(rule, key, replace, depth, path);
      if ('not' in rule) {
        return el('div', { class: 'rt-group rt-not', 'data-path': path },
          el('div', { class: 'rt-group-head' }, el('strong', { text: 'Not:' }),
            button('Remove "not"', () => replace(rule.not)), button('Remove', () => replace(undefined))),
          node(rule.not, (x) => { if (x === undefined) replace(undefined); else { rule.not = x; commit(); render(); } }, depth + 1, `${path}.not`, true),
          // A "not" at the top has no group around it to add to: a condition beside it makes one.
          depth === 0 ? button('Add another condition', () => replace({ all: [rule, newLeaf()] })) : null);
      }
      if (!('attr' in rule)) throw new Error('not a rule');
      // Under a "not", a condition added here would be negated with it: the "not" offers the button instead.
      return el('div', { class: 'rt-group rt-single' }, leaf(rule, replace, path),
        negated ? null : button('Add another condition', () => replace({ all: [rule, newLeaf()] })));
    }

    function group(rule, key, replace, depth, path) {
      const children = rule[key];
      const head = el('div', { class: 'rt-group-head' },
        select([['all', 'All of these'], ['any', 'Any of these']], key, (k) => {
          replace({ [k]: children });
        }, { 'aria-label': 'combine' }),
        button('Negate', () => replace({ not: rule }), { title: 'Match when this group does not' }),
        button('Remove group', () => replace(undefined)));
      const box = el('div', { class: `rt-group rt-${key}`, 'data-depth': depth, 'data-path': path }, head);
      children.forEach((child, index) => {
        const replaceChild = (x) => {
          if (x === undefined) children.splice(index, 1);
          else children[index] = x;
          if (!children.length) { replace(undefined); return; }
          commit();
          render();
        };
        const inner = isObject(child) && ('all' in child || 'any' in child || 'not' in child)
          ? node(child, replaceChild, depth + 1, `${path}.${key}[${index}]`)
          : leaf(child, replaceChild, `${path}.${key}[${index}]`);
        box.append(inner);
      });
      box.append(el('div', { class: 'rt-group-foot' },
        button('+ Condition', () => { children.push(newLeaf()); commit(); render(); }),
        depth + 1 < ctx.data.max_depth ? button('+ Group', () => {
          children.push({ [key === 'all' ? 'any' : 'all']: [newLeaf()] }); commit(); render();
        }) : null));
      return box;
    }

    function leaf(rule, replace, path) {
      if (!isObject(rule) || !('attr' in rule)) throw new Error('not a condition');
      const row = el('div', { class: 'rt-row rt-leaf', 'data-path': path });
      const attr = attributeOf(rule.attr);
      const kind = attr ? attr.kind : 'dyn';

      // The attribute, grouped as owners look for it; a prefixed one asks for the rest of its name.
      const pick = el('select', { 'aria-label': 'attribute' });
      let groupNode = null;
      for (const a of attributes) {
        if (!groupNode || groupNode.label !== a.group) pick.append(groupNode = el('optgroup', { label: a.group }));
        const label = a.label || words(a.name);
        groupNode.append(el('option', { value: a.name, text: a.prefix ? `${label}…` : label }));
      }
      if (!attr) pick.append(el('option', { value: String(rule.attr), text: `${rule.attr} (unknown)` }));
      pick.value = attr ? attr.name : String(rule.attr);
      pick.addEventListener('change', () => {
        const chosen = attributes.find((a) => a.name === pick.value);
        const ops = opsFor(chosen.kind);
        rule.attr = chosen.prefix ? chosen.name + (chosen.choices ? chosen.choices[0] : '') : chosen.name;
        // An option of the attribute left behind (min_count...) is not valid on the new one.
        for (const a of attributes) for (const o of a.options || []) if (!(chosen.options || []).some((x) => x.name === o.name)) delete rule[o.name];
        if (!ops.some((o) => o.name === rule.op)) rule.op = ops[0].name;
        resetValue(rule, chosen);
        commit();
        render();
      });
      row.append(pick);
      if (attr && attr.prefix) {
        const rest = rule.attr.slice(attr.name.length);
        const setRest = (v) => { rule.attr = attr.name + v; commit(); };
        row.append(attr.choices
          ? select(attr.choices, rest, setRest, { 'aria-label': 'name' })
          : textInput(rest, setRest, { 'aria-label': 'name', placeholder: attr.hint, pattern: attr.pattern }));
      }

      const ops = opsFor(kind);
      row.append(select(ops.map((o) => [o.name, o.phrase]), rule.op, (name) => {
        const before = opSpec(rule.op);
        rule.op = name;
        if (!before || before.value !== opSpec(name).value) resetValue(rule, attr);
        commit();
        render();
      }, { 'aria-label': 'operator' }));

      const op = opSpec(rule.op);
      if (op) row.append(valueInput(rule, op, attr, kind));
      for (const o of (op && op.value !== 'none' && attr && attr.options) || []) {
        const input = numberInput(rule[o.name], (v) => { put(rule, o.name, v); commit(); },
          { low: o.low, high: o.high, integer: o.kind === 'int', param: o.name, label: o.label });
        input.dataset.path = `${path}.${o.name}`;
        row.append(field(o.label, input, `${o.low}–${o.high}, default ${o.low}`));
      }
      if (op && op.value !== 'none' && ['str', 'paths'].includes(kind)) {
        row.append(field('case-sensitive', checkbox(rule.case_sensitive, (on) => { put(rule, 'case_sensitive', on || undefined); commit(); })));
      }
      row.append(button('Remove', () => replace(undefined)));
      return row;
    }

    function resetValue(rule, attr) {
      const shape = (opSpec(rule.op) || {}).value;
      delete rule.value;
      if (shape === 'pair') rule.value = [0, 0];
      else if (shape === 'list') rule.value = [];
      else if (shape !== 'none') {
        rule.value = attr && attr.choices ? attr.choices[0] : attr && attr.value_labels ? 0 : attr && attr.kind === 'bool' ? true : '';
      }
    }

    function valueInput(rule, op, attr, kind) {
      const numeric = ['num', 'count'].includes(kind);
      const set = (v) => { rule.value = v; commit(); };
      const typed = (text) => (numeric && text.trim() !== '' && !Number.isNaN(Number(text)) ? Number(text) : text);
      switch (op.value) {
        case 'none':
          return null;
        case 'number':
          return numberInput(rule.value, set, { label: 'value', low: attr && attr.low, high: attr && attr.high });
        case 'pair': {
          const pair = Array.isArray(rule.value) ? rule.value : [0, 0];
          rule.value = pair;
          return el('span', { class: 'rt-inline' },
            numberInput(pair[0], (v) => { pair[0] = v ?? null; commit(); }, { label: 'from' }), ' and ',
            numberInput(pair[1], (v) => { pair[1] = v ?? null; commit(); }, { label: 'to' }));
        }
        case 'pattern':
          return regexInput(rule.value, set, ctx.data.patterns);
        case 'list': {
          if (attr && attr.choices) return multiSelect(attr.choices, rule.value, set);
          const items = Array.isArray(rule.value) ? rule.value : rule.value == null || rule.value === '' ? [] : [rule.value];
          if (attr && attr.value_labels) {
            const chosen = new Set(items);
            return el('span', { class: 'rt-inline', role: 'group', 'aria-label': 'values' }, ...attr.value_labels.map((label, i) => field(label,
              checkbox(chosen.has(i), (on) => { if (on) chosen.add(i); else chosen.delete(i); set([...chosen].sort((a, b) => a - b)); }))));
          }
          const area = el('textarea', { rows: 2, 'aria-label': 'values, one per line', placeholder: 'one per line', class: 'rt-list' });
          area.value = items.join('\n');
          area.addEventListener('input', () => {
            set(area.value.split('\n').map((s) => s.trim()).filter(Boolean).map(typed));
          });
          return area;
        }
        default:
          if (attr && attr.choices) return select(attr.choices, rule.value, set, { 'aria-label': 'value' });
          if (attr && attr.value_labels) return select(attr.value_labels.map((label, i) => [i, label]), rule.value, (v) => set(Number(v)), { 'aria-label': 'value' });
          if (kind === 'bool') return select([['true', 'true'], ['false', 'false']], String(rule.value ?? true), (v) => set(v === 'true'), { 'aria-label': 'value' });
          if (numeric) return numberInput(rule.value, set, { label: 'value', low: attr && attr.low, high: attr && attr.high });
          return textInput(rule.value, (v) => set(v), { 'aria-label': 'value' });
      }
    }

    render();
  }

  // ------------------------------------------------------------ frequency, schedule, goal

  function frequencyEditor(ctx) {
    if (!isObject(ctx.value)) throw new Error('frequency is an object');
    const value = ctx.value;
    const box = el('div', { class: 'rt-grid' });
    for (const spec of ctx.data.frequency) {
      const set = (v) => { put(value, spec.name, v); ctx.commit(value); };
      const before = box.childElementCount;
      box.append(spec.kind === 'bool'
        ? field(words(spec.name), checkbox(value[spec.name], (on) => set(on || undefined), { 'data-param': spec.name }))
        : field(words(spec.name), numberInput(value[spec.name], set, { low: spec.low, high: spec.high, integer: true, param: spec.name }),
          `${spec.low}–${spec.high}`));
      if (box.childElementCount > before) box.lastElementChild.dataset.path = `frequency.${spec.name}`;
    }
    const cancel = Array.isArray(value.cancel_on) ? value.cancel_on.join(', ') : '';
    box.append(field('stop on events', textInput(cancel, (text) => {
      put(value, 'cancel_on', text.split(',').map((s) => s.trim()).filter(Boolean));
      ctx.commit(value);
    }, { placeholder: 'purchase, signup' }), 'event names, comma-separated'));
    ctx.box.append(box);
  }

  function scheduleEditor(ctx) {
    if (!isObject(ctx.value)) throw new Error('a schedule is an object');
    const value = ctx.value;
    const [fromMax, toMax] = ctx.data.hours;
    const commit = () => ctx.commit(value);
    const days = new Set(Array.isArray(value.weekdays) ? value.weekdays : []);
    const dayBoxes = WEEKDAYS.map((name, index) => field(name, checkbox(days.has(index), (on) => {
      if (on) days.add(index); else days.delete(index);
      put(value, 'weekdays', [...days].sort());
      commit();
    }, { 'data-day': index })));
    const hours = Array.isArray(value.hours) ? value.hours : null;
    const range = (low, high) => Array.from({ length: high - low + 1 }, (_, i) => [low + i, `${String(low + i).padStart(2, '0')}:00`]);
    const hourBox = el('span', { class: 'rt-inline' });
    function renderHours() {
      hourBox.replaceChildren();
      if (!value.hours) return;
      hourBox.append('from ', select(range(0, fromMax), value.hours[0], (v) => { value.hours[0] = Number(v); commit(); }, { 'aria-label': 'from' }),
        ' to ', select(range(1, toMax), value.hours[1], (v) => { value.hours[1] = Number(v); commit(); }, { 'aria-label': 'to' }));
    }
    const allDay = checkbox(!hours, (on) => {
      if (on) delete value.hours; else value.hours = [9, 18];
      renderHours();
      commit();
    });
    renderHours();
    const zone = ctx.data.time_zone ? ` (${ctx.data.time_zone})` : '';
    ctx.box.append(
      el('div', { class: 'rt-row', 'data-path': 'schedule.weekdays' }, el('span', { class: 'rt-label', text: 'Days (none ticked: every day)' }), ...dayBoxes),
      el('div', { class: 'rt-row', 'data-path': 'schedule.hours' }, el('span', { class: 'rt-label', text: `Hours in the site's time zone${zone}` }),
        field('all day', allDay), hourBox),
      el('p', { class: 'rt-note', text: 'Start and end dates are the fields "Starts at" and "Ends at".' }));
  }

  function goalEditor(ctx) {
    const value = isObject(ctx.value) ? ctx.value : null;
    if (!value) throw new Error('a goal is an object');
    const { types, details, url_ops: urlOps, attribution_days: [low, high, fallback] } = ctx.data.goal;
    const commit = () => ctx.commit(value);
    // A type with a detail keeps it under its own name: a page-address rule, or a name.
    function render() {
      ctx.box.replaceChildren();
      const row = el('div', { class: 'rt-row', 'data-path': 'goal' }, field('counts as a conversion', select(types, value.type, (type) => {
        for (const key of Object.keys(details)) if (key !== type) delete value[key];
        value.type = type;
        if (details[type] === 'rule' && !isObject(value[type])) value[type] = { op: urlOps[0].name, value: '' };
        if (details[type] === 'name' && typeof value[type] !== 'string') value[type] = '';
        commit();
        render();
      }, { 'aria-label': 'goal type' })));
      const detail = details[value.type];
      if (detail === 'rule' && isObject(value[value.type])) {
        const rule = value[value.type];
        const shape = (urlOps.find((o) => o.name === rule.op) || {}).value;
        row.append(field('page address', select(urlOps.map((o) => [o.name, o.phrase]), rule.op, (op) => { rule.op = op; commit(); render(); },
          { 'aria-label': 'address operator' })),
        shape === 'pattern'
          ? regexInput(rule.value, (v) => { rule.value = v; commit(); }, ctx.data.patterns)
          : textInput(rule.value, (v) => { rule.value = v; commit(); }, { 'aria-label': 'address', placeholder: '/thanks' }));
      } else if (detail === 'name') {
        row.append(field('name', textInput(value[value.type], (v) => { value[value.type] = v; commit(); }, { 'aria-label': 'name' })));
      }
      row.append(field('attribution window (days)', numberInput(value.attribution_days, (v) => { put(value, 'attribution_days', v); commit(); },
        { low, high, integer: true, param: 'attribution_days' }), `${low}–${high}, default ${fallback}`));
      ctx.box.append(row);
    }
    render();
  }

  // ------------------------------------------------------------ allowed origins

  function originsEditor(ctx) {
    if (!Array.isArray(ctx.value)) throw new Error('origins are a list');
    const list = ctx.value;
    function render() {
      ctx.box.replaceChildren();
      list.forEach((origin, index) => {
        ctx.box.append(el('div', { class: 'rt-row' },
          textInput(origin, (v) => { list[index] = v.trim(); ctx.commit(list.filter(Boolean)); },
            { 'aria-label': 'origin', placeholder: 'https://shop.example', class: 'vTextField' }),
          button('Remove', () => { list.splice(index, 1); ctx.commit(list); render(); })));
      });
      ctx.box.append(button('Add an origin', () => { list.push(''); render(); ctx.box.querySelector('div:last-of-type input').focus(); }));
    }
    render();
  }

  // ------------------------------------------------------------ variant content

  const LABELS = {
    headline: 'Headline', body: 'Body', image: 'Image URL', cta: 'Button', close_label: 'Close button label',
    colors: 'Colours', position: 'Position', question: 'Question', low_label: 'Label under 0',
    high_label: 'Label under 10', followup: 'Follow-up question per answer', options: 'Options (one per line)',
    multiple: 'Several options may be chosen', free_text: 'Free-text box label', coupon: 'Coupon',
    thank_you: 'Thank-you screen', countdown: 'Countdown', consent_label: 'Consent checkbox label',
    quiz: 'Product quiz', fields: 'Form fields', magnet: 'Lead magnet', steps: 'Steps', categories: 'Consent categories',
    feedback: '"What stopped you?" link', accept_label: 'Accept button', reject_label: 'Reject button',
    customize_label: 'Customise button', save_label: 'Save choices button', policy_label: 'Privacy policy link text',
  };
  const BANDS = [['detractor', 'Detractors (0–6)'], ['passive', 'Passives (7–8)'], ['promoter', 'Promoters (9–10)']];

  function contentEditor(ctx) {
    if (!isObject(ctx.value)) throw new Error('content is an object');
    const value = ctx.value;
    const typeSelect = document.getElementById('id_message_type');
    const commit = () => ctx.commit(value);

    function placeholders(target) {
      return select([['', 'Insert a placeholder…'], ...ctx.data.placeholders.map((p) => [p, p])], '', (p) => {
        if (!p) return;
        const at = target.selectionStart ?? target.value.length;
        target.value = target.value.slice(0, at) + p + target.value.slice(target.selectionEnd ?? at);
        target.dispatchEvent(new Event('input'));
        target.focus();
      }, { class: 'rt-placeholders', 'aria-label': 'insert a placeholder' });
    }

    function text(object, key, label, { long = false, html = false, offer = false } = {}) {
      const path = object.path ? `${object.path}.${key}` : key;
      const wrapper = el('div', { class: 'rt-field rt-block', 'data-path': `content.${path}` });
      const input = long || html
        ? el('textarea', { rows: html ? 4 : 2, 'data-content': path, class: 'rt-text' })
        : el('input', { type: 'text', 'data-content': path, class: 'vTextField' });
      input.value = object()[key] == null ? '' : String(object()[key]);
      input.setAttribute('aria-label', label);
      input.addEventListener('input', () => { put(object(true), key, input.value); tidy(); commit(); });
      const tools = html ? toolbar(input) : null;
      wrapper.append(el('span', { class: 'rt-label', text: label }), tools || '', input, offer ? placeholders(input) : '');
      return wrapper;
    }

    // A moment picked in the owner's local time, stored as UTC (what every visitor's countdown reaches at once).
    function moment(object, key, label) {
      const path = `${object.path}.${key}`;
      const input = el('input', { type: 'datetime-local', 'data-content': path, 'aria-label': label });
      const stored = object()[key] ? new Date(object()[key]) : null;
      if (stored && !Number.isNaN(stored.getTime())) {
        input.value = new Date(stored.getTime() - stored.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
      }
      input.addEventListener('input', () => {
        const picked = input.value ? new Date(input.value) : null;
        put(object(true), key, picked && !Number.isNaN(picked.getTime()) ? picked.toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined);
        tidy();
        commit();
      });
      return el('div', { class: 'rt-field rt-block', 'data-path': `content.${path}` }, el('span', { class: 'rt-label', text: label }), input);
    }

    // Nested objects (cta, thank_you ...) are created when first written and dropped when emptied.
    const nested = [];
    function part(key) {
      const getter = (create) => {
        if (!isObject(value[key])) {
          if (!create) return {};
          value[key] = {};
        }
        if (!nested.includes(key)) nested.push(key);
        return value[key];
      };
      getter.path = key;
      return getter;
    }
    function tidy() { for (const key of nested) if (empty(value[key])) delete value[key]; }

    // The body's toolbar wraps the selection in one of the tags the server keeps; the server sanitises the rest.
    function toolbar(area) {
      const wrap = (open, close) => {
        const [a, b] = [area.selectionStart, area.selectionEnd];
        area.value = area.value.slice(0, a) + open + area.value.slice(a, b) + close + area.value.slice(b);
        area.dispatchEvent(new Event('input'));
        area.focus();
      };
      const tags = new Set(ctx.data.tags);
      const tools = [['strong', 'Bold'], ['em', 'Italic'], ['p', 'Paragraph']].filter(([t]) => tags.has(t))
        .map(([tag, label]) => button(label, () => wrap(`<${tag}>`, `</${tag}>`)));
      if (tags.has('a')) {
        tools.push(button('Link', () => {
          const href = window.prompt('Link address (https://… or /path)');
          if (href) wrap(`<a href="${href.replace(/"/g, '&quot;')}">`, '</a>');
        }));
      }
      if (tags.has('ul')) {
        tools.push(button('List', () => {
          const [a, b] = [area.selectionStart, area.selectionEnd];
          const items = area.value.slice(a, b).split('\n').filter(Boolean).map((line) => `<li>${line}</li>`).join('');
          area.value = `${area.value.slice(0, a)}<ul>${items || '<li></li>'}</ul>${area.value.slice(b)}`;
          area.dispatchEvent(new Event('input'));
        }));
      }
      return el('div', { class: 'rt-toolbar' }, tools);
    }

    function colours() {
      const colors = part('colors');
      return el('div', { class: 'rt-row' }, el('span', { class: 'rt-label', text: LABELS.colors }),
        ...['background', 'text', 'accent'].map((name) => {
          const current = colors()[name];
          const picker = el('input', { type: 'color', value: /^#[0-9a-f]{6}$/i.test(current || '') ? current : '#ffffff', 'aria-label': `${name} colour` });
          const on = checkbox(!!current, (set) => { put(colors(true), name, set ? picker.value : undefined); tidy(); commit(); }, { 'aria-label': `set the ${name} colour` });
          picker.addEventListener('input', () => { on.checked = true; put(colors(true), name, picker.value); commit(); });
          return field(name, el('span', { class: 'rt-inline' }, on, picker));
        }));
    }

    function lines(key, label, object = () => value) {
      const path = object.path ? `${object.path}.${key}` : key;
      const area = el('textarea', { rows: 3, 'data-content': path, 'aria-label': label });
      area.value = Array.isArray(object()[key]) ? object()[key].join('\n') : '';
      area.addEventListener('input', () => {
        put(object(true), key, area.value.split('\n').map((s) => s.trim()).filter(Boolean));
        tidy();
        commit();
      });
      return el('div', { class: 'rt-field rt-block', 'data-path': `content.${path}` }, el('span', { class: 'rt-label', text: label }), area);
    }

    // A list of small records (form fields, steps, consent categories): one row each, added and removed.
    function records(key, label, columns, blank) {
      const box = el('fieldset', { class: 'rt-sub', 'data-path': `content.${key}` });
      const items = () => (Array.isArray(value[key]) ? value[key] : []);
      function draw() {
        box.replaceChildren(el('legend', { text: label }));
        items().forEach((item, index) => {
          const row = el('div', { class: 'rt-row', 'data-path': `content.${key}[${index}]` });
          for (const [name, title, type] of columns) {
            const set = (v) => { put(item, name, v); commit(); };
            let input;
            if (type === 'bool') input = checkbox(item[name], (on) => set(on || undefined));
            else if (Array.isArray(type)) input = select(type, item[name] ?? type[0], set);
            else if (type === 'html') {
              input = el('textarea', { rows: 2, class: 'rt-text' });
              input.value = item[name] ?? '';
              input.addEventListener('input', () => set(input.value));
            } else input = textInput(item[name], set);
            input.setAttribute('aria-label', title);
            input.dataset.path = `content.${key}[${index}].${name}`;
            row.append(field(title, input));
          }
          row.append(button('Remove', () => { items().splice(index, 1); put(value, key, items()); commit(); draw(); }));
          box.append(row);
        });
        box.append(button(`Add to ${label.toLowerCase()}`, () => {
          if (!Array.isArray(value[key])) value[key] = [];
          value[key].push({ ...blank });
          commit();
          draw();
        }));
      }
      draw();
      return box;
    }

    // The quiz: products, then questions whose answers give each product points; the most points wins.
    function quiz() {
      const box = el('fieldset', { class: 'rt-sub rt-quiz', 'data-path': 'content.quiz' });
      const q = part('quiz');
      const list = (key) => {
        const object = q(true);
        if (!Array.isArray(object[key])) object[key] = [];
        return object[key];
      };
      const input = (object, key, label, path) => {
        const node = textInput(object[key], (v) => { put(object, key, v); commit(); }, { 'aria-label': label, 'data-path': path });
        return field(label, node);
      };
      // A product renamed keeps its points: every answer's scores follow the new id.
      function productId(product, path) {
        const node = textInput(product.id, (id) => {
          for (const question of list('questions')) {
            for (const answer of question.answers || []) {
              if (isObject(answer.scores) && product.id in answer.scores) {
                answer.scores[id] = answer.scores[product.id];
                delete answer.scores[product.id];
              }
            }
          }
          product.id = id;
          commit();
        }, { 'aria-label': 'Id', 'data-path': `${path}.id` });
        node.addEventListener('change', draw);
        return field('Id', node);
      }
      function draw() {
        const hasQuiz = isObject(value.quiz);
        box.replaceChildren(el('legend', { text: LABELS.quiz }));
        if (!hasQuiz) {
          box.append(button('Add a quiz', () => { list('products'); list('questions'); commit(); draw(); }));
          return;
        }
        box.append(text(q, 'start_label', 'Start button'), text(q, 'result_headline', 'Result headline'),
          text(q, 'result_cta', 'Result button'));
        const products = list('products');
        const productBox = el('fieldset', { class: 'rt-sub', 'data-path': 'content.quiz.products' }, el('legend', { text: 'Products' }));
        products.forEach((product, index) => {
          const path = `content.quiz.products[${index}]`;
          productBox.append(el('div', { class: 'rt-row', 'data-path': path },
            productId(product, path),
            ...[['title', 'Title'], ['url', 'Link'], ['image', 'Image URL'], ['description', 'Description']]
              .map(([key, label]) => input(product, key, label, `${path}.${key}`)),
            button('Remove', () => { products.splice(index, 1); commit(); draw(); })));
        });
        productBox.append(button('Add a product', () => { products.push({ id: `product-${products.length + 1}` }); commit(); draw(); }));
        const questions = list('questions');
        const questionBox = el('fieldset', { class: 'rt-sub', 'data-path': 'content.quiz.questions' }, el('legend', { text: 'Questions' }));
        questions.forEach((question, index) => {
          const path = `content.quiz.questions[${index}]`;
          if (!Array.isArray(question.answers)) question.answers = [];
          const qBox = el('div', { class: 'rt-group', 'data-path': path }, input(question, 'question', 'Question', `${path}.question`));
          question.answers.forEach((answer, a) => {
            const apath = `${path}.answers[${a}]`;
            if (!isObject(answer.scores)) answer.scores = {};
            qBox.append(el('div', { class: 'rt-row', 'data-path': apath }, input(answer, 'label', 'Answer', `${apath}.label`),
              ...products.filter((p) => p.id).map((p) => field(`points for ${p.id}`, numberInput(answer.scores[p.id], (v) => {
                put(answer.scores, p.id, v);
                commit();
              }, { low: 0, integer: true }))),
              button('Remove', () => { question.answers.splice(a, 1); commit(); draw(); })));
          });
          qBox.append(button('Add an answer', () => { question.answers.push({ label: '', scores: {} }); commit(); draw(); }),
            button('Remove the question', () => { questions.splice(index, 1); commit(); draw(); }));
          questionBox.append(qBox);
        });
        questionBox.append(button('Add a question', () => { questions.push({ question: '', answers: [] }); commit(); draw(); }));
        box.append(productBox, questionBox, button('Remove the quiz', () => { delete value.quiz; commit(); draw(); }));
      }
      draw();
      return box;
    }

    const SECTIONS = {
      quiz,
      headline: () => text(() => value, 'headline', LABELS.headline, { offer: true }),
      body: () => text(() => value, 'body', LABELS.body, { html: true, offer: true }),
      image: () => text(() => value, 'image', LABELS.image),
      cta: () => el('div', { class: 'rt-row' }, text(part('cta'), 'label', 'Button label'), text(part('cta'), 'url', 'Button link')),
      close_label: () => text(() => value, 'close_label', LABELS.close_label),
      colors: colours,
      position: () => field(LABELS.position, select([['', 'default'], ...ctx.data.positions], value.position ?? '',
        (p) => { put(value, 'position', p); commit(); }, { 'data-content': 'position' })),
      question: () => text(() => value, 'question', LABELS.question, { offer: true }),
      low_label: () => text(() => value, 'low_label', LABELS.low_label),
      high_label: () => text(() => value, 'high_label', LABELS.high_label),
      followup: () => el('fieldset', { class: 'rt-sub' }, el('legend', { text: LABELS.followup }),
        ...BANDS.map(([band, label]) => text(part('followup'), band, label))),
      options: () => lines('options', LABELS.options),
      multiple: () => field(LABELS.multiple, checkbox(value.multiple, (on) => { put(value, 'multiple', on || undefined); commit(); })),
      free_text: () => text(part('free_text'), 'label', LABELS.free_text),
      coupon: () => el('div', { class: 'rt-row' }, el('span', { class: 'rt-label', text: LABELS.coupon }),
        text(part('coupon'), 'code', 'Code'), text(part('coupon'), 'label', 'Text beside the code')),
      consent_label: () => text(() => value, 'consent_label', LABELS.consent_label),
      fields: () => records('fields', LABELS.fields, [['name', 'Field', ctx.data.lead_fields], ['label', 'Label'],
        ['required', 'Required', 'bool']], { name: ctx.data.lead_fields[0], required: true }),
      magnet: () => el('div', { class: 'rt-row' }, el('span', { class: 'rt-label', text: LABELS.magnet }),
        text(part('magnet'), 'title', 'Title'), text(part('magnet'), 'asset', 'File (asset:name.pdf)')),
      steps: () => records('steps', LABELS.steps, [['headline', 'Headline'], ['body', 'Body', 'html']], {}),
      categories: () => records('categories', LABELS.categories, [['id', 'Id'], ['label', 'Label'],
        ['description', 'Description'], ['required', 'Always on', 'bool']], {}),
      feedback: () => el('fieldset', { class: 'rt-sub' }, el('legend', { text: LABELS.feedback }),
        text(part('feedback'), 'label', 'Link text'), text(part('feedback'), 'question', 'Question'),
        lines('options', LABELS.options, part('feedback'))),
      ...Object.fromEntries(['accept_label', 'reject_label', 'customize_label', 'save_label', 'policy_label']
        .map((key) => [key, () => text(() => value, key, LABELS[key])])),
      thank_you: () => el('fieldset', { class: 'rt-sub' }, el('legend', { text: LABELS.thank_you }),
        text(part('thank_you'), 'headline', 'Headline'), text(part('thank_you'), 'body', 'Body', { html: true })),
      countdown: () => el('div', { class: 'rt-row' }, el('span', { class: 'rt-label', text: LABELS.countdown }),
        field('minutes', numberInput(value.countdown && value.countdown.minutes, (v) => { put(part('countdown')(true), 'minutes', v); tidy(); commit(); }, { low: 0, integer: true })),
        moment(part('countdown'), 'ends_at', 'or ends at (your local time)'), text(part('countdown'), 'label', 'Label')),
    };

    function render() {
      ctx.box.replaceChildren();
      const type = typeSelect ? typeSelect.value : null;
      const keys = (type && ctx.data.fields[type]) || Object.keys(SECTIONS);
      for (const key of keys) if (SECTIONS[key]) ctx.box.append(SECTIONS[key]());
      const raw = keys.filter((key) => !SECTIONS[key]);
      if (raw.length) {
        ctx.box.append(el('p', { class: 'rt-note', text: `Edit ${raw.map(words).join(', ')} with "Raw JSON".` }));
      }
    }
    if (typeSelect && !ctx.root.dataset.typeWatch) {
      ctx.root.dataset.typeWatch = '1';
      typeSelect.addEventListener('change', () => ctx.rebuild());
    }
    render();
  }

  const EDITORS = {
    triggers: { build: triggersEditor, empty: [] },
    targeting: { build: targetingEditor, empty: null },
    frequency: { build: frequencyEditor, empty: {} },
    schedule: { build: scheduleEditor, empty: {} },
    goal: { build: goalEditor, empty: {} },
    content: { build: contentEditor, empty: {} },
    origins: { build: originsEditor, empty: [] },
  };

  // ------------------------------------------------------------ mounting

  // The server's messages stay in the field's error list; each also marks the part of the editor its path names
  // ("triggers[0].percent: ..." marks that input), the nearest one when no part has the exact path.
  function markErrors(root) {
    const row = root.closest('.form-row');
    const list = row && row.querySelector('.errorlist');
    if (!list) return;
    const parts = [...root.querySelectorAll('[data-path]')];
    for (const item of list.querySelectorAll('li')) {
      const head = item.textContent.split(':', 1)[0].replace(/ length$/, '');
      let best = null;
      for (const part of parts) {
        const path = part.dataset.path;
        const within = head === path || head.startsWith(`${path}.`) || head.startsWith(`${path}[`);
        if (within && (!best || path.length > best.dataset.path.length)) best = part;
      }
      if (best) {
        best.classList.add('rt-error');
        best.setAttribute('aria-invalid', 'true');
        best.setAttribute('title', item.textContent);
      }
    }
  }

  function mount(root) {
    if (root.dataset.ready || root.closest('.empty-form')) return;
    const spec = EDITORS[root.dataset.editor];
    const textarea = root.querySelector('textarea');
    const dataNode = root.querySelector('script[type="application/json"]');
    if (!spec || !textarea || !dataNode) return;
    root.dataset.ready = '1';
    const data = JSON.parse(dataNode.textContent);
    const box = root.querySelector('.rt-editor-form');
    const status = root.querySelector('.rt-editor-status');
    const toggle = root.querySelector('.rt-editor-raw');

    function write(value) {
      textarea.value = JSON.stringify(value, null, 2);
      textarea.dispatchEvent(new Event('input', { bubbles: true }));
    }

    function show(raw, reason) {
      root.classList.toggle('rt-raw', raw);
      toggle.setAttribute('aria-pressed', String(raw));
      toggle.textContent = raw ? 'Use the editor' : 'Raw JSON';
      status.textContent = reason || '';
      status.classList.toggle('rt-bad', !!reason);
    }

    // The editor is rebuilt from the textarea: the posted value after a failed save, or what was typed raw.
    function build() {
      const text = textarea.value.trim();
      let value;
      try {
        value = text === '' ? structuredClone(spec.empty) : JSON.parse(text);
      } catch (error) {
        box.replaceChildren();
        show(true, `This is not valid JSON (${error.message}); fix it here to use the editor again.`);
        return false;
      }
      box.replaceChildren();
      try {
        spec.build({ value, data, box, root, commit: write, rebuild: build });
        markErrors(root);
      } catch (error) {
        box.replaceChildren();
        show(true, `The editor cannot show this value (${error.message}); edit it as JSON.`);
        return false;
      }
      show(false);
      return true;
    }

    toggle.addEventListener('click', () => {
      if (root.classList.contains('rt-raw')) build();
      else show(true);
    });
    build();
  }

  // ------------------------------------------------------------ the plain-language summary

  let summaryTimer = null;
  function summaryRefresh() {
    const source = document.querySelector('[data-describe-url]');
    const url = source && source.dataset.describeUrl;
    const target = document.querySelector('.field-summary .readonly');
    const form = url && target && target.closest('form');
    if (!form) return;
    clearTimeout(summaryTimer);
    summaryTimer = setTimeout(() => {
      const body = new FormData();
      for (const name of ['csrfmiddlewaretoken', 'message_type', 'triggers', 'targeting', 'frequency']) {
        const input = form.elements.namedItem(name);
        if (input) body.append(name, input.value);
      }
      fetch(url, { method: 'POST', body, credentials: 'same-origin' })
        .then((response) => (response.ok ? response.json() : null))
        .then((answer) => { if (answer && answer.summary) target.textContent = answer.summary; })
        .catch(() => {});
    }, 300);
  }

  function start() {
    document.querySelectorAll('[data-editor]').forEach(mount);
    document.addEventListener('input', (event) => {
      if (event.target.closest && event.target.closest('[data-editor="triggers"], [data-editor="targeting"], [data-editor="frequency"]')
          && event.target.tagName === 'TEXTAREA') summaryRefresh();
    });
    const type = document.getElementById('id_message_type');
    if (type) type.addEventListener('change', summaryRefresh);
    // A variant added with "Add another" gets its editor too.
    document.addEventListener('formset:added', (event) => event.target.querySelectorAll('[data-editor]').forEach(mount));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
