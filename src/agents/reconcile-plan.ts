import type { AgentRecord } from './agent-backend.port.js';
import type { AgentActions, GocdAgent } from './job.js';
import type { ClusterProfile } from './profiles.js';
import type { PoolJudge } from './warm-pools.js';

/** One cluster's live agents, or the fact that they could not be listed. */
export interface ClusterListing {
  cluster: ClusterProfile;
  agents?: AgentRecord[];
  error?: string;
}

export interface PlannedStop {
  cluster: ClusterProfile;
  agent: AgentRecord;
  reason: string;
  /** Why it counts as reaping, for the status report and metrics. */
  rule: 'never-registered' | 'lost-contact' | 'idle' | 'disabled' | 'warm-pool';
}

export interface ReconcilePlan {
  stops: PlannedStop[];
  actions: AgentActions;
  /** Human-readable reasons for each disable/delete, keyed by agent id. */
  notes: Map<string, string>;
}

const MINUTE = 60_000;

/**
 * server-ping reconciliation as a pure function (DESIGN.md "Agents"):
 * - a task whose agent never registered within registration_timeout → stop (younger ones are booting);
 * - an agent GoCD lists with no live task anywhere → disable + delete (only when every cluster listed fine);
 * - a live task whose agent is LostContact/Missing → stop + disable + delete;
 * - an Idle, Enabled agent older than registration + idle timeout → disable now; once GoCD reports it Disabled
 *   (next ping) → stop + delete. Disabling first means GoCD cannot hand it a job while it is torn down.
 * - a Building agent with a live task is never touched.
 * - warm-pool agents (`pools`): idle up to their profile's warm_pool_idle_minutes (after registering) instead of the
 *   cluster's idle timeout; one that can take no job any more (it ran its job, the forwarder restarted, its image tag
 *   moved) is disabled at once (stopped at the next ping), or stopped at once when GoCD does not list it yet.
 * With no GoCD agent list (`gocdAgents` undefined: the forwarder's list-agents call failed) nothing is done.
 */
export function planReconcile(
  listings: ClusterListing[],
  gocdAgents: GocdAgent[] | undefined,
  now: Date,
  everyProfileRead = true,
  pools?: PoolJudge,
): ReconcilePlan {
  const plan: ReconcilePlan = { stops: [], actions: { disable: [], delete: [] }, notes: new Map() };
  if (gocdAgents === undefined) return plan;
  const complete = everyProfileRead && listings.every((l) => l.agents !== undefined);
  const live = new Map<string, { cluster: ClusterProfile; agent: AgentRecord }>();
  for (const l of listings) for (const agent of l.agents ?? []) live.set(agent.agentId, { cluster: l.cluster, agent });
  const known = new Set(gocdAgents.map((a) => a.agent_id));
  const ageMin = (a: AgentRecord) => (now.getTime() - a.createdAt.getTime()) / MINUTE;
  const disable = (id: string) => plan.actions.disable.includes(id) || plan.actions.disable.push(id);
  const remove = (id: string) => plan.actions.delete.includes(id) || plan.actions.delete.push(id);

  for (const g of gocdAgents) {
    const found = live.get(g.agent_id);
    if (!found) {
      if (complete) {
        disable(g.agent_id);
        remove(g.agent_id);
        plan.notes.set(g.agent_id, `agent ${g.agent_id} (${g.agent_state}) has no live task or container`);
      }
      continue;
    }
    const { cluster, agent } = found;
    if (agent.status === 'stopping') continue;
    if (g.agent_state === 'LostContact' || g.agent_state === 'Missing') {
      plan.stops.push({
        cluster,
        agent,
        rule: 'lost-contact',
        reason: `agent ${g.agent_id} is ${g.agent_state} in GoCD`,
      });
      disable(g.agent_id);
      remove(g.agent_id);
      continue;
    }
    if (g.agent_state === 'Building' || g.build_state === 'Building') continue;
    if (g.config_state === 'Disabled') {
      plan.stops.push({
        cluster,
        agent,
        rule: 'disabled',
        reason: `agent ${g.agent_id} was disabled in GoCD and is not building`,
      });
      remove(g.agent_id);
      continue;
    }
    const retire = agent.pool !== undefined ? pools?.retireReason(agent) : undefined;
    if (retire && g.agent_state === 'Idle') {
      disable(g.agent_id);
      plan.notes.set(g.agent_id, `${retire}; disabled, stopped at the next ping`);
      continue;
    }
    const idle = agent.pool !== undefined && pools ? pools.idleMinutes(agent) : cluster.idleTimeoutMinutes;
    const limit = cluster.registrationTimeoutMinutes + idle;
    if (g.agent_state === 'Idle' && ageMin(agent) > limit) {
      disable(g.agent_id);
      plan.notes.set(g.agent_id, `agent ${g.agent_id} idle past ${limit} minutes; disabled, stopped at the next ping`);
    }
  }

  for (const { cluster, agent } of live.values()) {
    if (known.has(agent.agentId) || agent.status === 'stopping') continue;
    const retire = agent.pool !== undefined ? pools?.retireReason(agent) : undefined;
    if (retire) {
      plan.stops.push({ cluster, agent, rule: 'warm-pool', reason: retire });
      continue;
    }
    if (ageMin(agent) > cluster.registrationTimeoutMinutes) {
      plan.stops.push({
        cluster,
        agent,
        rule: 'never-registered',
        reason: `agent ${agent.agentId} did not register with GoCD within ${cluster.registrationTimeoutMinutes} minutes`,
      });
    }
  }
  return plan;
}
