import { randomBytes } from 'node:crypto';
import type { AgentRecord } from './agent-backend.port.js';
import type { GocdAgent } from './job.js';
import type { OperatorPolicy } from './policy.js';
import { inSchedule } from './pool-schedule.js';
import type { ClusterProfile, ElasticProfile } from './profiles.js';
import type { StateStore } from './state-store.port.js';
import { FORWARDER_INSTANCE, parsePoolAgentId, poolAgentId, profileHash } from './warm-pool-id.js';

const MINUTE = 60_000;
/** A pool nobody asked a job of for this long stops being refilled (its agents then age out). */
export const DEMAND_TTL_MS = 24 * 60 * MINUTE;
/** How long a job's hold on a waiting pool agent lasts without GoCD assigning it (GoCD re-sends create-agent). */
export const RESERVATION_TTL_MS = 5 * MINUTE;
const INSTANCE_KEY = '~pool|forwarder-instance';

/** A profile whose jobs get warm agents: learned from its create-agent (server-ping carries no elastic profiles). */
export interface PoolDemand {
  key: string;
  hash: string;
  cluster: ClusterProfile;
  profile: ElasticProfile;
  environment?: string;
  /** GoCD's auto-register key, from the create-agent that asked (the same for every agent of the server). */
  autoRegisterKey: string;
  /** warm_pool_size cut to the operator's policy.warmPool.maxPerProfile. */
  size: number;
  idleMinutes: number;
  seenAt: number;
}

/** One pool as the status report shows it. */
export interface PoolStatus {
  clusterId: string;
  hash: string;
  image: string;
  size: number;
  waiting: number;
  reserved: number;
  inUse: number;
  refilling: number;
  whyNotFull?: string;
}

/** What reconciliation asks about a pool agent (reconcile-plan.ts). */
export interface PoolJudge {
  /** Why this pool agent must go now although it is idle and young (a restarted forwarder, a new image), if so. */
  retireReason(agent: AgentRecord): string | undefined;
  /** How long this pool agent may wait idle for a job (its profile's warm_pool_idle_minutes). */
  idleMinutes(agent: AgentRecord): number;
}

/**
 * The warm pools (DESIGN.md "Warm pools"): which profiles want waiting agents, which job holds which waiting agent,
 * which pool agents already took a job, and how many to launch to keep each pool full. It launches nothing itself:
 * AgentService does, through the backend and the fleet view, paced and capped like every launch.
 *
 * The truth about pool agents is in their tags/labels (listed with the fleet); which profiles are pooled comes with
 * every server-ping (the forwarder's `warm_pools`) and every create-agent; the forwarder instance is kept in the store.
 * Only the holds and the used set are this process's memory (a job re-sends create-agent; a used agent is stopped at
 * its job-completion).
 */
export class WarmPools implements PoolJudge {
  private instance: string | undefined;
  private readonly demands = new Map<string, PoolDemand>();
  /** Pool agent id → the job whose create-agent it answered, and when. */
  private readonly holds = new Map<string, { clusterId: string; jobId: number; at: number }>();
  /** Pool agents that took a job (seen Building, or their job completed): never waiting again. */
  private readonly used = new Set<string>();
  /** Per pool: agents created before this time are retired (their image tag moved to a new digest). */
  private readonly retiredBefore = new Map<string, number>();
  /** Pools whose image tag moved: their next launch fetches the image again (LaunchRequest.pullImage). */
  private readonly staleImages = new Set<string>();
  /** Waiting pool agents given up so that a job waiting on max_agents gets their slot. */
  private readonly evicted = new Set<string>();
  /** Which job each eviction is for: a job's re-sent create-agent gives up no second agent while its first goes. */
  private readonly evictedFor = new Map<string, string>();
  private readonly refilling = new Map<string, number>();
  private readonly shortfall = new Map<string, string>();

  constructor(private readonly deps: { policy: Readonly<OperatorPolicy>; now: () => number; store?: StateStore }) {}

