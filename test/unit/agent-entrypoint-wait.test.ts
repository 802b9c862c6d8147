import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The dind entrypoint's wait_for (docker/agent/bin/gocd-agent-dind) under the race it must survive: SIGTERM interrupts
// its `wait`, the trap's kill makes the agent exit at once, and the shell has reaped the agent before wait_for looks
// again. The agent's own exit status must be reported (0 for a clean stop), and a status of a process killed by the
// signal must stay 128+15. Run many times under the shell the images use (/bin/sh: dash on Debian bases).

const run = promisify(execFile);
const ENTRYPOINT = readFileSync(
  join(import.meta.dirname, '..', '..', 'docker', 'agent', 'bin', 'gocd-agent-dind'),
  'utf8',
);
const WAIT_FOR = ENTRYPOINT.slice(
  ENTRYPOINT.indexOf('wait_for() {'),
  ENTRYPOINT.indexOf('\n}\n', ENTRYPOINT.indexOf('wait_for() {')) + 3,
);

/** One stop: the shell starts a child, gets SIGTERM, passes it on, and reports what wait_for says. */
const SCENARIO = (child: string) => `${WAIT_FOR}
trap 'kill -TERM "$child" 2>/dev/null || :' TERM
${child} & child=$!
# Ready once the child has set its own trap (it creates $READY) and $child is known to the trap.
while [ ! -e "$READY" ]; do sleep 0.01; done
echo ready
wait_for "$child"
echo "status=$status"
`;

async function stopOnce(shell: string, child: string): Promise<string> {
  const ready = join(mkdtempSync(join(tmpdir(), 'wait-for-')), 'ready');
  const proc = execFile(shell, ['-c', SCENARIO(child)], { env: { ...process.env, READY: ready } });
  let out = '';
  await new Promise<void>((resolve) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
  });
  // Stop the shell as `docker stop` does.
  proc.kill('SIGTERM');
  await new Promise((r) => proc.on('exit', r));
  return out.match(/status=(\d+)/)?.[1] ?? 'none';
}

describe('the dind entrypoint waits for its agent through SIGTERM', () => {
  it('reports a clean stop as 0 every time, even when the agent exits before the shell looks again', async () => {
    const statuses = new Set<string>();
    for (let i = 0; i < 100; i++) {
      statuses.add(
        await stopOnce('/bin/sh', `sh -c 'trap "exit 0" TERM; touch "$READY"; while :; do sleep 3600 & wait $!; done'`),
      );
    }
    expect([...statuses]).toEqual(['0']);
  }, 60_000);

  it("keeps 143 for an agent the signal killed (it had no handler), never the shell's 127", async () => {
    expect(await stopOnce('/bin/sh', `sh -c 'touch "$READY"; exec sleep 3600'`)).toBe('143');
  }, 20_000);

  it('finds its function in the shipped script', async () => {
    expect(WAIT_FOR).toMatch(/^wait_for\(\) \{[\s\S]*\n\}\n$/);
    await expect(run('/bin/sh', ['-n', '-c', WAIT_FOR])).resolves.toBeDefined();
  });
});
