import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/agents/agent-backend.port.js';
import type { GocdAgent } from '../../src/agents/job.js';
import { declaredNeeds, type LaunchPermits, privilegeRefusal } from '../../src/agents/policy.js';
import {
  failIfAny,
  isLoopbackUrl,
  parseEnvLines,
  unreachableServerUrlProblem,
  validateAgainst,
} from '../../src/agents/profiles.js';
import { planReconcile } from '../../src/agents/reconcile-plan.js';
import type { PoolJudge } from '../../src/agents/warm-pools.js';
import { ValidationError } from '../../src/errors.js';
import { parseClusterProfile, parseElasticProfile } from '../support/profiles.js';

// Rules that a mutation run (issue 22) showed no test pinned down: reconciliation of warm-pool agents, capability
// refusals, and the messages and defaults of profile parsing.

const now = new Date('2026-11-23T12:00:00Z');
// registration 10 + idle 5: a job agent idle past 15 minutes is disabled.
const cluster = parseClusterProfile({
  go_server_url: 'https://g/go',
  cluster_id: 'a',
  registration_timeout_minutes: '10',
  idle_timeout_minutes: '5',
});

function jobAgent(agentId: string, minutesAgo: number): AgentRecord {
  return {
    agentId,
    jobId: Number(agentId.split('-')[1]),
    clusterId: 'a',
    pipeline: 'p/1/s/1/j',
    ref: `arn:task/${agentId}`,
    status: 'running',
    createdAt: new Date(now.getTime() - minutesAgo * 60_000),
  };
}
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
const gocd = (agent_id: string, agent_state: string): GocdAgent => ({
  agent_id,
  agent_state,
  config_state: 'Enabled',
  build_state: 'Idle',
});
/** A pool judge that retires the agents it is given reasons for and lets pool agents idle `idleMinutes`. */
function judge(reasons: Record<string, string>, idleMinutes = 60): PoolJudge {
  return { retireReason: (a) => reasons[a.agentId], idleMinutes: () => idleMinutes };
}
const plan = (agents: AgentRecord[], gocdAgents: GocdAgent[], pools?: PoolJudge) =>
  planReconcile([{ cluster, agents }], gocdAgents, now, true, pools);

describe('reconciling warm-pool agents', () => {
  it('disables an idle pool agent that can take no job at once, noting why, and stops it only at the next ping', () => {
    const p = plan([poolAgent('ea-pool-1', 2)], [gocd('ea-pool-1', 'Idle')], judge({ 'ea-pool-1': 'it ran its job' }));
    expect(p.actions).toEqual({ disable: ['ea-pool-1'], delete: [] });
    expect(p.stops).toEqual([]);
    expect(Object.fromEntries(p.notes)).toEqual({
      'ea-pool-1': 'it ran its job; disabled, stopped at the next ping',
    });
  });

  it('does not disable a retired pool agent that GoCD does not report Idle yet', () => {
    const p = plan(
      [poolAgent('ea-pool-1', 2)],
      [gocd('ea-pool-1', 'Unknown')],
      judge({ 'ea-pool-1': 'it ran its job' }),
    );
    expect(p.actions).toEqual({ disable: [], delete: [] });
    expect(p.stops).toEqual([]);
  });

  it('stops a retired pool agent GoCD does not list yet at once, under the warm-pool rule with the reason', () => {
    const agent = poolAgent('ea-pool-1', 1);
    const p = plan([agent], [], judge({ 'ea-pool-1': 'its image tag moved' }));
    expect(p.stops).toEqual([{ cluster, agent, rule: 'warm-pool', reason: 'its image tag moved' }]);
  });

  it("lets a pool agent idle for its pool's idle minutes instead of the cluster's idle timeout", () => {
    const p = plan([poolAgent('ea-pool-1', 40)], [gocd('ea-pool-1', 'Idle')], judge({}, 60));
    expect(p.actions.disable).toEqual([]);
    const past = plan([poolAgent('ea-pool-1', 71)], [gocd('ea-pool-1', 'Idle')], judge({}, 60));
    expect(Object.fromEntries(past.notes)).toEqual({
      'ea-pool-1': 'agent ea-pool-1 idle past 70 minutes; disabled, stopped at the next ping',
    });
  });

  it("never asks the pool rules about a job's own agent: it keeps the cluster's idle timeout and is never retired", () => {
    const everyone = judge({ 'ea-1-00000001': 'retired', 'ea-2-00000002': 'retired' }, 600);
    const p = plan(
      [jobAgent('ea-1-00000001', 16), jobAgent('ea-2-00000002', 3)],
      [gocd('ea-1-00000001', 'Idle')],
      everyone,
    );
    expect(p.stops).toEqual([]);
    expect(p.actions).toEqual({ disable: ['ea-1-00000001'], delete: [] });
    expect(Object.fromEntries(p.notes)).toEqual({
      'ea-1-00000001': 'agent ea-1-00000001 idle past 15 minutes; disabled, stopped at the next ping',
    });
  });

  it('treats pool agents by the cluster timeouts when no pool rules are known (no warm pools configured)', () => {
    const p = plan([poolAgent('ea-pool-1', 16), poolAgent('ea-pool-2', 3)], [gocd('ea-pool-1', 'Idle')]);
    expect(p.stops).toEqual([]);
    expect(p.actions.disable).toEqual(['ea-pool-1']);
  });
});

