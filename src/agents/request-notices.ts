import type { Logger } from '../logger.js';
import type { AgentRecord } from './agent-backend.port.js';
import type { CreateAgentResult } from './agent-service.js';
import type { ClusterRead, CreateAgentCommand } from './commands.js';
import type { GocdAgent, JobIdentifier } from './job.js';
import { type HealthEntries, NoticeBoard } from './notice-board.js';
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
} from './notice-texts.js';
import type { AgentEvents, ConsoleNotice, HealthMessage, Notices } from './notices.js';
import { type ClusterProfile, clusterIdOf, defaultClusterId, type RawProperties } from './profiles.js';
import type { StateStore } from './state-store.port.js';

const entryKey = (clusterId: string, topic: string) => `${clusterId}\0${topic}`;

/** The board's "cluster id" of messages that belong to no cluster profile (no cluster id is empty). */
const GENERAL = '';

/** The most server-health messages kept at once (GoCD shows each one on its panel). */
export const MAX_HEALTH_MESSAGES = 50;

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
  /** server-ping: the current messages that belong to no cluster profile (registry triggers), by topic. */
  private general: Record<string, HealthMessage | undefined> | undefined;

  constructor(
    private readonly board: NoticeBoard,
    private readonly now: () => Date,
    private readonly gocdAgents?: readonly GocdAgent[],
  ) {}

  /** A create-agent outcome: its console state for the job and its server-health change. */
  createAgent(input: CreateAgentCommand, result: CreateAgentResult): void {
    const profile = input.sent.profileProperties;
    const facts: CreateAgentFacts = {
      ...(input.cluster ? { cluster: input.cluster } : {}),
      clusterId: input.clusterId,
      clusterProperties: input.sent.clusterProperties,
      image: typeof profile.image === 'string' && profile.image.trim() ? profile.image.trim() : undefined,
      dockerMode: typeof profile.docker_mode === 'string' && profile.docker_mode ? profile.docker_mode : 'none',
    };
    const state = createAgentState(facts, result);
    if (state) this.lines.push({ clusterId: facts.clusterId, job: input.job, state });
    const health = createAgentHealth(facts, defaultClusterId(profile), result);
    if (health.problem) this.problems.push({ clusterId: facts.clusterId, problem: health.problem });
    if (health.clear) this.clears.push({ clusterId: facts.clusterId, topics: health.clear });
  }

  /**
   * server-ping: the cluster profiles GoCD sent (health of clusters no longer among them is dropped), and the current
   * state of the messages that belong to no cluster (`general`, by topic; undefined clears one).
   */
  serverPing(clusters: readonly ClusterRead[], general: Record<string, HealthMessage | undefined> = {}): void {
    this.presentClusters = new Set(clusters.map((r) => (r.ok ? r.cluster.clusterId : r.clusterId)));
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
    const clusterId = clusterIdOf(properties);
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
    for (const { clusterId, topics } of this.clears) {
      for (const topic of topics) delete entries[entryKey(clusterId, topic)];
    }
    for (const { clusterId, problem } of this.problems) {
      const key = entryKey(clusterId, problem.topic);
      // A panel of more messages helps nobody, and each update rewrites the whole set.
      if (key in entries || Object.keys(entries).length < MAX_HEALTH_MESSAGES) entries[key] = problem.health;
    }
    const present = this.presentClusters;
    if (present) {
      for (const key of Object.keys(entries)) {
        const clusterId = key.slice(0, key.indexOf('\0'));
        if (clusterId !== GENERAL && !present.has(clusterId)) delete entries[key];
      }
    }
    for (const [topic, health] of Object.entries(this.general ?? {})) {
      if (health) entries[entryKey(GENERAL, topic)] = health;
      else delete entries[entryKey(GENERAL, topic)];
    }
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
