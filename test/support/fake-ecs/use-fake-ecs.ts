import { afterAll, beforeAll } from 'vitest';
import type { FakeEcs } from './fake-ecs-server.js';

/** Starts `fake` for the enclosing suite with the SDK's configuration chain pointed at it, and undoes both after. */
export function useFakeEcs(fake: FakeEcs): void {
  let restoreEnv: (() => void) | undefined;
  beforeAll(async () => {
    await fake.start();
    restoreEnv = fake.useAsEnvironment();
  });
  afterAll(async () => {
    restoreEnv?.();
    await fake.stop();
  });
}
