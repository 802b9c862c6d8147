import type {
  AgentBackend,
  AgentDetails,
  AgentRecord,
  BackendProvider,
  LaunchOutcome,
  LaunchRequest,
  StopReport,
} from '../../src/agents/agent-backend.port.js';
import { jobPath } from '../../src/agents/job.js';
import type { ClusterProfile } from '../../src/agents/profiles.js';
import { BackendUnavailableError } from '../../src/errors.js';

/** An in-memory AgentBackend for HTTP and lifecycle tests: same semantics as the real ones, no engine. */
export class MemoryBackend implements AgentBackend {
  readonly kind = 'docker' as const;
  readonly agents: (AgentRecord & { env: Record<string, string>; request: LaunchRequest })[] = [];
  readonly launches: LaunchRequest[] = [];
  readonly stops: { agentId: string; reason: string }[] = [];
  /** Set to make the next calls fail. */
  failList = false;
  failLaunch: string | undefined;
  /** When set, stop() reports this many socket children removed per agent (as the Docker backend counts them). */
  childrenPerStop: number | undefined;
  private seq = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  async launch(request: LaunchRequest): Promise<LaunchOutcome> {
    this.launches.push(request);
    const live = this.agents.find(
      (a) =>
        a.clusterId === request.cluster.clusterId &&
        (request.job ? a.jobId === request.job.job_id : a.agentId === request.agentId) &&
        a.status !== 'stopped',
    );
    if (live) return { kind: 'existing', agent: live };
    if (this.failLaunch) return { kind: 'failed', reason: this.failLaunch };
    const record = {
      agentId: request.agentId,
      ...(request.job ? { jobId: request.job.job_id } : { pool: request.pool?.profileHash ?? '' }),
      clusterId: request.cluster.clusterId,
      pipeline: request.job ? jobPath(request.job) : '',
      ref: `mem-${++this.seq}`,
      status: 'running' as const,
      createdAt: this.now(),
      dockerMode: request.profile.dockerMode,
      env: { ...request.cluster.environment, ...request.profile.environment, ...request.jobEnv },
      request,
    };
    this.agents.push(record);
    return { kind: 'launched', agent: record };
  }

  async list(cluster: ClusterProfile): Promise<AgentRecord[]> {
    if (this.failList) throw new BackendUnavailableError('listing failed (test)');
    return this.agents.filter((a) => a.clusterId === cluster.clusterId && a.status !== 'stopped');
  }

  async stop(
    _cluster: ClusterProfile,
    agents: readonly AgentRecord[],
    reason: string,
  ): Promise<StopReport | undefined> {
    const report: StopReport = { childrenRemoved: {} };
    for (const a of agents) {
      const found = this.agents.find((x) => x.agentId === a.agentId && x.status !== 'stopped');
      if (found) {
        found.status = 'stopped';
        found.stoppedReason = reason;
        this.stops.push({ agentId: a.agentId, reason });
        if (this.childrenPerStop !== undefined) report.childrenRemoved[a.agentId] = this.childrenPerStop;
      }
    }
    return this.childrenPerStop === undefined ? undefined : report;
  }

  async inspect(cluster: ClusterProfile, agentId: string): Promise<AgentDetails | undefined> {
    const a = this.agents.find((x) => x.clusterId === cluster.clusterId && x.agentId === agentId);
    if (!a) return undefined;
    return {
      agent: a,
      containers: [{ name: 'agent', image: a.request.profile.image, status: a.status }],
      environment: { ...a.env, GO_EA_AUTO_REGISTER_KEY: '***' },
      links: [],
    };
  }

  /** Seeds an agent as if launched `minutesAgo` ago. */
  seed(cluster: ClusterProfile, jobId: number, agentId: string, minutesAgo: number): AgentRecord {
    const record = {
      agentId,
      jobId,
      clusterId: cluster.clusterId,
      pipeline: `p/1/s/1/job-${jobId}`,
      ref: `mem-${++this.seq}`,
      status: 'running' as const,
      createdAt: new Date(this.now().getTime() - minutesAgo * 60_000),
      env: {},
      request: undefined as never,
    };
    this.agents.push(record);
    return record;
  }
}

/** A BackendProvider that hands every cluster the same backend. */
export function singleBackend(backend: AgentBackend): BackendProvider {
  return { forCluster: async () => backend };
}
