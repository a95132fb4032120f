// Builds the widget into static/widget/: the core (one classic script, IIFE) under the stable name
// retarget.js that every embed snippet names, the lazy modules (renderers and debug: ES modules
// loaded with import() on demand, shared code split into chunks, content-hashed names) and
// manifest.json. Every file is minified by esbuild (with `_`-prefixed properties renamed, one rename
// map for all files) and then by terser, whichever is smaller.
// The lazy files of earlier builds stay beside the new ones for KEEP_DAYS after the build that
// superseded them (manifest "superseded": file -> that day), so a page still running an earlier
// core can load the renderer it knows.
// The folders say where a file ships: src/index.js and src/core/ are the core; src/lazy/ (the show path, the
// visitor's history, debug, the consent adapters) and src/render/ (the renderers) are the lazy files; src/lang/
// holds the widget's words, one lazy file per language (lang-<code>.<hash>.js, imported by the show path).
//   node build.mjs            build, print sizes; exits 1 when over the size budget (files still written)
//   node build.mjs --check    fail if the committed files differ from a fresh build (sizes not checked;
//                             the superseded files are taken as the manifest lists them, whatever the date)
//   node build.mjs --out DIR  build somewhere else (`npm run size` builds into a temporary folder)
//   node build.mjs --sizes    print the committed files' gzipped sums as JSON, no build (bench/widget_bench.py)
import { build } from 'esbuild';
import { minify } from 'terser';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'static', 'widget');
// Renderer files (src/render/<file>.js) -> the renderers each one exports, named after them.
// One file for all: fewer files gzip smaller and load without a chunk waterfall.
const RENDER_FILES = { all: ['message', 'consent', 'nps', 'feedback', 'lead', 'cart_recovery', 'quiz'] };
const RENDERERS = Object.values(RENDER_FILES).flat();
// Lazy modules that are not renderers. cmp: Consent Mode and the other consent tools' adapters (src/lazy/consent.js,
// loaded by sites with one); not named `consent`, which is a renderer's name.
// preview: a campaign drawn for the admin's preview frame and for a signed "Preview on my site" link.
// aud: page groups counted and audiences evaluated before each page view (src/lazy/audiences.js), for sites with them.
const LAZY = {
  debug: path.join(HERE, 'src', 'lazy', 'debug.js'), cmp: path.join(HERE, 'src', 'lazy', 'consent.js'),
  preview: path.join(HERE, 'src', 'lazy', 'preview.js'), aud: path.join(HERE, 'src', 'lazy', 'audiences.js'),
};
// message types -> renderer module (popup, bar, slide_in and fullscreen share one)
const TYPES = { popup: 'message', bar: 'message', slide_in: 'message', fullscreen: 'message' };
// The languages: src/lang/<code>.js, plain data built apart (as arrays: bundle()), their files named lang-<code>.<hash>.js with one hash
// of them all, which the renderer file is given (with the list) to import the one it needs: one name to carry
// instead of one per language. Each table is within `lang`; a visitor loads one (the message's language), so the
// largest counts in what one visitor's page may load (`total`).
const LANGS = fs.readdirSync(path.join(HERE, 'src', 'lang')).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
const BUDGET = { core: 7 * 1024, total: 16 * 1024, lang: 1024 }; // gzipped bytes
// The lazy files only a site's owners load, left out of `total`: preview (the admin's preview frame and signed
// preview links) and debug (loaded by retarget('debug') typed in a console, nothing else).
const OWNERS = ['preview', 'debug'];
export const CORE = 'retarget.js';
// Earlier hashed cores (retarget.<hash>.js) are ours too: a build removes them (the server answers their URLs).
const OURS = /^(retarget(\.[\w-]+)?\.js|(render|lang)-[\w-]+\.[\w-]+\.js|(chunk|debug|cmp|preview|aud)\.[\w-]+\.js|manifest\.json)$/;
export const KEEP_DAYS = 7;
const TARGET = ['es2020'];
const { version } = JSON.parse(fs.readFileSync(path.join(HERE, 'package.json'), 'utf8'));

