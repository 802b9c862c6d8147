import type { AgentRecord } from '../../src/agents/agent-backend.port.js';
import { shouldAssignWork } from '../../src/agents/agent-id.js';
import type { GocdAgent, JobIdentifier } from '../../src/agents/job.js';
import { parsePoolAgentId } from '../../src/agents/warm-pool-id.js';

/** A job GoCD has scheduled and not yet handed to an agent (a JobPlan). */
export interface SimulatedJob {
  job: JobIdentifier;
  clusterProperties: Record<string, string>;
  profileProperties: Record<string, string>;
  environment?: string;
}

interface RegisteredAgent {
  agentId: string;
  state: 'Idle' | 'Building';
  config: 'Enabled' | 'Disabled';
  jobs: number[];
}

/**
 * GoCD's side of assignment, as BuildAssignmentService does it (gocd/gocd server/.../BuildAssignmentService.java:
 * `assignWorkToAgent` is `synchronized`, skips disabled agents, and `findMatchingJob` asks should-assign-work for the
 * idle agent against each scheduled job in order, takes the first true and removes that job from the list), with the
 * forwarder's should-assign-work: the shared pure rule plus the forwarder's pool claims (gocd-plugin PoolClaims: a
 * true answer for a pool agent records its job; another job for it is refused).
 */
export class SimulatedGocd {
  readonly scheduled: SimulatedJob[] = [];
  readonly agents = new Map<string, RegisteredAgent>();
  /** The forwarder's memory (PoolClaims): pool agent → the job it was given. */
  claims = new Map<string, number>();
  /** Every assignment made: job id → agent id. */
  readonly assigned = new Map<number, string>();
  /** should-assign-work questions asked, and how many answered true. */
  asked = 0;

  constructor(public instance = '5f3a9c01') {}

  /** GoCD restarted: its forwarder draws a new instance and remembers no claims. */
  restartForwarder(instance: string): void {
    this.instance = instance;
    this.claims = new Map();
  }

  schedule(job: SimulatedJob): void {
    this.scheduled.push(job);
  }

  /** An agent container that came up registers (auto-register with its elastic agent id), once. */
  register(agentId: string): void {
    if (!this.agents.has(agentId)) this.agents.set(agentId, { agentId, state: 'Idle', config: 'Enabled', jobs: [] });
  }

  /** Every launched agent older than `delayMs` registers (its container booted and the agent process started). */
  registerBooted(records: readonly AgentRecord[], nowMs: number, delayMs: number): void {
    for (const r of records) {
      if (r.status !== 'stopping' && r.status !== 'stopped' && nowMs - r.createdAt.getTime() >= delayMs) {
        this.register(r.agentId);
      }
    }
  }

  /** The forwarder's should-assign-work for one agent and job (the pure rule, then the claim). */
  shouldAssign(agentId: string, plan: SimulatedJob): boolean {
    this.asked++;
    const body = {
      agent: { agent_id: agentId, agent_state: 'Idle', build_state: 'Idle', config_state: 'Enabled' },
      environment: plan.environment ?? null,
      elastic_agent_profile_properties: plan.profileProperties,
      cluster_profile_properties: plan.clusterProperties,
      job_identifier: plan.job,
    };
    const ok = shouldAssignWork(body, { instance: this.instance, claimedJob: (id) => this.claims.get(id) });
    if (!ok || !parsePoolAgentId(agentId)) return ok;
    const earlier = this.claims.get(agentId);
    if (earlier !== undefined && earlier !== plan.job.job_id) return false;
    this.claims.set(agentId, plan.job.job_id);
    return true;
  }

  /** One agent asks for work (GoCD's assignWorkToAgent): the first scheduled job it may take, or none. */
  askForWork(agentId: string): number | undefined {
    const agent = this.agents.get(agentId);
    if (!agent || agent.config === 'Disabled' || agent.state !== 'Idle') return undefined;
    const i = this.scheduled.findIndex((plan) => this.shouldAssign(agentId, plan));
    if (i < 0) return undefined;
    const [plan] = this.scheduled.splice(i, 1);
    const jobId = plan!.job.job_id;
    agent.state = 'Building';
    agent.jobs.push(jobId);
    this.assigned.set(jobId, agentId);
    return jobId;
  }

  /** Every idle agent asks once, in registration order. */
  assignmentRound(): { agentId: string; jobId: number }[] {
    const made: { agentId: string; jobId: number }[] = [];
    for (const id of this.agents.keys()) {
      const jobId = this.askForWork(id);
      if (jobId !== undefined) made.push({ agentId: id, jobId });
    }
    return made;
  }

  /** The agent's job finished: the agent is idle again until job-completion removes it. */
  finish(jobId: number): string | undefined {
    const agentId = this.assigned.get(jobId);
    const agent = agentId ? this.agents.get(agentId) : undefined;
    if (agent) agent.state = 'Idle';
    return agentId;
  }

  /** The forwarder executed a reply's agent_actions. */
  apply(actions: { disable: string[]; delete: string[] }): void {
    for (const id of actions.disable) {
      const a = this.agents.get(id);
      if (a) a.config = 'Disabled';
    }
    for (const id of actions.delete) this.agents.delete(id);
  }

  /** GoCD's list-agents answer. */
  list(): GocdAgent[] {
    return [...this.agents.values()].map((a) => ({
      agent_id: a.agentId,
      agent_state: a.state,
      build_state: a.state,
      config_state: a.config,
    }));
  }

  /** The agents that ran more than one job (must stay empty). */
  reused(): string[] {
    const count = new Map<string, number>();
    for (const id of this.assigned.values()) count.set(id, (count.get(id) ?? 0) + 1);
    return [...count].filter(([, n]) => n > 1).map(([id]) => id);
  }
}
