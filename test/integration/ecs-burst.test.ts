import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { createBackendProvider } from '../../src/main/composition.js';
import { FakeEcs } from '../support/fake-ecs/fake-ecs-server.js';
import { useFakeEcs } from '../support/fake-ecs/use-fake-ecs.js';
import { job } from '../support/gocd-bodies.js';
import { profiles, viaEdge } from '../support/profiles.js';

// A burst of create-agents against the strict endpoint whose RunTask bucket is far smaller than the service believes
// (other tools in the account draw from it): ECS throttles many RunTask calls, and still no job fails, each gets
// exactly one task, and the read side costs one listing for the whole burst. The timing target is the benchmark's
// (bench/ecs-burst.bench.ts); this test checks outcomes only.
const JOBS = 100;
const fake = new FakeEcs({
  clusters: ['burst'],
  throttling: { 'cluster-resource-modify': { burst: 5, refillPerSecond: 10 } },
});
useFakeEcs(fake);

describe('a burst of create-agents while ECS throttles RunTask', () => {
  it('fails no job: every job gets exactly one task, with one listing for the whole burst', async () => {
    const logger = pino({ level: 'silent' });
    const activity = new ActivityLog(5_000);
    const agents = viaEdge(
      new AgentService({ profiles, backends: createBackendProvider(logger, profiles, false), activity, logger }),
    );
    const cluster = {
      go_server_url: 'https://gocd.example.com/go',
      cluster_id: 'burst',
      cluster: 'burst',
      max_agents: '1000',
    };
    fake.resetCounts();
    const results = await Promise.all(
      Array.from({ length: JOBS }, (_, i) =>
        agents.createAgent({
          autoRegisterKey: `k${i}`,
          job: job(i + 1),
          clusterProperties: cluster,
          profileProperties: { image: 'gocd/gocd-agent-debian-12:v25.1.0' },
        }),
      ),
    );
    expect(fake.throttledCalls.get('RunTask') ?? 0).toBeGreaterThan(0);
    expect(results.map((r) => r.kind).filter((k) => k !== 'launched')).toEqual([]);
    expect(activity.recent({ kinds: ['launch-failed', 'error'] })).toEqual([]);
    const perJob = new Map<string, number>();
    for (const t of fake.tasks.values()) {
      const id = t.tags.find((x) => x.key === 'gocd-agent-scaler:job-id')?.value ?? '';
      perJob.set(id, (perJob.get(id) ?? 0) + 1);
    }
    expect(perJob.size).toBe(JOBS);
    expect([...perJob.values()].every((n) => n === 1)).toBe(true);
    expect(fake.served('ListTasks', 'DescribeTasks')).toBe(1);
  }, 120_000);
});