const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 10);
const gz = (text) => gzipSync(text, { level: 9 }).length;

// `_`-prefixed properties are internal: renamed, the same way in every file (mangleCache).
// Nothing that crosses the wire, the storage or the DOM starts with `_`; `__proto__` is kept.
const MANGLE = { mangleProps: /^_/, reserveProps: /^__/, mangleQuoted: false };

// V8's explicit compile hint (Chrome 136+; a plain comment elsewhere): every function of the file is compiled
// eagerly on the thread that streams the script in, instead of lazily on the main thread at its first call.
// It must be the file's first line. The core: nearly all of it runs at start-up (rules, state, transport,
// arming). The renderers: they are prefetched when a campaign is armed, so at show time their code is ready
// instead of compiled on the main thread between the trigger and the message. Not debug.js (rarely loaded).
// Measured with bench/widget_bench.py (4x throttling): the widget's main-thread time about halved.
const HINT = '//# allFunctionsCalledOnLoad\n';

// terser on top of esbuild, kept only when it is smaller once gzipped.
async function smaller(text, module) {
  const t = (await minify(text, {
    ecma: 2020, module, toplevel: module,
    compress: { passes: 2, unsafe_arrows: true, pure_getters: true },
    mangle: true, format: { comments: false },
  })).code;
  return gz(t) < gz(text) ? t : text;
}

// The core's own properties get their short names first, from the core alone (its lazy file names are not known
// yet, nor needed for that): what the lazy files add or change never renames the core's properties.
async function coreNames(common) {
  const core = await build({
    ...common, mangleCache: {}, entryPoints: [path.join(HERE, 'src', 'index.js')], format: 'iife',
    define: { __RT_VERSION__: '""', __RT_FILES__: '{}' },
  });
  return core.mangleCache;
}

async function bundle() {
  const common = { bundle: true, minify: true, write: false, legalComments: 'none', target: TARGET, logLevel: 'warning', ...MANGLE };
  // Each built table lists its words in the order of `keys`, which the renderer file is given once (__RT_KEYS__)
  // instead of every table naming them: the sources stay objects, a visitor's table weighs about a third less.
  const words = {}, tables = {};
  for (const l of LANGS) words[l] = (await import(path.join(HERE, 'src', 'lang', `${l}.js`))).default;
  const keys = [...new Set(LANGS.flatMap((l) => Object.keys(words[l])))];
  LANGS.forEach((l) => { tables[l] = `export default ${JSON.stringify(keys.map((k) => words[l][k] ?? null))};`; });
  const langHash = hash(LANGS.map((l) => tables[l]).join('\n'));
  const entries = Object.fromEntries(Object.keys(RENDER_FILES).map((n) => [`render-${n}`, path.join(HERE, 'src', 'render', `${n}.js`)]));
  Object.entries(LAZY).forEach(([n, p]) => { entries[n] = p; });
  const lazy = await build({
    ...common, entryPoints: entries, format: 'esm', splitting: true, outdir: '/out',
    entryNames: '[name].[hash]', chunkNames: 'chunk.[hash]', metafile: true, mangleCache: (await coreNames(common)),
    define: {
      __RT_LANGS__: JSON.stringify(LANGS.join(' ')), __RT_LANG__: JSON.stringify(langHash), __RT_KEYS__: JSON.stringify(keys.join(' ')),
    },
  });
  const files = {};
  const names = {}; // renderer or lazy module -> file name
  LANGS.forEach((l) => { names[`lang-${l}`] = `lang-${l}.${langHash}.js`; files[names[`lang-${l}`]] = tables[l]; });
  for (const f of lazy.outputFiles) {
    const name = path.basename(f.path);
    files[name] = (name.startsWith('render-') ? HINT : '') + await smaller(f.text, true);
  }
  Object.entries(lazy.metafile.outputs).forEach(([out, meta]) => {
    // the file's name starts with its entry's key (entryNames '[name].[hash]')
    if (meta.entryPoint) names[path.basename(out).split('.')[0].replace(/^render-/, '')] = path.basename(out);
  });
  // The core loads the renderer file as `render` (src/render/all.js exports the show path and every renderer).
  const coreFiles = { render: names.all, ...Object.fromEntries(Object.keys(LAZY).map((n) => [n, names[n]])) };
  Object.entries(RENDER_FILES).forEach(([f, list]) => list.forEach((n) => { names[n] = names[f]; }));
  Object.keys(RENDER_FILES).forEach((f) => delete names[f]);
  const core = await build({
    ...common, mangleCache: lazy.mangleCache,
    entryPoints: [path.join(HERE, 'src', 'index.js')],
    format: 'iife',
    define: { __RT_VERSION__: JSON.stringify(version), __RT_FILES__: JSON.stringify(coreFiles) },
  });
  const coreText = HINT + await smaller(core.outputFiles[0].text, false);
  files[CORE] = coreText;
  const manifest = {
    version,
    core: CORE,
    core_hash: hash(coreText),
    renderers: {
      ...Object.fromEntries(Object.entries(TYPES).map(([t, n]) => [t, names[n]])),
      ...Object.fromEntries(RENDERERS.map((n) => [n, names[n]])),
    },
    chunks: Object.keys(files).filter((f) => f.startsWith('chunk.')).sort(),
    lazy: Object.keys(LAZY).map((n) => names[n]),
    langs: Object.fromEntries(LANGS.map((l) => [l, names[`lang-${l}`]])),
    // read by the admin's preview frame (campaigns/admin/live_preview.py)
    preview: names.preview,
    // never loaded for a visitor (OWNERS): bench/widget_bench.py leaves them out of the visitor's weight too
    owners: OWNERS.map((n) => names[n]),
  };
  return { files, manifest };
}

