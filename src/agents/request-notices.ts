import { createHash } from 'node:crypto';
import type { Logger } from '../logger.js';
import { clip } from '../text.js';
import type { AgentRecord } from './agent-backend.port.js';
import type { CreateAgentResult } from './agent-service.js';
import type { ClusterRead, CreateAgentCommand } from './commands.js';
import type { GocdAgent, JobIdentifier } from './job.js';
import { type HealthEntries, type HealthEntry, NoticeBoard } from './notice-board.js';
import {
  type CreateAgentFacts,
  clusterProfileRejectedHealth,
  createAgentHealth,
  createAgentState,
  type HealthProblem,
  type JobState,
  jobOfRecord,
  listingFailedHealth,
  reapedState,
  registeredState,
  stoppedState,
  TOPIC,
  VALUE_MAX,
} from './notice-texts.js';
import type { AgentEvents, ConsoleNotice, HealthMessage, Notices } from './notices.js';
import {
  CLUSTER_ID_PATTERN,
  type ClusterProfile,
  clusterIdOfProperties,
  defaultClusterId,
  type RawProperties,
} from './profiles.js';
import type { StateStore } from './state-store.port.js';

/**
 * The cluster id a cluster profile goes by in the board's keys, also when it does not parse (as create-agent computes
 * it): an id that is not a valid `cluster_id` (any length the request sent) is replaced by a hash of it, so a key
 * stays within the store's limits (DynamoDB: 2 KB) whatever the request held.
 */
function clusterKey(clusterId: string): string {
  return CLUSTER_ID_PATTERN.test(clusterId)
    ? clusterId
    : `invalid-${createHash('sha256').update(clusterId).digest('hex').slice(0, 12)}`;
}

/** A string property of a request, trimmed and clipped, or undefined when blank or not a string. */
function requestValue(props: RawProperties, key: string): string | undefined {
  const value = props[key];
  return typeof value === 'string' && value.trim() ? clip(value.trim(), VALUE_MAX) : undefined;
}

const entryKey = (clusterId: string, topic: string) => `${clusterId}\0${topic}`;
const isProfileTopic = (topic: string) => topic.startsWith(TOPIC.profile(''));

/** The board's "cluster id" of messages that belong to no cluster profile (no cluster id is empty). */
const GENERAL = '';

/** The most server-health messages kept at once (GoCD shows each one on its panel). */
export const MAX_HEALTH_MESSAGES = 50;

/**
 * How long a refused or invalid elastic profile's message stays without being asserted again. Its topic is the hash
 * of the profile's properties, so once the administrator edits the profile nothing ever clears the old one; GoCD
 * re-sends create-agent about every 2 minutes while a job waits, so a problem still there is asserted again well
 * within this, and one not asserted for this long is dropped at server-ping.
 */
export const PROFILE_PROBLEM_TTL_MS = 10 * 60_000;
/** A re-asserted profile problem's time is rewritten at most this often (each rewrite is a store write). */
const REASSERT_GRANULARITY_MS = 60_000;

/**
 * Collects what to tell GoCD users while the service handles one GoCD request, then turns it into the reply's
 * `console` and `health` entries (Notices). The lifecycle reports facts through AgentEvents; this decides which are
 * new, through the NoticeBoard.
 */
export class RequestNotices implements AgentEvents {
  private readonly lines: { clusterId: string; job: JobIdentifier; state: JobState }[] = [];
  private readonly problems: { clusterId: string; problem: HealthProblem }[] = [];
  private readonly clears: { clusterId: string; topics: string[] }[] = [];
  /** server-ping: the cluster ids GoCD has now; health of any other cluster is dropped (its profile is gone). */
  private presentClusters: Set<string> | undefined;
  /** server-ping: every current message that belongs to no cluster profile (registry triggers), by topic. */
  private general: Record<string, HealthMessage> | undefined;

  constructor(
    private readonly board: NoticeBoard,
    private readonly now: () => Date,
    private readonly gocdAgents?: readonly GocdAgent[],
  ) {}

  /** A create-agent outcome: its console state for the job and its server-health change. */
  createAgent(input: CreateAgentCommand, result: CreateAgentResult): void {
    const profile = input.sent.profileProperties;
    const image = requestValue(profile, 'image');
    const facts: CreateAgentFacts = {
      ...(input.cluster ? { cluster: input.cluster } : {}),
      clusterId: input.cluster?.clusterId ?? clusterKey(input.clusterId),
      clusterProperties: input.sent.clusterProperties,
      ...(image ? { image } : {}),
      dockerMode: requestValue(profile, 'docker_mode') ?? 'none',
    };
    const state = createAgentState(facts, result);
    if (state) this.lines.push({ clusterId: facts.clusterId, job: input.job, state });
    const health = createAgentHealth(facts, defaultClusterId(profile), result);
    if (health.problem) this.problems.push({ clusterId: facts.clusterId, problem: health.problem });
    if (health.clear) this.clears.push({ clusterId: facts.clusterId, topics: health.clear });
  }

