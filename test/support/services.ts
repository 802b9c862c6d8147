import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** True when running under CI (`CI=true`): a missing real service is then a failure, never a skip. */
export const inCI = process.env.CI === 'true';

/**
 * Decides whether a suite that needs a real service runs. Returns true when it is available. When it is not:
 * under CI it throws (the suite fails loudly); on a laptop it prints the reason and returns false so the caller
 * can `describe.skipIf(!ok)`.
 */
export function requireService(name: string, available: boolean, howToGet: string): boolean {
  if (available) return true;
  const message = `${name} is not available: ${howToGet}`;
  if (inCI) throw new Error(`CI=true but ${message}`);
  console.warn(`[skip] ${message} — skipping the tests that need it`);
  return false;
}

function commandWorks(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** A reachable Docker engine (the `docker` CLI answering `docker info`). */
export function dockerAvailable(): boolean {
  return (
    (existsSync('/var/run/docker.sock') || !!process.env.DOCKER_HOST) &&
    commandWorks('docker', ['info', '--format', '{{.ID}}'])
  );
}

/** Debian's docker-registry binary. */
export function registryBinary(): string | undefined {
  return ['/usr/bin/docker-registry'].find((p) => existsSync(p));
}

/** A JDK (javac) on PATH. */
export function jdkAvailable(): boolean {
  return commandWorks('javac', ['-version']);
}
