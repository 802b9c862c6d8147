import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/agents/activity-log.js';
import { AgentService } from '../../src/agents/agent-service.js';
import { InProcessLaunchDeferrer } from '../../src/agents/in-process-launch-deferrer.js';
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
  clusters: ['burst', 'deferred'],
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

  it('answers within the request deadline and still launches every job: the process retries what ECS throttled past it', async () => {
    const logger = pino({ level: 'silent' });
    const activity = new ActivityLog(5_000);
    // 40 launches through a bucket of 5 + 10/s take ~3.5 s; each create-agent may wait 1 s for its turn.
    const jobs = 40;
    const retries = new InProcessLaunchDeferrer({
      run: (command, budget) => service.createAgent(command, budget),
      delayMs: () => 200,
    });
    const service: AgentService = new AgentService({
      profiles,
      backends: createBackendProvider(logger, profiles, false),
      activity,
      logger,
      requestDeadlineMs: 1_000,
      launchDeferrer: retries,
    });
    const agents = viaEdge(service);
    const cluster = { go_server_url: 'https://gocd.example.com/go', cluster_id: 'deferred', cluster: 'deferred' };
    const results = await Promise.all(
      Array.from({ length: jobs }, (_, i) =>
        agents.createAgent({
          autoRegisterKey: `k${i}`,
          job: job(5_000 + i),
          clusterProperties: { ...cluster, max_agents: '1000' },
          profileProperties: { image: 'gocd/gocd-agent-debian-12:v25.1.0' },
        }),
      ),
    );
    // However fast this machine, 40 launches cannot pass that bucket within 1 s: some wait in the retry queue.
    const kinds = results.map((r) => r.kind);
    expect(kinds.filter((k) => k !== 'launched' && k !== 'queued')).toEqual([]);
    expect(kinds).toContain('queued');
    const tasksOfJobs = () => {
      const perJob = new Map<string, number>();
      for (const t of fake.tasks.values()) {
        if (t.clusterArn.endsWith('/deferred')) {
          const id = t.tags.find((x) => x.key === 'gocd-agent-scaler:job-id')?.value ?? '';
          perJob.set(id, (perJob.get(id) ?? 0) + 1);
        }
      }
      return perJob;
    };
    // Outcomes, not speed: wait (bounded) until the retry queue is empty.
    const until = Date.now() + 60_000;
    while ((retries.size > 0 || tasksOfJobs().size < jobs) && Date.now() < until) await sleep(50);
    const perJob = tasksOfJobs();
    expect(perJob.size).toBe(jobs);
    expect([...perJob.values()].every((n) => n === 1)).toBe(true);
    expect(activity.recent({ kinds: ['launch-failed', 'error'] })).toEqual([]);
    expect(activity.recent({ kinds: ['waiting'] }).some((a) => a.message.includes('queued to launch again'))).toBe(
      true,
    );
  }, 120_000);
});