  /**
   * server-ping: the cluster profiles GoCD sent (health of clusters no longer among them is dropped, and so are
   * elastic-profile problems not asserted within PROFILE_PROBLEM_TTL_MS), and every current message that belongs to
   * no cluster (`general`, by topic: it replaces the previous set).
   */
  serverPing(clusters: readonly ClusterRead[], general: Record<string, HealthMessage> = {}): void {
    this.presentClusters = new Set(clusters.map((r) => (r.ok ? r.cluster.clusterId : clusterKey(r.clusterId))));
    this.general = general;
  }

  agentStopped(cluster: ClusterProfile, agent: AgentRecord, childrenRemoved?: number): void {
    this.tellAbout(cluster, agent, stoppedState(cluster, agent, this.now(), childrenRemoved));
  }

  agentsListed(cluster: ClusterProfile, agents: readonly AgentRecord[]): void {
    this.clears.push({ clusterId: cluster.clusterId, topics: [TOPIC.list, TOPIC.clusterProfile] });
    if (!this.gocdAgents) return;
    const registered = new Set(this.gocdAgents.map((a) => a.agent_id));
    for (const agent of agents) {
      if (registered.has(agent.agentId)) this.tellAbout(cluster, agent, registeredState(agent, this.now()));
    }
  }

  listingFailed(cluster: ClusterProfile, message: string): void {
    this.problems.push({ clusterId: cluster.clusterId, problem: listingFailedHealth(cluster, message) });
  }

  clusterProfileRejected(properties: RawProperties, message: string): void {
    const clusterId = clusterKey(clusterIdOfProperties(properties));
    this.problems.push({ clusterId, problem: clusterProfileRejectedHealth(clusterId, properties, message) });
  }

  agentReaped(cluster: ClusterProfile, agent: AgentRecord, reason: string): void {
    this.tellAbout(cluster, agent, reapedState(agent, reason));
  }

  private tellAbout(cluster: ClusterProfile, agent: AgentRecord, state: JobState): void {
    const job = jobOfRecord(agent);
    if (job) this.lines.push({ clusterId: cluster.clusterId, job, state });
  }

  /**
   * The reply's notices: console lines for states not told before, and the complete health list when it changed
   * (or always, for server-ping: GoCD keeps health in memory, so a restarted GoCD gets it back within a minute).
   */
  async settle(alwaysHealth = false): Promise<Notices> {
    const told = await Promise.all(this.lines.map((l) => this.board.tellOnce(l.clusterId, l.job.job_id, l.state)));
    const console: ConsoleNotice[] = this.lines
      .filter((_, i) => told[i])
      .map(({ job, state }) => ({
        pipeline_name: job.pipeline_name,
        pipeline_counter: job.pipeline_counter,
        stage_name: job.stage_name,
        stage_counter: job.stage_counter,
        job_name: job.job_name,
        text: state.text,
      }));
    const touchesHealth = alwaysHealth || this.problems.length > 0 || this.clears.length > 0;
    const health = touchesHealth
      ? await this.board.updateHealth((entries) => this.applyHealth(entries), alwaysHealth)
      : undefined;
    const notices: Notices = {};
    if (console.length > 0) notices.console = console;
    if (health) notices.health = health;
    return notices;
  }

  private applyHealth(entries: HealthEntries): void {
    const now = this.now().getTime();
    for (const { clusterId, topics } of this.clears) {
      for (const topic of topics) delete entries[entryKey(clusterId, topic)];
    }
    for (const { clusterId, problem } of this.problems) {
      const key = entryKey(clusterId, problem.topic);
      // A panel of more messages helps nobody, and each update rewrites the whole set.
      if (!(key in entries) && Object.keys(entries).length >= MAX_HEALTH_MESSAGES) continue;
      const entry: HealthEntry = { ...problem.health };
      if (isProfileTopic(problem.topic)) {
        const previous = entries[key];
        const recent = previous?.at !== undefined && now - previous.at < REASSERT_GRANULARITY_MS;
        entry.at = recent && previous.message === entry.message ? previous.at : now;
      }
      entries[key] = entry;
    }
    const present = this.presentClusters;
    if (present) {
      for (const [key, entry] of Object.entries(entries)) {
        const cut = key.indexOf('\0');
        const clusterId = key.slice(0, cut);
        if (clusterId === GENERAL) {
          // The general set is replaced as a whole (below).
          if (this.general) delete entries[key];
        } else if (!present.has(clusterId)) delete entries[key];
        else if (isProfileTopic(key.slice(cut + 1)) && !(now - (entry.at ?? 0) < PROFILE_PROBLEM_TTL_MS)) {
          // Not asserted again for that long: its profile was fixed, edited (a new hash) or is no longer used.
          delete entries[key];
        }
      }
    }
    for (const [topic, health] of Object.entries(this.general ?? {})) entries[entryKey(GENERAL, topic)] = health;
  }
}

/** Builds one RequestNotices per GoCD request over one board (kept in the given store). */
export class UserNotices {
  private readonly board: NoticeBoard;

  constructor(
    store: StateStore,
    logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.board = new NoticeBoard(store, logger);
  }

  /** A collector for one request; `gocdAgents` is GoCD's agent list when the request carried it. */
  forRequest(gocdAgents?: readonly GocdAgent[]): RequestNotices {
    return new RequestNotices(this.board, this.now, gocdAgents);
  }
}