  /** server-ping: the forwarder's instance id (absent: an older forwarder; then no pool agent is launched). */
  async setInstance(instance: string | undefined): Promise<void> {
    if (instance === undefined || !FORWARDER_INSTANCE.test(instance)) return;
    if (instance !== this.instance) this.instance = instance;
    await this.deps.store?.put(INSTANCE_KEY, instance, 3600).catch(() => undefined);
  }

  /** The forwarder instance pool agents are named after; read from the store when this process has not seen one. */
  async currentInstance(): Promise<string | undefined> {
    if (this.instance === undefined && this.deps.store) {
      const stored = await this.deps.store.get(INSTANCE_KEY).catch(() => undefined);
      if (stored && FORWARDER_INSTANCE.test(stored)) this.instance = stored;
    }
    return this.instance;
  }

  /** create-agent of a valid profile: remember its pool (size > 0), or forget it (size 0). */
  learn(
    cluster: ClusterProfile,
    profile: ElasticProfile,
    sentProfile: Readonly<Record<string, unknown>>,
    environment: string | undefined,
    autoRegisterKey: string,
  ): PoolDemand | undefined {
    const hash = profileHash(cluster.clusterId, environment, sentProfile);
    if (hash === undefined) return undefined;
    const key = `${cluster.clusterId}\0${hash}`;
    const size = Math.min(profile.warmPool.size, this.deps.policy.warmPool?.maxPerProfile ?? 10);
    if (size <= 0) {
      this.demands.delete(key);
      return undefined;
    }
    const demand: PoolDemand = {
      key,
      hash,
      cluster,
      profile,
      ...(environment ? { environment } : {}),
      autoRegisterKey,
      size,
      idleMinutes: profile.warmPool.idleMinutes,
      seenAt: this.deps.now(),
    };
    this.demands.set(key, demand);
    return demand;
  }

  /** The pools of a cluster still in demand (and the cluster profile as GoCD sends it now, when given). */
  demandsOf(clusterId: string, current?: ClusterProfile): PoolDemand[] {
    const now = this.deps.now();
    const out: PoolDemand[] = [];
    for (const [key, d] of this.demands) {
      if (d.cluster.clusterId !== clusterId) continue;
      if (now - d.seenAt > DEMAND_TTL_MS) {
        this.demands.delete(key);
        continue;
      }
      if (current) d.cluster = current;
      out.push(d);
    }
    return out;
  }

  /** server-ping: drop the pools of cluster profiles GoCD no longer has. */
  keepClusters(clusterIds: ReadonlySet<string>): void {
    for (const [key, d] of this.demands) if (!clusterIds.has(d.cluster.clusterId)) this.demands.delete(key);
  }

  /** GoCD's agent list (server-ping): a pool agent Building has taken a job; its hold is settled. */
  observe(gocdAgents: readonly GocdAgent[] | undefined): void {
    for (const g of gocdAgents ?? []) {
      if (!parsePoolAgentId(g.agent_id)) continue;
      if (g.agent_state === 'Building' || g.build_state === 'Building') this.tookJob(g.agent_id);
    }
  }

  /** A pool agent took a job (job-completion names it, or GoCD lists it Building). */
  tookJob(agentId: string): void {
    this.used.add(agentId);
    this.holds.delete(agentId);
    if (this.used.size > 100_000) this.used.delete(this.used.values().next().value!);
  }

  /**
   * True for a pool agent of this pool that may still take a job: this instance, live, unused, not retired, and
   * younger than its idle limit (registration timeout + warm_pool_idle_minutes, when reconciliation recycles it).
   */
  private fresh(demand: PoolDemand, agent: AgentRecord): boolean {
    const id = parsePoolAgentId(agent.agentId);
    if (!id || id.profileHash !== demand.hash || id.instance !== this.instance) return false;
    if (agent.status !== 'pending' && agent.status !== 'running') return false;
    if (this.used.has(agent.agentId) || this.evicted.has(agent.agentId)) return false;
    if (!this.scheduled(demand)) return false;
    const created = agent.createdAt.getTime();
    const limit = (demand.cluster.registrationTimeoutMinutes + demand.idleMinutes) * MINUTE;
    if (this.deps.now() - created > limit) return false;
    return created >= (this.retiredBefore.get(demand.key) ?? 0);
  }

