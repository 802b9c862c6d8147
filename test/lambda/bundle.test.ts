import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleResult, bundleLambda, ROOT } from '../../scripts/bundle.js';

// The Lambda bundle as deployed: built by scripts/bundle.ts, then run by a plain `node` from a folder that has no
// node_modules anywhere above it, like /var/task.

let work: string;
let bundle: BundleResult;
let deployed: string;

/** Runs `code` as an ES module next to the deployed bundle; resolves with its exit code and output (bounded). */
function runNode(code: string, env: NodeJS.ProcessEnv, timeoutMs = 20_000) {
  const script = join(deployed, `run-${Math.random().toString(16).slice(2)}.mjs`);
  writeFileSync(script, code);
  return new Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }>((resolve) => {
    const child = spawn(process.execPath, [script], { cwd: deployed, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve({ code: exit, stdout, stderr, timedOut });
    });
  });
}

/** The minimal environment a Lambda gives the function (no NODE_PATH, no AWS credentials needed here). */
const lambdaEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  LAMBDA_TASK_ROOT: '/var/task',
  ...extra,
});

const FUNCTION_URL_EVENT = (method: string, path: string, body?: string, headers: Record<string, string> = {}) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: path,
  rawQueryString: '',
  headers: { host: 'abc.lambda-url.us-east-1.on.aws', ...headers },
  requestContext: { requestId: 'r-1', http: { method, path, sourceIp: '198.51.100.1' } },
  ...(body === undefined ? {} : { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }),
});

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'scaler-bundle-'));
  bundle = await bundleLambda({ outDir: join(work, 'build') });
  deployed = join(work, 'task');
  cpSync(join(work, 'build'), deployed, { recursive: true });
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('Lambda bundle (npm run bundle)', () => {
  it('writes index.mjs exporting handler, its chunks and openapi.yaml, within 2 MiB in all', () => {
    expect(readdirSync(deployed).sort()).toEqual(['chunks', 'index.mjs', 'openapi.yaml']);
    expect(readFileSync(join(deployed, 'index.mjs'), 'utf8')).toMatch(/export\s*\{[^}]*\bhandler\b/);
    expect(bundle.totalBytes).toBeLessThanOrEqual(2 * 2 ** 20);
  });

  it('leaves the Docker client out', () => {
    expect(bundle.inputs.filter((i) => /node_modules\/(dockerode|docker-modem|ssh2|cpu-features)\//.test(i))).toEqual(
      [],
    );
    expect(bundle.inputs.some((i) => i.includes('node_modules/@fastify/aws-lambda/'))).toBe(true);
    const files = readdirSync(deployed, { recursive: true, withFileTypes: true }).filter((f) =>
      f.name.endsWith('.mjs'),
    );
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name), 'utf8')).not.toMatch(/dockerode|ssh2/);
  });

  it('evaluates no AWS SDK client at init: GoCD requests never pay for DynamoDB, SQS or ECS', () => {
    expect(bundle.initInputs.some((i) => i.startsWith('src/main/lambda.ts'))).toBe(true);
    expect(bundle.initInputs.filter((i) => /node_modules\/@aws-sdk\/client-/.test(i))).toEqual([]);
    // ...yet they are in the bundle, for the invocations that need them.
    expect(bundle.inputs.some((i) => i.includes('node_modules/@aws-sdk/client-dynamodb/'))).toBe(true);
    expect(bundle.inputs.some((i) => i.includes('node_modules/@aws-sdk/client-sqs/'))).toBe(true);
  });

  it('evaluates no YAML parser and compiles no JSON Schema at init (validators are compiled ahead of time)', () => {
    expect(bundle.initInputs.filter((i) => i.includes('node_modules/yaml/'))).toEqual([]);
    // The YAML parser is still there, for a config deployed as YAML.
    expect(bundle.inputs.some((i) => i.includes('node_modules/yaml/'))).toBe(true);
    const init = bundle.initInputs.filter((i) => i.startsWith('src/'));
    for (const file of init) expect(readFileSync(join(ROOT, file), 'utf8'), file).not.toMatch(/new Ajv\(|\.compile\(/);
  });

  it('runs from a folder with no node_modules, answers a Function URL event, and lets the process exit', async () => {
    for (let dir = deployed; dir !== dirname(dir); dir = dirname(dir)) {
      expect(existsSync(join(dir, 'node_modules')), `${dir}/node_modules`).toBe(false);
    }
    const token = 'bundle-test-forwarder-token-0123456789';
    const result = await runNode(
      `const { handler } = await import('./index.mjs');
const health = await handler(${JSON.stringify(FUNCTION_URL_EVENT('GET', '/healthz'))}, {});
const caps = await handler(${JSON.stringify(
        FUNCTION_URL_EVENT('POST', '/gocd/requests/cd.go.elastic-agent.get-capabilities', '', {
          authorization: `Bearer ${'bundle-test-forwarder-token-0123456789'}`,
          'content-type': 'application/json',
        }),
      )}, {});
const spec = await handler(${JSON.stringify(FUNCTION_URL_EVENT('GET', '/openapi.yaml'))}, {});
process.stdout.write(JSON.stringify({ health, caps, spec: spec.statusCode }) + '\\n');
// No process.exit: the process must end by itself (sync logger, no timers or sockets left open).
`,
      lambdaEnv({ SCALER_FORWARDER_TOKEN: token }),
    );
    expect(result.timedOut, result.stderr).toBe(false);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      health: { statusCode: number; body: string };
      caps: { statusCode: number; body: string };
      spec: number;
    };
    expect(out.health.statusCode).toBe(200);
    expect(JSON.parse(out.health.body)).toMatchObject({ status: 'ok' });
    expect(out.caps.statusCode).toBe(200);
    expect(JSON.parse(out.caps.body)).toHaveProperty('supports_plugin_status_report');
    expect(out.spec).toBe(200);
    // Each invocation ends with the metrics as CloudWatch EMF lines (nothing scrapes /metrics in Lambda).
    const emf = result.stdout
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      emf.some((d) => d.gocd_agent_scaler_http_request_duration_seconds_count === 1 && d.route === '/healthz'),
    ).toBe(true);
  });

  it('refuses to start without a forwarder token instead of generating one per container', async () => {
    const result = await runNode(`await import('./index.mjs');`, lambdaEnv());
    expect(result.timedOut).toBe(false);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('/gocd/forwarderToken: required');
  });
});
