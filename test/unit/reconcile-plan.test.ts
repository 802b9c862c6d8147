import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/agents/agent-backend.port.js';
import type { GocdAgent } from '../../src/agents/job.js';
import { type ClusterListing, planReconcile } from '../../src/agents/reconcile-plan.js';
import type { PoolJudge } from '../../src/agents/warm-pools.js';
import { parseClusterProfile } from '../support/profiles.js';

const now = new Date('2026-11-23T12:00:00Z');
const clusterA = parseClusterProfile({
  go_server_url: 'https://g/go',
  cluster_id: 'a',
  registration_timeout_minutes: '10',
  idle_timeout_minutes: '5',
});
const clusterB = parseClusterProfile({ go_server_url: 'https://g/go', cluster_id: 'b' });

function task(agentId: string, minutesAgo: number, status: AgentRecord['status'] = 'running'): AgentRecord {
  const jobId = Number(agentId.split('-')[1]);
  return {
    agentId,
    jobId,
    clusterId: 'a',
    pipeline: `p/1/s/1/j${jobId}`,
    ref: `arn:task/${agentId}`,
    status,
    createdAt: new Date(now.getTime() - minutesAgo * 60_000),
  };
}
function agent(
  agent_id: string,
  agent_state: string,
  config_state = 'Enabled',
  build_state = agent_state === 'Building' ? 'Building' : 'Idle',
): GocdAgent {
  return { agent_id, agent_state, config_state, build_state };
}

interface Case {
  name: string;
  tasks: AgentRecord[];
  agents: GocdAgent[] | undefined;
  otherClusterFails?: boolean;
  stops: string[];
  disable: string[];
  delete: string[];
}

const cases: Case[] = [
  {
    name: 'a booting task not yet registered is left alone',
    tasks: [task('ea-1-00000001', 3)],
    agents: [],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'a task never registered within registration_timeout is stopped',
    tasks: [task('ea-1-00000001', 11)],
    agents: [],
    stops: ['ea-1-00000001'],
    disable: [],
    delete: [],
  },
  {
    name: 'an agent GoCD lists with no live task is disabled and deleted',
    tasks: [],
    agents: [agent('ea-2-00000002', 'Idle')],
    stops: [],
    disable: ['ea-2-00000002'],
    delete: ['ea-2-00000002'],
  },
  {
    name: 'a Building agent whose task died (spot interruption) is deleted at once so GoCD reschedules its job',
    tasks: [],
    agents: [agent('ea-3-00000003', 'Building')],
    stops: [],
    disable: ['ea-3-00000003'],
    delete: ['ea-3-00000003'],
  },
  {
    name: 'an agent without a task is kept when another cluster could not be listed (a throttled listing is not "no tasks")',
    tasks: [],
    agents: [agent('ea-3-00000003', 'Building')],
    otherClusterFails: true,
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'a Building agent with a live task is never touched, however old',
    tasks: [task('ea-4-00000004', 600)],
    agents: [agent('ea-4-00000004', 'Building')],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'a LostContact agent is stopped, disabled and deleted',
    tasks: [task('ea-5-00000005', 30)],
    agents: [agent('ea-5-00000005', 'LostContact', 'Enabled', 'Unknown')],
    stops: ['ea-5-00000005'],
    disable: ['ea-5-00000005'],
    delete: ['ea-5-00000005'],
  },
  {
    name: 'a Missing agent is stopped, disabled and deleted',
    tasks: [task('ea-6-00000006', 1)],
    agents: [agent('ea-6-00000006', 'Missing')],
    stops: ['ea-6-00000006'],
    disable: ['ea-6-00000006'],
    delete: ['ea-6-00000006'],
  },
  {
    name: 'an Idle agent within registration + idle timeout is kept',
    tasks: [task('ea-7-00000007', 14)],
    agents: [agent('ea-7-00000007', 'Idle')],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'an Idle agent past registration + idle timeout (job cancelled or rescheduled elsewhere) is disabled first, not stopped yet',
    tasks: [task('ea-8-00000008', 16)],
    agents: [agent('ea-8-00000008', 'Idle')],
    stops: [],
    disable: ['ea-8-00000008'],
    delete: [],
  },
  {
    name: 'once GoCD reports it Disabled and not building, it is stopped and deleted',
    tasks: [task('ea-8-00000008', 17)],
    agents: [agent('ea-8-00000008', 'Idle', 'Disabled')],
    stops: ['ea-8-00000008'],
    disable: [],
    delete: ['ea-8-00000008'],
  },
  {
    name: 'a job rescheduled with a new job_id: the old LostContact agent is reaped, the new booting one is left alone',
    tasks: [task('ea-9-00000009', 20), task('ea-10-0000000a', 1)],
    agents: [agent('ea-9-00000009', 'LostContact')],
    stops: ['ea-9-00000009'],
    disable: ['ea-9-00000009'],
    delete: ['ea-9-00000009'],
  },
  {
    name: 'a job cancelled before its agent registered: the task is stopped after registration_timeout',
    tasks: [task('ea-11-0000000b', 12)],
    agents: [agent('ea-12-0000000c', 'Building')],
    stops: ['ea-11-0000000b'],
    disable: ['ea-12-0000000c'],
    delete: ['ea-12-0000000c'],
  },
  {
    name: 'an absent agents field means unknown: nothing is stopped or deleted',
    tasks: [task('ea-13-0000000d', 500)],
    agents: undefined,
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'an agent disabled in GoCD while still building is never stopped mid-job',
    tasks: [task('ea-15-0000000f', 600)],
    agents: [agent('ea-15-0000000f', 'Building', 'Disabled')],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'an agent GoCD reports Building is never stopped, even while its build state still lags behind',
    tasks: [task('ea-22-00000016', 600)],
    agents: [agent('ea-22-00000016', 'Building', 'Disabled', 'Unknown')],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'an agent whose build state is Building is never stopped, whatever its agent state says',
    tasks: [task('ea-16-00000010', 600)],
    agents: [agent('ea-16-00000010', 'Idle', 'Disabled', 'Building')],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'a task exactly registration_timeout old and not registered is still left to boot',
    tasks: [task('ea-17-00000011', 10)],
    agents: [],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'a task a moment past registration_timeout and not registered is stopped',
    tasks: [task('ea-17-00000011', 10.001)],
    agents: [],
    stops: ['ea-17-00000011'],
    disable: [],
    delete: [],
  },
  {
    name: 'an Idle agent exactly registration + idle timeout old is kept',
    tasks: [task('ea-18-00000012', 15)],
    agents: [agent('ea-18-00000012', 'Idle')],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'an Idle agent a moment past registration + idle timeout is disabled',
    tasks: [task('ea-18-00000012', 15.001)],
    agents: [agent('ea-18-00000012', 'Idle')],
    stops: [],
    disable: ['ea-18-00000012'],
    delete: [],
  },
  {
    name: 'an old agent in an unknown state is not disabled for idling (only Idle ones are)',
    tasks: [task('ea-19-00000013', 600)],
    agents: [agent('ea-19-00000013', 'Unknown')],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'a never-registered task that is already stopping is not stopped again',
    tasks: [task('ea-20-00000014', 500, 'stopping')],
    agents: [],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'a task already stopping whose agent was disabled in GoCD is not stopped again',
    tasks: [task('ea-21-00000015', 500, 'stopping')],
    agents: [agent('ea-21-00000015', 'Idle', 'Disabled')],
    stops: [],
    disable: [],
    delete: [],
  },
  {
    name: 'a task already stopping is not stopped again',
    tasks: [task('ea-14-0000000e', 500, 'stopping')],
    agents: [agent('ea-14-0000000e', 'LostContact')],
    stops: [],
    disable: [],
    delete: [],
  },
];