// The lazy files a manifest names as current.
export const lazyFiles = (manifest) => new Set([
  ...Object.values(manifest.renderers || {}), ...(manifest.chunks || []), ...(manifest.lazy || []),
  ...Object.values(manifest.langs || {}),
]);

const DAY_MS = 24 * 60 * 60 * 1000;

// Which earlier lazy files stay, and since when they are superseded: plain data in, a map out.
// previous: the manifest the folder held (or null); current: the new build's lazy files; today: 'YYYY-MM-DD'.
// prune false keeps every listed file whatever its date (the check must not depend on the day it runs).
export function superseded({ previous, current, today, prune = true }) {
  const kept = { ...((previous && previous.superseded) || {}) };
  if (previous && prune) lazyFiles(previous).forEach((f) => { if (!(f in kept)) kept[f] = today; });
  const oldest = Date.parse(today) - KEEP_DAYS * DAY_MS;
  return Object.fromEntries(Object.entries(kept)
    .filter(([f, day]) => !current.has(f) && (!prune || Date.parse(day) >= oldest))
    .sort(([a], [b]) => (a < b ? -1 : 1)));
}

const readManifest = (dir) => {
  const file = path.join(dir, 'manifest.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
};

// The build's files plus the earlier lazy files still kept (read from dir, where they are), and the manifest.
function withSuperseded({ files, manifest }, dir, { today, prune }) {
  const all = { ...files };
  const kept = superseded({ previous: readManifest(dir), current: lazyFiles(manifest), today, prune });
  Object.keys(kept).forEach((f) => {
    if (fs.existsSync(path.join(dir, f))) all[f] = fs.readFileSync(path.join(dir, f), 'utf8');
    else delete kept[f];
  });
  const full = Object.keys(kept).length ? { ...manifest, superseded: kept } : manifest;
  all['manifest.json'] = JSON.stringify(full, null, 2) + '\n';
  return all;
}

function write(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  fs.readdirSync(dir).filter((f) => OURS.test(f) && !(f in files)).forEach((f) => fs.rmSync(path.join(dir, f)));
  Object.entries(files).forEach(([name, text]) => fs.writeFileSync(path.join(dir, name), text));
}

// What one visitor's page may load: the core, the renderer file and its chunks, every lazy file but the owners'
// tools, and the largest language table (a visitor loads one).
export function visitorFiles(manifest, size) {
  const langs = Object.values(manifest.langs || {});
  const owners = new Set(manifest.owners || []);
  return [
    manifest.core, ...new Set(Object.values(manifest.renderers || {})), ...(manifest.chunks || []),
    ...(manifest.lazy || []).filter((f) => !owners.has(f)),
    ...(langs.length ? [langs.reduce((a, b) => (size(b) > size(a) ? b : a))] : []),
  ];
}

// The gzipped sums the budgets weigh; size(file) -> its gzipped bytes.
function sums(manifest, size) {
  return {
    core: size(manifest.core), total: visitorFiles(manifest, size).reduce((n, f) => n + size(f), 0),
    lang: Math.max(...Object.values(manifest.langs).map(size)), owners: manifest.owners.reduce((n, f) => n + size(f), 0),
  };
}

// Prints the sizes of this build's files (not the superseded ones kept); returns false when over budget.
function report({ files, manifest }) {
  const js = Object.keys(files).filter((f) => f.endsWith('.js'));
  const size = (f) => gz(files[f]);
  const { core, total, lang } = sums(manifest, size);
  js.sort().forEach((f) => console.log(`${f.padEnd(40)} ${String(files[f].length).padStart(6)} B  ${String(size(f)).padStart(5)} B gzip`));
  console.log(`core ${core} B gzip (budget ${BUDGET.core}), one visitor's page at most ${total} B gzip (budget ${BUDGET.total}: `
    + `core, renderers, ${manifest.lazy.filter((f) => !manifest.owners.includes(f)).map((f) => f.split('.')[0]).join(', ')}, `
    + `the largest language table; not ${OWNERS.join(', ')}), largest language table ${lang} B gzip (budget ${BUDGET.lang})`);
  if (core <= BUDGET.core && total <= BUDGET.total && lang <= BUDGET.lang) return true;
  console.error(`OVER BUDGET: core ${core > BUDGET.core ? 'over' : 'within'}, one visitor's page ${total > BUDGET.total ? 'over' : 'within'}, `
    + `language table ${lang > BUDGET.lang ? 'over' : 'within'}`);
  return false;
}

async function main(args) {
  if (args.includes('--sizes')) {
    console.log(JSON.stringify({ ...sums(readManifest(OUT), (f) => gz(fs.readFileSync(path.join(OUT, f)))), budget: BUDGET }));
    return;
  }
  const built = await bundle();
  const today = new Date().toISOString().slice(0, 10);
  if (args.includes('--check')) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-widget-'));
    write(tmp, withSuperseded(built, OUT, { today, prune: false }));
    const list = (d) => fs.readdirSync(d).filter((f) => OURS.test(f)).sort();
    const stale = JSON.stringify(list(tmp)) !== JSON.stringify(fs.existsSync(OUT) ? list(OUT) : [])
      || list(tmp).some((f) => fs.readFileSync(path.join(tmp, f), 'utf8') !== fs.readFileSync(path.join(OUT, f), 'utf8'));
    fs.rmSync(tmp, { recursive: true });
    if (stale) {
      console.error('widget/static/widget/ is stale: run `npm --prefix widget run build` and commit the result');
      process.exit(1);
    }
    console.log('widget/static/widget/ is up to date');
  } else {
    const i = args.indexOf('--out');
    const dir = i >= 0 ? path.resolve(args[i + 1]) : OUT;
    const files = withSuperseded(built, dir, { today, prune: true });
    write(dir, files);
    const kept = Object.keys(files).filter((f) => f.endsWith('.js') && !(f in built.files));
    if (kept.length) console.log(`kept from earlier builds (${KEEP_DAYS} days): ${kept.join(', ')}`);
    if (!report(built)) process.exitCode = 1; // over budget fails the build (and `npm run size`)
  }
}

// Run as a script (node build.mjs); imported by the tests for superseded().
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
