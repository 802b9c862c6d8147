import { BackendUnavailableError } from '../errors.js';
import { retryWhileThrottled } from '../throttle-retry.js';
import type { AgentRecord } from './agent-backend.port.js';
import { GOCD_REQUEST_DEADLINE_MS } from './request-deadline.js';

/** Tuning of the fleet view; every field has a default. */
export interface FleetViewOptions {
  now?: () => number;
  /**
   * A view older than this is refreshed (one listing, shared by every create-agent waiting for it) before create-agent
   * uses it. GoCD's server-ping refreshes it every 60 s, so with pings arriving it is never reached; default 120 s.
   */
  maxAgeMs?: number;
  /**
   * How long after a launch (or a stop) a listing may still not show it: ECS's ListTasks is eventually consistent.
   * A launch is counted on top of every listing that started less than this after it; default 60 s.
   */
  consistencyMs?: number;
  /** First wait before re-listing after a throttled listing (doubles, at most 5 s). */
  retryDelayMs?: number;
  /** How long a refresh given no deadline may wait out a throttled listing; default GOCD_REQUEST_DEADLINE_MS. */
  throttleWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

interface View {
  agents: Map<string, AgentRecord>;
  /** When the listing started (a task launched after this may be missing from it). */
  listedAt: number;
}

/**
 * A launch of this process: reserved (no `agent` yet: RunTask has not answered, e.g. it waits for its pacer turn) or
 * done (`agent`, `at` = when it answered).
 */
interface Launch {
  at: number;
  agent?: AgentRecord;
}

/**
 * What this process knows about each cluster's agents, for create-agent's cap and duplicate checks without a listing
 * per job: the last bulk listing (server-ping's, every 60 s; or a refresh when it is older than `maxAgeMs`) plus the
 * launches and stops this process made since. Staleness is bounded: a view is at most `maxAgeMs` old when used, and
 * this process's own launches and stops since are always counted. Launches by *other* processes since the listing are
 * not seen until the next one (up to `maxAgeMs`): with several processes or Lambda containers the cap can be
 * overshot by what they launched in that window; RunTask client tokens still give each job one task. Memory only:
 * a restart starts with no view, and the first create-agent lists once.
 */
export class FleetView {
  private readonly views = new Map<string, View>();
  private readonly launches = new Map<string, Map<string, Launch>>();
  private readonly stops = new Map<string, Map<string, number>>();
  private readonly refreshing = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  private readonly consistencyMs: number;
  private readonly retryDelayMs: number;
  private readonly throttleWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: FleetViewOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? 120_000;
    this.consistencyMs = options.consistencyMs ?? 60_000;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.throttleWaitMs = options.throttleWaitMs ?? GOCD_REQUEST_DEADLINE_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Records a complete listing of a cluster's live agents that started at `listedAt` (ms). */
  update(clusterId: string, agents: readonly AgentRecord[], listedAt: number): void {
    const previous = this.views.get(clusterId);
    if (previous && previous.listedAt > listedAt) return;
    this.views.set(clusterId, { agents: new Map(agents.map((a) => [a.agentId, a])), listedAt });
    const horizon = listedAt - this.consistencyMs;
    // A reservation (no agent yet) is not a launch a listing could show: it counts until it is released or launched,
    // however long its RunTask waits for a turn.
    for (const [id, l] of this.launches.get(clusterId) ?? [])
      if (l.agent && l.at < horizon) this.launches.get(clusterId)!.delete(id);
    for (const [id, at] of this.stops.get(clusterId) ?? []) if (at < horizon) this.stops.get(clusterId)!.delete(id);
  }

  /** Age of the cluster's view in ms, or undefined when there is none. */
  age(clusterId: string): number | undefined {
    const v = this.views.get(clusterId);
    return v ? this.now() - v.listedAt : undefined;
  }