describe('capability refusals', () => {
  const permits = (capabilities: LaunchPermits['capabilities'], deniedBy: LaunchPermits['deniedBy'] = {}) => ({
    privileged: capabilities === 'all',
    socketMount: false,
    hostNetwork: false,
    capabilities,
    deniedBy,
  });

  it('permits any listed capability where full privilege is allowed', () => {
    const needs = { mode: 'sidecar' as const, capabilities: ['SYS_ADMIN', 'NET_ADMIN'] };
    expect(privilegeRefusal(permits('all'), needs, 'this elastic profile')).toBeUndefined();
  });

  it('names every capability the policy does not list, comma-separated', () => {
    const needs = { mode: 'sidecar' as const, capabilities: ['SYS_MODULE', 'NET_RAW', 'SYS_ADMIN'] };
    const refusal = privilegeRefusal(
      permits(new Set(['SYS_ADMIN']), { capabilities: 'policy.allow.capabilities' }),
      needs,
      'this elastic profile',
    );
    expect(refusal).toBe(
      'this elastic profile: capabilities SYS_MODULE, NET_RAW are refused by the operator policy (policy.allow.capabilities: SYS_ADMIN)',
    );
  });

  it('matches a capability by its whole name, not by a name with CAP_ cut out of its middle', () => {
    const needs = { mode: 'sidecar' as const, capabilities: ['SYS_CAP_X'] };
    const refusal = privilegeRefusal(
      permits(new Set(['SYS_X']), { capabilities: 'policy.allow.capabilities' }),
      needs,
      'this elastic profile',
    );
    expect(refusal).toContain('capabilities SYS_CAP_X are refused');
  });

  it('reads the capability ALL as full privilege', () => {
    const profile = parseElasticProfile({ image: 'agent:1', docker_mode: 'privileged', capabilities: 'ALL' });
    expect(declaredNeeds(profile)).toEqual({
      mode: 'privileged',
      capabilities: [],
      fullPrivilege: 'docker_mode privileged with capabilities ALL',
    });
  });
});

describe('profile values', () => {
  it('names each bad environment line, separated by semicolons', () => {
    const problems = validateAgainst([{ key: 'environment', label: 'Env', help: '', kind: 'env' }], {
      environment: 'no equals sign\nA=1\n1BAD=x',
    });
    expect(problems).toEqual([
      {
        key: 'environment',
        message:
          'environment: line 1 is not KEY=VALUE with a valid variable name; line 3 is not KEY=VALUE with a valid variable name',
      },
    ]);
    expect(parseEnvLines('=value').problems).toEqual(['line 1 is not KEY=VALUE with a valid variable name']);
  });

  it('does not take a URL that cannot be parsed for a loopback one (its format is reported instead)', () => {
    expect(isLoopbackUrl('http://')).toBe(false);
    expect(isLoopbackUrl('http://[::1')).toBe(false);
    expect(unreachableServerUrlProblem({ go_server_url: 'http://' }, 'on ECS')).toEqual([]);
  });

  it('throws a ValidationError whose details name each property and its problem', () => {
    let thrown: unknown;
    try {
      failIfAny('elastic profile', [
        { key: 'image', message: 'image must not be blank' },
        { key: 'cpu', message: 'cpu must be a whole number' },
      ]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).message).toBe(
      'invalid elastic profile: image must not be blank; cpu must be a whole number',
    );
    expect((thrown as ValidationError).details).toEqual([
      { path: 'image', message: 'image must not be blank' },
      { path: 'cpu', message: 'cpu must be a whole number' },
    ]);
  });

  it('skips blank and whitespace-only lines of a command', () => {
    const profile = parseElasticProfile({ image: 'agent:1', command: 'echo a\n   \n\t\necho b\r\n' });
    expect(profile.command).toEqual(['echo a', 'echo b']);
  });

  it('reads warm_pool_idle_minutes, and defaults it to 60', () => {
    expect(parseElasticProfile({ image: 'agent:1', warm_pool_idle_minutes: '15' }).warmPool.idleMinutes).toBe(15);
    expect(parseElasticProfile({ image: 'agent:1' }).warmPool.idleMinutes).toBe(60);
  });
});
