import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

/** Repository root (this file lives in `scripts/`). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The folder the CDK app deploys: `index.mjs` (exports `handler`) and `openapi.yaml`. */
export const LAMBDA_DIR = join(ROOT, 'dist', 'lambda');
/** esbuild's metafile, kept outside the deployed folder (what went into the bundle, by input). */
export const LAMBDA_META = join(ROOT, 'dist', 'lambda-meta.json');

/** The Lambda runtime the CDK app deploys the bundle on (infra/lib/scaler-stack.ts; a test keeps them equal). */
export const LAMBDA_RUNTIME = 'nodejs24.x';
/** esbuild's target for that runtime: the syntax Node 24 runs natively is left as written. */
export const LAMBDA_TARGET = 'node24';

/** Packages that must never reach the Lambda bundle: the Docker client and its native/SSH dependencies. */
const FORBIDDEN = /^(dockerode|docker-modem|ssh2|cpu-features)(\/|$)/;

/**
 * Keeps the Docker backend out: `src/main/composition.ts` reaches it only through `import('./docker-factory.js')`
 * when `withDocker` is true (never in Lambda), so that import is replaced by a module that says so; and any other path
 * to the Docker client fails the build instead of silently growing the bundle.
 */
const lambdaOnly: Plugin = {
  name: 'lambda-only',
  setup(b) {
    b.onResolve({ filter: /docker-factory\.js$/ }, (args) => ({ path: args.path, namespace: 'no-docker' }));
    b.onLoad({ filter: /.*/, namespace: 'no-docker' }, () => ({
      contents: `const fail = async () => { throw new Error('the Docker backend is not part of the Lambda bundle'); };
export const createDockerBackendFor = fail;
export const localDockerStatus = async () => 'unavailable: not part of the Lambda bundle';`,
      loader: 'js',
    }));
    b.onResolve({ filter: FORBIDDEN }, (args) => ({
      errors: [
        { text: `${args.path} must not be bundled into the Lambda (imported by ${relative(ROOT, args.importer)})` },
      ],
    }));
  },
};

/**
 * ESM output bundles CommonJS dependencies (fastify's, pino's) that call `require` and read `__dirname`; neither
 * exists in an ES module, so the banner defines them from `import.meta.url`.
 */
const BANNER = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  "import { dirname as __pathDirname } from 'node:path';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __pathDirname(__filename);',
].join('\n');

/** Where to write (tests and the benchmark bundle into temporary folders). */
export interface BundleOptions {
  /** Default `dist/lambda`. */
  outDir?: string;
  /** esbuild metafile; default `dist/lambda-meta.json`, or `<outDir>-meta.json` for another folder. */
  metaFile?: string;
  sourcemap?: boolean;
}

/** Result of one bundle run. */
export interface BundleResult {
  /** `dist/lambda/index.mjs`, the module Lambda loads (`index.handler`). */
  file: string;
  /** Size of `index.mjs`: what every cold start parses. */
  entryBytes: number;
  /** Every `.mjs` file of the folder: the entry plus the chunks loaded on first use. */
  totalBytes: number;
  /** Source files that went into the bundle (esbuild metafile), for checks such as "no Docker client". */
  inputs: string[];
  /** Source files evaluated at every cold start: `index.mjs` and the chunks it imports statically. */
  initInputs: string[];
}

/** Inputs of `entry` and of every chunk it reaches through static imports (not `import()`). */
function initInputsOf(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const inputs = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    const o = metafile.outputs[output];
    if (!o) return;
    for (const input of Object.keys(o.inputs)) inputs.add(input);
    for (const i of o.imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entry);
  return [...inputs];
}

/** Sum of the `.mjs` files under `dir`. */
function moduleBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.mjs')) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/**
 * Writes `dist/lambda/`: `index.mjs` (exports `handler`) for `LAMBDA_RUNTIME`, minified ESM with every dependency inside,
 * and `openapi.yaml` beside it (served); nothing is loaded from `node_modules`. No JSON Schema is compiled at run time:
 * every validator is compiled ahead of time (scripts/generate.ts).
 *
 * - The AWS SDK v3 clients are bundled, not taken from the runtime: that pins the versions the tests ran against,
 *   and esbuild keeps only the commands used.
 * - Code splitting: what the composition loads with `import()` (each SDK client, the ECS backend, Secrets Manager)
 *   becomes a chunk in `chunks/`, parsed only when first used, so a cold start parses the HTTP core alone.
 */
export async function bundleLambda(options: BundleOptions = {}): Promise<BundleResult> {
  const outDir = options.outDir ?? LAMBDA_DIR;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: { index: join(ROOT, 'src', 'main', 'lambda.ts') },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_TARGET,
    minify: true,
    // Prefer the ES module builds (the AWS SDK's `dist-es`): they tree-shake far better than the CJS ones.
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    sourcemap: options.sourcemap ? 'external' : false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [lambdaOnly],
  });
  // Served as `GET /openapi.yaml` and read by the API reference page; the routes' schemas and validators are compiled
  // into the bundle (scripts/generate.ts), so nothing parses it at a cold start.
  copyFileSync(join(ROOT, 'openapi.yaml'), join(outDir, 'openapi.yaml'));
  writeFileSync(
    options.metaFile ?? (options.outDir ? `${outDir}-meta.json` : LAMBDA_META),
    JSON.stringify(result.metafile),
  );
  const file = join(outDir, 'index.mjs');
  return {
    file,
    entryBytes: statSync(file).size,
    totalBytes: moduleBytes(outDir),
    inputs: Object.keys(result.metafile.inputs),
    initInputs: initInputsOf(
      result.metafile,
      Object.keys(result.metafile.outputs).find((o) => o.endsWith('/index.mjs'))!,
    ),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { file, entryBytes, totalBytes } = await bundleLambda({ sourcemap: process.argv.includes('--sourcemap') });
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  process.stdout.write(`${relative(ROOT, file)}: ${mib(entryBytes)} (with its chunks ${mib(totalBytes)})\n`);
}