  private holdOf(agentId: string): { jobId: number; at: number } | undefined {
    const h = this.holds.get(agentId);
    if (h && this.deps.now() - h.at > RESERVATION_TTL_MS) {
      this.holds.delete(agentId);
      return undefined;
    }
    return h;
  }

  /**
   * create-agent of a pooled profile: a fresh pool agent this job may have (the one it already holds, else one nobody
   * holds), now held for it; undefined when the pool has none waiting (the job gets its own agent).
   */
  hold(demand: PoolDemand, jobId: number, agents: readonly AgentRecord[]): AgentRecord | undefined {
    const fresh = agents.filter((a) => this.fresh(demand, a));
    const now = this.deps.now();
    const mine = fresh.find((a) => this.holdOf(a.agentId)?.jobId === jobId);
    const agent = mine ?? fresh.find((a) => this.holdOf(a.agentId) === undefined);
    if (agent) this.holds.set(agent.agentId, { clusterId: demand.cluster.clusterId, jobId, at: now });
    return agent;
  }

  /** How many pool agents to launch now to fill the pool: its size minus those waiting (held or not) and launching. */
  /** True while the pool's warm_pool_schedule (if any) keeps it now. */
  scheduled(demand: PoolDemand): boolean {
    return inSchedule(demand.profile.warmPool.schedule, new Date(this.deps.now()));
  }

  need(demand: PoolDemand, agents: readonly AgentRecord[]): number {
    if (!this.scheduled(demand)) return 0;
    const waiting = agents.filter((a) => this.fresh(demand, a) && this.holdOf(a.agentId) === undefined).length;
    const size = Math.min(demand.size, this.clusterRoom(demand.cluster.clusterId, demand));
    return Math.max(0, size - waiting - (this.refilling.get(demand.key) ?? 0));
  }

  /** The id of the next pool agent (random nonce), or undefined while the forwarder instance is unknown. */
  nextAgentId(demand: PoolDemand): string | undefined {
    if (!this.instance) return undefined;
    return poolAgentId({ profileHash: demand.hash, instance: this.instance, nonce: randomBytes(4).toString('hex') });
  }

  /**
   * A job (of `mine`'s pool, or of no pool) waits on max_agents: give up one waiting pool agent nobody holds — of another
   * pool (this job's own pool would have given it the agent) — and return its id, or undefined when there is none.
   * Reconciliation then disables and stops it (retireReason), and the job's next create-agent gets the slot.
   */
  evictFor(
    clusterId: string,
    jobId: number,
    mine: PoolDemand | undefined,
    agents: readonly AgentRecord[],
  ): string | undefined {
    const jobKey = `${clusterId}\0${jobId}`;
    const earlier = this.evictedFor.get(jobKey);
    if (earlier && agents.some((a) => a.agentId === earlier)) return earlier;
    for (const a of agents) {
      const id = parsePoolAgentId(a.agentId);
      if (!id || id.instance !== this.instance || (mine && id.profileHash === mine.hash)) continue;
      if (this.used.has(a.agentId) || this.evicted.has(a.agentId) || this.holdOf(a.agentId)) continue;
      if (a.status !== 'pending' && a.status !== 'running') continue;
      this.evicted.add(a.agentId);
      this.evictedFor.set(jobKey, a.agentId);
      if (this.evicted.size > 10_000) this.evicted.delete(this.evicted.values().next().value!);
      if (this.evictedFor.size > 10_000) this.evictedFor.delete(this.evictedFor.keys().next().value!);
      return a.agentId;
    }
    return undefined;
  }

  /** True when the pool's next launch must fetch its image again (its tag moved); `pulled` once one did. */
  mustPull(demand: PoolDemand): boolean {
    return this.staleImages.has(demand.key);
  }

  pulled(demand: PoolDemand): void {
    this.staleImages.delete(demand.key);
  }

  /** A refill launch starts / ends (counted as launching, so a concurrent refill does not launch it twice). */
  launching(demand: PoolDemand, delta: 1 | -1): void {
    this.refilling.set(demand.key, Math.max(0, (this.refilling.get(demand.key) ?? 0) + delta));
  }

