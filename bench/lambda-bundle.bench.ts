import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DEFAULT_SERVICE_CONFIG, LAMBDA_CONFIG_FILE, lambdaConfigJson } from '../infra/lib/scaler-stack.js';
import { bundleLambda, LAMBDA_TARGET, ROOT } from '../scripts/bundle.js';
import type { BenchResult } from './bench-types.js';
import { shouldAssignBody } from './support/should-assign-body.js';

const RUNS = 10;
const MiB = 2 ** 20;
const TOKEN = 'bench-forwarder-token-0123456789abcdef';

/** The cold start measured inside a fresh `node`: import the bundle (app ready), then one Function URL request. */
const PROBE = `const t0 = performance.now();
const { handler } = await import('./index.mjs');
const ready = performance.now();
const body = ${JSON.stringify(shouldAssignBody('bench', 7))};
const res = await handler({
  version: '2.0', routeKey: '$default', rawPath: '/gocd/requests/cd.go.elastic-agent.should-assign-work', rawQueryString: '',
  headers: { host: 'x.lambda-url.us-east-1.on.aws', 'content-type': 'application/json', authorization: 'Bearer ${TOKEN}' },
  requestContext: { requestId: 'bench', http: { method: 'POST', path: '/gocd/requests/cd.go.elastic-agent.should-assign-work', sourceIp: '192.0.2.1' } },
  body: Buffer.from(body).toString('base64'), isBase64Encoded: true,
}, {});
const answered = performance.now();
if (res.statusCode !== 200 || res.body !== 'true') throw new Error('unexpected answer ' + JSON.stringify(res));
process.stdout.write(JSON.stringify({ ready: ready - t0, answered: answered - t0, boot: t0 }) + '\\n');
`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A bare Fastify app behind @fastify/aws-lambda, bundled the same way: the framework's own share of a cold start. */
const BARE_APP = `import Fastify from 'fastify';
import awsLambdaFastify from '@fastify/aws-lambda';
const app = Fastify({ logger: false });
app.post('/gocd/requests/:name', async () => true);
export const handler = awsLambdaFastify(app, { decorateRequest: false });
await app.ready();
`;

/** Bundles BARE_APP into `dir` with the options of scripts/bundle.ts (minified ESM, LAMBDA_TARGET, require banner). */
async function bundleBareApp(dir: string): Promise<void> {
  const entry = join(ROOT, 'bench', `.bare-lambda-${process.pid}.mjs`);
  writeFileSync(entry, BARE_APP);
  try {
    await build({
      entryPoints: [entry],
      outfile: join(dir, 'index.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: LAMBDA_TARGET,
      minify: true,
      mainFields: ['module', 'main'],
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: 'warning',
    });
  } finally {
    rmSync(entry, { force: true });
  }
}

/** One fresh process: its own timings, and the wall-clock from spawn to exit. */
function coldRun(dir: string): Promise<{ ready: number; answered: number; boot: number; wall: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['probe.mjs'], {
      cwd: dir,
      // As infra/ deploys it: the default service config (DynamoDB store; nothing is called before a request).
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        SCALER_CONFIG: join(dir, LAMBDA_CONFIG_FILE),
        SCALER_FORWARDER_TOKEN: TOKEN,
        GOCD_API_TOKEN: 'bench-gocd-api-token',
        SCALER_TABLE_NAME: 'bench-table',
        SCALER_RETRY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-retries',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`cold run exited ${code}: ${err.slice(0, 500)}`));
      const line = out.trim().split('\n').at(-1) ?? '';
      resolve({
        ...(JSON.parse(line) as { ready: number; answered: number; boot: number }),
        wall: performance.now() - started,
      });
    });
  });
}

/** Lambda bundle size (minified) and cold init in a fresh `node` from a folder with no node_modules (median of 10). */
export async function run(): Promise<BenchResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'scaler-bench-lambda-'));
  try {
    const bundle = await bundleLambda({ outDir: join(work, 'build') });
    const dir = join(work, 'task');
    cpSync(join(work, 'build'), dir, { recursive: true });
    writeFileSync(join(dir, 'probe.mjs'), PROBE);
    writeFileSync(join(dir, LAMBDA_CONFIG_FILE), lambdaConfigJson(DEFAULT_SERVICE_CONFIG));
    const bare = join(work, 'bare');
    await bundleBareApp(bare);
    writeFileSync(join(bare, 'probe.mjs'), PROBE);
    await coldRun(dir); // one unmeasured run each: the OS file cache, as a Lambda host has the code locally
    await coldRun(bare);
    const runs = [];
    const bareRuns = [];
    // Alternating, so machine load hits both alike.
    for (let i = 0; i < RUNS; i++) {
      runs.push(await coldRun(dir));
      bareRuns.push(await coldRun(bare));
    }
    const answered = median(runs.map((r) => r.answered));
    const bareAnswered = median(bareRuns.map((r) => r.answered));
    const ratio = answered / bareAnswered;
    const total = bundle.totalBytes / MiB;
    return [
      {
        bench: 'lambda-bundle',
        metric: 'bundle size, minified (index.mjs + chunks)',
        value: total,
        unit: 'MiB',
        target: '≤ 2',
        pass: total <= 2,
        notes: `index.mjs ${(bundle.entryBytes / MiB).toFixed(2)} MiB parsed at init; SDK clients load on first use`,
      },
      {
        bench: 'lambda-bundle',
        metric: 'cold init: import + app ready + first request (median of 10)',
        value: answered,
        unit: 'ms',
        target: '≤ 300',
        pass: answered <= 300,
        notes: `import+ready median ${median(runs.map((r) => r.ready)).toFixed(0)} ms; node boot before import ${median(runs.map((r) => r.boot)).toFixed(0)} ms; spawn→exit ${median(runs.map((r) => r.wall)).toFixed(0)} ms`,
      },
      {
        bench: 'lambda-bundle',
        metric: 'reference: bare Fastify + @fastify/aws-lambda bundle, same measure (median of 10)',
        value: bareAnswered,
        unit: 'ms',
        notes: 'the framework floor on this machine, measured alternately with the service',
      },
      {
        bench: 'lambda-bundle',
        metric: 'cold init, ratio to the bare Fastify bundle (medians, same run)',
        value: ratio,
        unit: '×',
        target: '≤ 1.5',
        pass: ratio <= 1.5,
      },
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