describe('server-ping reconciliation plan', () => {
  it.each(cases)('$name', (c) => {
    const listings: ClusterListing[] = [{ cluster: clusterA, agents: c.tasks }];
    listings.push(
      c.otherClusterFails ? { cluster: clusterB, error: 'ThrottlingException' } : { cluster: clusterB, agents: [] },
    );
    const plan = planReconcile(listings, c.agents, now);
    expect(plan.stops.map((s) => s.agent.agentId).sort()).toEqual([...c.stops].sort());
    expect(plan.actions.disable.sort()).toEqual([...c.disable].sort());
    expect(plan.actions.delete.sort()).toEqual([...c.delete].sort());
  });

  it('keeps agents whose cluster profile could not be read', () => {
    const plan = planReconcile([{ cluster: clusterA, agents: [] }], [agent('ea-2-00000002', 'Idle')], now, false);
    expect(plan.actions).toEqual({ disable: [], delete: [] });
  });

  it('says why it stops, disables or deletes each agent, and under which reaping rule', () => {
    const plan = planReconcile(
      [
        {
          cluster: clusterA,
          agents: [
            task('ea-1-00000001', 11),
            task('ea-5-00000005', 30),
            task('ea-8-00000008', 17),
            task('ea-7-00000007', 20),
          ],
        },
      ],
      [
        agent('ea-2-00000002', 'Idle'),
        agent('ea-5-00000005', 'LostContact', 'Enabled', 'Unknown'),
        agent('ea-8-00000008', 'Idle', 'Disabled'),
        agent('ea-7-00000007', 'Idle'),
      ],
      now,
    );
    expect(plan.stops.map((s) => [s.agent.agentId, s.rule, s.reason])).toEqual([
      ['ea-5-00000005', 'lost-contact', 'agent ea-5-00000005 is LostContact in GoCD'],
      ['ea-8-00000008', 'disabled', 'agent ea-8-00000008 was disabled in GoCD and is not building'],
      ['ea-1-00000001', 'never-registered', 'agent ea-1-00000001 did not register with GoCD within 10 minutes'],
    ]);
    expect(plan.stops.every((s) => s.cluster === clusterA)).toBe(true);
    expect(Object.fromEntries(plan.notes)).toEqual({
      'ea-2-00000002': 'agent ea-2-00000002 (Idle) has no live task or container',
      'ea-7-00000007': 'agent ea-7-00000007 idle past 15 minutes; disabled, stopped at the next ping',
    });
  });

  it('names the reason of every stop', () => {
    const plan = planReconcile([{ cluster: clusterA, agents: [task('ea-1-00000001', 11)] }], [], now);
    expect(plan.stops[0]).toMatchObject({
      rule: 'never-registered',
      reason: expect.stringContaining('did not register with GoCD within 10 minutes'),
    });
  });
});

