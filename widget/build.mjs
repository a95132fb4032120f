// Builds the widget into static/widget/: the core (one classic script, IIFE), the renderers
// (ES modules loaded with import() on demand, shared code split into chunks) and manifest.json.
//   node build.mjs            build, print sizes, fail over budget
//   node build.mjs --check    fail if the committed files differ from a fresh build
//   node build.mjs --out DIR  build somewhere else
//   node build.mjs --budget   build, and fail when over the size budget
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'static', 'widget');
const RENDERERS = ['message', 'nps', 'feedback', 'lead', 'cart_recovery', 'consent'];
// message types -> renderer module (popup, bar, slide_in and fullscreen share one)
const TYPES = { popup: 'message', bar: 'message', slide_in: 'message', fullscreen: 'message' };
const BUDGET = { core: 6 * 1024, total: 16 * 1024 }; // gzipped bytes
const OURS = /^(retarget\.[\w-]+\.js|render-[\w-]+\.[\w-]+\.js|chunk\.[\w-]+\.js|manifest\.json)$/;
const TARGET = ['es2020'];
const { version } = JSON.parse(fs.readFileSync(path.join(HERE, 'package.json'), 'utf8'));

const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 10);
const gz = (text) => gzipSync(text, { level: 9 }).length;

async function bundle() {
  const common = { bundle: true, minify: true, write: false, legalComments: 'none', target: TARGET, logLevel: 'warning' };
  const r = await build({
    ...common,
    entryPoints: Object.fromEntries(RENDERERS.map((n) => [n, path.join(HERE, 'src', 'render', `${n}.js`)])),
    format: 'esm', splitting: true, outdir: '/out', entryNames: 'render-[name].[hash]', chunkNames: 'chunk.[hash]',
    metafile: true,
  });
  const files = {};
  const renderers = {};
  r.outputFiles.forEach((f) => { files[path.basename(f.path)] = f.text; });
  Object.entries(r.metafile.outputs).forEach(([out, meta]) => {
    if (meta.entryPoint) renderers[path.basename(meta.entryPoint, '.js')] = path.basename(out);
  });
  const core = await build({
    ...common,
    entryPoints: [path.join(HERE, 'src', 'index.js')],
    format: 'iife',
    define: { __RT_VERSION__: JSON.stringify(version), __RT_RENDERERS__: JSON.stringify(renderers) },
  });
  const coreText = core.outputFiles[0].text;
  const coreName = `retarget.${hash(coreText)}.js`;
  files[coreName] = coreText;
  const manifest = {
    version,
    core: coreName,
    integrity: 'sha384-' + createHash('sha384').update(coreText).digest('base64'),
    renderers: { ...Object.fromEntries(Object.entries(TYPES).map(([t, n]) => [t, renderers[n]])), ...renderers },
    chunks: Object.keys(files).filter((f) => f.startsWith('chunk.')).sort(),
  };
  files['manifest.json'] = JSON.stringify(manifest, null, 2) + '\n';
  return { files, manifest };
}

function write(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  fs.readdirSync(dir).filter((f) => OURS.test(f)).forEach((f) => fs.rmSync(path.join(dir, f)));
  Object.entries(files).forEach(([name, text]) => fs.writeFileSync(path.join(dir, name), text));
}

function report({ files, manifest }) {
  const js = Object.keys(files).filter((f) => f.endsWith('.js'));
  const total = js.reduce((n, f) => n + gz(files[f]), 0);
  const core = gz(files[manifest.core]);
  js.sort().forEach((f) => console.log(`${f.padEnd(40)} ${String(files[f].length).padStart(6)} B  ${String(gz(files[f])).padStart(5)} B gzip`));
  console.log(`core ${core} B gzip (budget ${BUDGET.core}), core + renderers ${total} B gzip (budget ${BUDGET.total})`);
  if (core > BUDGET.core || total > BUDGET.total) {
    console.warn(`OVER BUDGET: core ${core > BUDGET.core ? 'over' : 'within'}, total ${total > BUDGET.total ? 'over' : 'within'}`);
    if (args.includes('--budget')) process.exitCode = 1;
  }
}

const args = process.argv.slice(2);
const built = await bundle();
if (args.includes('--check')) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-widget-'));
  write(tmp, built.files);
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
  write(i >= 0 ? path.resolve(args[i + 1]) : OUT, built.files);
  report(built);
}