  /** Why the pool is not full (max_agents, the policy, the forwarder instance, a failed launch), or it is. */
  setShortfall(demand: PoolDemand, reason: string | undefined): void {
    if (reason) this.shortfall.set(demand.key, reason);
    else this.shortfall.delete(demand.key);
  }

  /** The most pool agents the policy lets this cluster keep, minus the other pools' sizes. */
  clusterRoom(clusterId: string, demand: PoolDemand): number {
    const others = this.demandsOf(clusterId)
      .filter((d) => d.key !== demand.key)
      .reduce((n, d) => n + d.size, 0);
    return Math.max(0, (this.deps.policy.warmPool?.maxPerCluster ?? 20) - others);
  }

  /** A push moved `image` (`host/repository:tag` as profiles name it) to a new digest: its pools' agents retire. */
  recycleImage(image: string): string[] {
    const now = this.deps.now();
    const recycled: string[] = [];
    for (const d of this.demands.values()) {
      if (sameImage(d.profile.image, image)) {
        this.retiredBefore.set(d.key, now);
        this.staleImages.add(d.key);
        recycled.push(d.key);
      }
    }
    return recycled;
  }

  retireReason(agent: AgentRecord): string | undefined {
    const id = parsePoolAgentId(agent.agentId);
    if (!id) return undefined;
    if (this.used.has(agent.agentId)) return `warm-pool agent ${agent.agentId} already ran its one job`;
    if (this.evicted.has(agent.agentId)) {
      return `warm-pool agent ${agent.agentId} gives its slot to a job waiting on max_agents`;
    }
    if (this.instance && id.instance !== this.instance) {
      return `warm-pool agent ${agent.agentId} belongs to an earlier forwarder (GoCD restarted): it can take no job`;
    }
    const demand = this.demands.get(`${agent.clusterId}\0${id.profileHash}`);
    if (demand && !this.scheduled(demand)) {
      return `warm-pool agent ${agent.agentId} is outside its pool's warm_pool_schedule (${demand.profile.warmPool.schedule})`;
    }
    const retired = this.retiredBefore.get(`${agent.clusterId}\0${id.profileHash}`);
    if (retired !== undefined && agent.createdAt.getTime() < retired) {
      return `warm-pool agent ${agent.agentId} runs an image whose tag has moved to a new digest`;
    }
    return undefined;
  }

  idleMinutes(agent: AgentRecord): number {
    const id = parsePoolAgentId(agent.agentId);
    const d = id && this.demands.get(`${agent.clusterId}\0${id.profileHash}`);
    return d ? d.idleMinutes : 60;
  }

  /** The pools of a cluster for the status report. */
  status(clusterId: string, agents: readonly AgentRecord[], gocdBuilding: ReadonlySet<string>): PoolStatus[] {
    return this.demandsOf(clusterId).map((d) => {
      const mine = agents.filter((a) => parsePoolAgentId(a.agentId)?.profileHash === d.hash);
      const fresh = mine.filter((a) => this.fresh(d, a));
      const reserved = fresh.filter((a) => this.holdOf(a.agentId) !== undefined).length;
      const inUse = mine.filter((a) => this.used.has(a.agentId) || gocdBuilding.has(a.agentId)).length;
      const shortfall = this.shortfall.get(d.key);
      return {
        clusterId,
        hash: d.hash,
        image: d.profile.image,
        size: d.size,
        waiting: fresh.length - reserved,
        reserved,
        inUse,
        refilling: this.refilling.get(d.key) ?? 0,
        ...(shortfall ? { whyNotFull: shortfall } : {}),
      };
    });
  }
}

/** `image` as a profile names it equals the pushed `host/repository:tag` (Docker Hub's implicit parts included). */
export function sameImage(profileImage: string, pushed: string): boolean {
  return normalizeImage(profileImage) === normalizeImage(pushed);
}

function normalizeImage(ref: string): string {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const slash = base.lastIndexOf('/');
  const colon = base.lastIndexOf(':');
  const named = colon > slash ? base : `${base}:latest`;
  const first = named.split('/')[0]!;
  const hasHost = named.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasHost) return named;
  return `docker.io/${named.includes('/') ? named : `library/${named}`}`;
}