function poolAgent(agentId: string, minutesAgo: number): AgentRecord {
  return {
    agentId,
    clusterId: 'a',
    pool: 'hash1',
    pipeline: '',
    ref: `arn:task/${agentId}`,
    status: 'running',
    createdAt: new Date(now.getTime() - minutesAgo * 60_000),
  };
}
/** A pool judge that retires the agents it is given reasons for and lets pool agents idle `idleMinutes`. */
function judge(reasons: Record<string, string>, idleMinutes = 60): PoolJudge {
  return { retireReason: (a) => reasons[a.agentId], idleMinutes: () => idleMinutes };
}
const plan = (agents: AgentRecord[], gocdAgents: GocdAgent[], pools?: PoolJudge) =>
  planReconcile([{ cluster: clusterA, agents }], gocdAgents, now, true, pools);

describe('reconciling warm-pool agents', () => {
  it('disables an idle pool agent that can take no job at once, noting why, and stops it only at the next ping', () => {
    const p = plan([poolAgent('ea-pool-1', 2)], [agent('ea-pool-1', 'Idle')], judge({ 'ea-pool-1': 'it ran its job' }));
    expect(p.actions).toEqual({ disable: ['ea-pool-1'], delete: [] });
    expect(p.stops).toEqual([]);
    expect(Object.fromEntries(p.notes)).toEqual({
      'ea-pool-1': 'it ran its job; disabled, stopped at the next ping',
    });
  });

  it('does not disable a retired pool agent that GoCD does not report Idle yet', () => {
    const p = plan(
      [poolAgent('ea-pool-1', 2)],
      [agent('ea-pool-1', 'Unknown')],
      judge({ 'ea-pool-1': 'it ran its job' }),
    );
    expect(p.actions).toEqual({ disable: [], delete: [] });
    expect(p.stops).toEqual([]);
  });

  it('stops a retired pool agent GoCD does not list yet at once, under the warm-pool rule with the reason', () => {
    const pooled = poolAgent('ea-pool-1', 1);
    const p = plan([pooled], [], judge({ 'ea-pool-1': 'its image tag moved' }));
    expect(p.stops).toEqual([{ cluster: clusterA, agent: pooled, rule: 'warm-pool', reason: 'its image tag moved' }]);
  });

  it("lets a pool agent idle for its pool's idle minutes instead of the cluster's idle timeout", () => {
    const p = plan([poolAgent('ea-pool-1', 40)], [agent('ea-pool-1', 'Idle')], judge({}, 60));
    expect(p.actions.disable).toEqual([]);
    const past = plan([poolAgent('ea-pool-1', 71)], [agent('ea-pool-1', 'Idle')], judge({}, 60));
    expect(Object.fromEntries(past.notes)).toEqual({
      'ea-pool-1': 'agent ea-pool-1 idle past 70 minutes; disabled, stopped at the next ping',
    });
  });

  it("never asks the pool rules about a job's own agent: it keeps the cluster's idle timeout and is never retired", () => {
    const everyone = judge({ 'ea-1-00000001': 'retired', 'ea-2-00000002': 'retired' }, 600);
    const p = plan([task('ea-1-00000001', 16), task('ea-2-00000002', 3)], [agent('ea-1-00000001', 'Idle')], everyone);
    expect(p.stops).toEqual([]);
    expect(p.actions).toEqual({ disable: ['ea-1-00000001'], delete: [] });
    expect(Object.fromEntries(p.notes)).toEqual({
      'ea-1-00000001': 'agent ea-1-00000001 idle past 15 minutes; disabled, stopped at the next ping',
    });
  });

  it('treats pool agents by the cluster timeouts when no pool rules are known (no warm pools configured)', () => {
    const p = plan([poolAgent('ea-pool-1', 16), poolAgent('ea-pool-2', 3)], [agent('ea-pool-1', 'Idle')]);
    expect(p.stops).toEqual([]);
    expect(p.actions.disable).toEqual(['ea-pool-1']);
  });
});