  /**
   * Makes sure the cluster has a view no older than `maxAgeMs`: lists once (concurrent callers share that listing).
   * A throttled listing is retried with backoff until `deadline` (default: `throttleWaitMs` from now); any other
   * failure, or the deadline, throws.
   */
  async ensure(clusterId: string, list: () => Promise<AgentRecord[]>, deadline?: number): Promise<void> {
    const age = this.age(clusterId);
    if (age !== undefined && age <= this.maxAgeMs) return;
    let pending = this.refreshing.get(clusterId);
    if (!pending) {
      pending = this.refresh(clusterId, list, deadline).finally(() => this.refreshing.delete(clusterId));
      this.refreshing.set(clusterId, pending);
    }
    await pending;
  }

  private async refresh(clusterId: string, list: () => Promise<AgentRecord[]>, deadline?: number): Promise<void> {
    // A throttled listing is ECS pacing its read bucket, not a failure: wait and list again, within the deadline.
    const listing = await retryWhileThrottled(
      async () => {
        const startedAt = this.now();
        return { agents: await list(), startedAt };
      },
      {
        isThrottled: (err) => err instanceof BackendUnavailableError && err.throttled,
        deadline: deadline ?? this.now() + this.throttleWaitMs,
        now: this.now,
        sleep: this.sleep,
        firstDelayMs: this.retryDelayMs,
      },
    );
    this.update(clusterId, listing.agents, listing.startedAt);
  }

  /** The live agent of a job in the view or among this process's launches since, if any. */
  agentOfJob(clusterId: string, jobId: number): AgentRecord | undefined {
    for (const l of this.launches.get(clusterId)?.values() ?? []) if (l.agent?.jobId === jobId) return l.agent;
    const stopped = this.stops.get(clusterId);
    for (const a of this.views.get(clusterId)?.agents.values() ?? []) {
      if (a.jobId === jobId && !stopped?.has(a.agentId)) return a;
    }
    return undefined;
  }

  /** A known agent by id (for job-completion's stop without a listing), unless this process stopped it. */
  find(clusterId: string, agentId: string): AgentRecord | undefined {
    if (this.stops.get(clusterId)?.has(agentId)) return undefined;
    return this.launches.get(clusterId)?.get(agentId)?.agent ?? this.views.get(clusterId)?.agents.get(agentId);
  }

  /** Agents counted against max_agents: the view's live ones, minus those stopped since, plus launches since. */
  count(clusterId: string): number {
    const ids = new Set<string>();
    const stopped = this.stops.get(clusterId);
    for (const id of this.views.get(clusterId)?.agents.keys() ?? []) if (!stopped?.has(id)) ids.add(id);
    for (const id of this.launches.get(clusterId)?.keys() ?? []) ids.add(id);
    return ids.size;
  }

  /** Counts a launch that is starting now (before RunTask answers: concurrent create-agents must see it). */
  reserve(clusterId: string, agentId: string): void {
    this.launchesOf(clusterId).set(agentId, { at: this.now() });
    this.stops.get(clusterId)?.delete(agentId);
  }

  /**
   * The launch went through (or the job already had this live agent): remember the record, for stops and duplicates.
   * A listing that starts within `consistencyMs` from now may still miss it.
   */
  launched(clusterId: string, agent: AgentRecord): void {
    this.launchesOf(clusterId).set(agent.agentId, { at: this.now(), agent });
  }

  /** The launch started nothing: the reserved slot is free again. */
  release(clusterId: string, agentId: string): void {
    this.launches.get(clusterId)?.delete(agentId);
  }

  /** This process stopped the agent: not counted any more, even while a listing still shows it. */
  stopped(clusterId: string, agentId: string): void {
    this.launches.get(clusterId)?.delete(agentId);
    let m = this.stops.get(clusterId);
    if (!m) {
      m = new Map();
      this.stops.set(clusterId, m);
    }
    m.set(agentId, this.now());
  }

  private launchesOf(clusterId: string): Map<string, Launch> {
    let m = this.launches.get(clusterId);
    if (!m) {
      m = new Map();
      this.launches.set(clusterId, m);
    }
    return m;
  }
}
