// retarget('debug'): a lazy chunk, so that pages that never ask do not download the sentences.
// The core passes the config, the visitor context, decide()'s rows and each campaign's status.

const _json = (x) => JSON.stringify(x == null ? null : x);

// The sentence for an answer of rules.js _walk(): [path, kind, rule, actual].
export const whyText = ([, kind, r, a]) => [
  'invalid rule',
  `none of the ${Array.isArray((r || {}).any) ? r.any.length : 0} alternatives matched`,
  'the excluded condition matched',
  kind == 3 && `${r.attr} ${r.op} ${_json(r.value)} did not match (${r.attr} is ${_json(a)})`,
][kind];

export function debug({ config, context, rows, status, variants, required }) {
  const c = console;
  c.group('[retarget] debug');
  c.log('config version', config.version, '- consent', context.consent, required ? '(required)' : '');
  c.log('visitor', context.visitor);
  rows.forEach((d) => c.log(`campaign ${d.id}: ${status(d.id)}; variant ${variants[d.id]};`,
    d.armed ? 'eligible' : `not eligible: ${d._why ? whyText(d._why) : d.reason} (${d.path})`, d));
  c.log('context (paste into the admin\'s "Why not shown?" preview):', JSON.stringify(context));
  c.groupEnd();
}
