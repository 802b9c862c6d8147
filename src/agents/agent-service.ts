import { LRUCache } from 'lru-cache';
import type { AgentBackend, AgentDetails, AgentRecord, BackendProvider, LaunchOutcome } from '../backends/port.js';
import { AppError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { clip } from '../text.js';
import type { Activity, ActivityLog, WaitingJob } from './activity-log.js';
import { maskEnvironment } from './agent-environment.js';
import { agentIdFor } from './agent-id.js';
import { type AgentMetrics, NO_AGENT_METRICS } from './agent-metrics.js';
import { type AgentActions, completionStopReason, type GocdAgent, type JobIdentifier, jobPath } from './job.js';
import { KeyedLock } from './keyed-lock.js';
import {
  clusterPolicyRefusal,
  launchPermits,
  NO_OPERATOR_POLICY,
  type OperatorPolicy,
  PolicyRefusedError,
  policyRefusal,
} from './policy.js';
import {
  type ClusterProfile,
  defaultClusterId,
  launchRefusal,
  parseClusterProfile,
  parseElasticProfile,
} from './profiles.js';
import { RecentLaunches } from './recent-launches.js';
import { type ClusterListing, planReconcile } from './reconcile-plan.js';

/** The forwarder plugin's id; agents register with it as their elastic plugin id. */
export const PLUGIN_ID = 'gocd-agent-scaler';

type Props = Record<string, unknown>;

export interface CreateAgentInput {
  autoRegisterKey: string;
  environment?: string;
  job: JobIdentifier;
  clusterProperties: Props;
  profileProperties: Props;
}

export interface JobCompletionInput {
  elasticAgentId: string;
  job: JobIdentifier;
  clusterProperties: Props;
  /** GoCD's agent list when the forwarder could fetch it; undefined = unknown. */
  agents?: GocdAgent[];
}

export type CreateAgentResult =
  | LaunchOutcome
  | { kind: 'invalid' | 'refused' | 'waiting' | 'error' | 'completed'; reason: string };

export interface AgentServiceDeps {
  backends: BackendProvider;
  activity: ActivityLog;
  logger: Logger;
  metrics?: AgentMetrics;
  /** The operator policy (config `policy:`); absent: only the cluster profiles' own gates apply. */
  policy?: Readonly<OperatorPolicy>;
  now?: () => Date;
}

/** The backend-neutral agent lifecycle: create, complete, reconcile. GoCD handlers call this; it never sees HTTP. */
export class AgentService {
  private readonly lock = new KeyedLock();
  private readonly recentLaunches: RecentLaunches;
  /**
   * Jobs whose job-completion this process handled (cluster id + job id). GoCD never runs a job id twice (a
   * rescheduled job gets a new id), so a create-agent for one of them is stale — sent while the job waited, processed
   * after it ran — and must launch nothing: otherwise its agent is never assigned and leaks until the registration
   * timeout. Bounded, and only a guard: the backends' idempotent launches remain the cross-process rule.
   */
  private readonly completedJobs = new LRUCache<string, true>({ max: 20_000, ttl: 6 * 3_600_000 });
  private readonly now: () => Date;
  private readonly metrics: AgentMetrics;
  private readonly policy: Readonly<OperatorPolicy>;
  /** The cluster profiles of the last server-ping, for the /status page (GoCD sends them every minute). */
  private lastClusters: Props[] = [];

  constructor(private readonly deps: AgentServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.metrics = deps.metrics ?? NO_AGENT_METRICS;
    this.policy = deps.policy ?? NO_OPERATOR_POLICY;
    this.recentLaunches = new RecentLaunches(this.now);
  }

  /**
   * create-agent: launch the job's agent unless it has one, the cap is reached, or the profiles refuse. Never
   * throws: every outcome is logged and recorded for the status report (GoCD ignores the reply body).
   */
  async createAgent(input: CreateAgentInput): Promise<CreateAgentResult> {
    const result = await this.tryCreateAgent(input);
    const props = input.clusterProperties;
    const clusterId =
      typeof props.cluster_id === 'string' && props.cluster_id !== '' ? props.cluster_id : defaultClusterId(props);
    const mode = typeof input.profileProperties.docker_mode === 'string' ? input.profileProperties.docker_mode : 'none';
    this.metrics.createAgent(clusterId, mode, result.kind, 'reason' in result ? result.reason : undefined);
    return result;
  }

  private async tryCreateAgent(input: CreateAgentInput): Promise<CreateAgentResult> {
    const { job } = input;
    const pipeline = jobPath(job);
    const log = this.deps.logger.child({ jobId: job.job_id, pipeline });
    let cluster: ClusterProfile;
    let clusterId = 'unknown';
    try {
      cluster = parseClusterProfile(input.clusterProperties);
      clusterId = cluster.clusterId;
      const profile = parseElasticProfile(input.profileProperties);
      const refusal = launchRefusal(cluster, profile) ?? policyRefusal(this.policy, cluster, profile);
      if (refusal) {
        this.deps.activity.record({ clusterId, kind: 'refused', jobId: job.job_id, pipeline, message: refusal });
        log.warn({ clusterId }, `create-agent refused: ${refusal}`);
        return { kind: 'refused', reason: refusal };
      }
      const agentId = agentIdFor(cluster.clusterId, job.job_id);
      // One create-agent per job at a time in this process; other jobs proceed in parallel (RunTask client tokens
      // keep other processes and Lambda containers from starting a second agent for the job).
      const jobKey = `${cluster.clusterId}\0${job.job_id}`;
      return await this.lock.run(jobKey, async () => {
        if (this.completedJobs.has(jobKey)) {
          const reason = 'job already completed';
          log.info({ clusterId }, 'create-agent for a job that already completed: nothing launched');
          return { kind: 'completed', reason } as const;
        }
        const backend = await this.backendFor(cluster);
        const live = await backend.list(cluster);
        const mine = live.find((a) => a.jobId === job.job_id);
        if (mine) {
          this.deps.activity.record({
            clusterId,
            kind: 'existing',
            jobId: job.job_id,
            agentId: mine.agentId,
            pipeline,
            message: `agent ${mine.agentId} already ${mine.status}`,
          });
          log.info({ agentId: mine.agentId }, 'create-agent: job already has an agent');
          return { kind: 'existing', agent: mine } as const;
        }
        // The cap counts listed agents plus launches this process started recently, which a listing may not show
        // yet (ECS is eventually consistent, and concurrent create-agents list before either launches).
        const counted = this.recentLaunches.count(
          cluster.clusterId,
          live.map((a) => a.agentId),
        );
        if (counted >= cluster.maxAgents) {
          const reason = `max_agents (${cluster.maxAgents}) reached: ${counted} agents pending or running`;
          this.deps.activity.record({ clusterId, kind: 'waiting', jobId: job.job_id, pipeline, message: reason });
          log.info({ clusterId }, `create-agent waits: ${reason}`);
          return { kind: 'waiting', reason } as const;
        }
        this.recentLaunches.add(cluster.clusterId, agentId);
        const outcome = await backend.launch({
          agentId,
          job,
          cluster,
          profile,
          jobEnv: this.jobEnv(cluster, agentId, input),
          permits: launchPermits(this.policy, cluster),
        });
        if (outcome.kind === 'failed' || outcome.kind === 'deferred' || outcome.kind === 'refused')
          this.recentLaunches.remove(cluster.clusterId, agentId);
        this.recordLaunch(cluster.clusterId, job, outcome, log);
        return outcome;
      });
    } catch (err) {
      const isInput = err instanceof AppError && (err.code === 'VALIDATION_FAILED' || err.code === 'POLICY_REFUSED');
      // Bounded: a message may quote a property value, and profiles are as large as a request body.
      const reason = clip(errorMessage(err));
      this.deps.activity.record({
        clusterId,
        kind: isInput ? 'invalid-profile' : 'launch-failed',
        jobId: job.job_id,
        pipeline,
        message: reason,
      });
      if (isInput) log.warn({ clusterId }, `create-agent: ${reason}`);
      else log.error({ clusterId, err }, 'create-agent failed');
      return { kind: isInput ? 'invalid' : 'error', reason };
    }
  }

  private jobEnv(cluster: ClusterProfile, agentId: string, input: CreateAgentInput): Record<string, string> {
    const env: Record<string, string> = {
      GO_EA_SERVER_URL: cluster.goServerUrl,
      GO_EA_AUTO_REGISTER_KEY: input.autoRegisterKey,
      GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID: agentId,
      GO_EA_AUTO_REGISTER_ELASTIC_PLUGIN_ID: PLUGIN_ID,
    };
    if (input.environment) env.GO_EA_AUTO_REGISTER_ENVIRONMENT = input.environment;
    return env;
  }

  private recordLaunch(clusterId: string, job: JobIdentifier, outcome: LaunchOutcome, log: Logger): void {
    const pipeline = jobPath(job);
    const base = { clusterId, jobId: job.job_id, pipeline };
    switch (outcome.kind) {
      case 'launched':
        this.deps.activity.record({
          ...base,
          kind: 'launched',
          agentId: outcome.agent.agentId,
          message: `launched ${outcome.agent.ref}`,
        });
        log.info({ agentId: outcome.agent.agentId, ref: outcome.agent.ref }, 'agent launched');
        break;
      case 'existing':
        this.deps.activity.record({
          ...base,
          kind: 'existing',
          agentId: outcome.agent.agentId,
          message: `agent ${outcome.agent.agentId} already ${outcome.agent.status}`,
        });
        log.info({ agentId: outcome.agent.agentId }, 'create-agent: agent already launched');
        break;
      case 'deferred':
        this.deps.activity.record({ ...base, kind: 'waiting', message: outcome.reason });
        log.info(`create-agent deferred: ${outcome.reason}`);
        break;
      case 'refused':
        this.deps.activity.record({ ...base, kind: 'refused', message: outcome.reason });
        log.warn(`create-agent refused: ${outcome.reason}`);
        break;
      case 'failed':
        this.deps.activity.record({
          ...base,
          kind: 'launch-failed',
          message: outcome.detail ? `${outcome.reason}: ${outcome.detail}` : outcome.reason,
        });
        log.error({ reason: outcome.reason, detail: outcome.detail }, 'agent launch failed');
        break;
    }
  }

  /**
   * job-completion: stop the job's agent now (unless the cluster keeps idle agents) and ask the forwarder to
   * disable and delete it. If the stop fails the agent is only disabled; the next server-ping finishes the work.
   */
  async jobCompleted(input: JobCompletionInput): Promise<AgentActions> {
    const id = input.elasticAgentId;
    const pipeline = jobPath(input.job);
    const log = this.deps.logger.child({ agentId: id, jobId: input.job.job_id, pipeline });
    let cluster: ClusterProfile;
    try {
      cluster = parseClusterProfile(input.clusterProperties);
    } catch (err) {
      log.warn(`job-completion: cannot read the cluster profile: ${errorMessage(err)}`);
      return { disable: [], delete: [] };
    }
    // Under the job's create-agent lock: a create-agent of this job in flight finishes first (its agent is then listed
    // and stopped below), and any later one sees the job completed.
    const jobKey = `${cluster.clusterId}\0${input.job.job_id}`;
    return this.lock.run(jobKey, async () => {
      this.completedJobs.set(jobKey, true);
      return this.stopCompleted(cluster, input, log);
    });
  }

  private async stopCompleted(cluster: ClusterProfile, input: JobCompletionInput, log: Logger): Promise<AgentActions> {
    const id = input.elasticAgentId;
    const pipeline = jobPath(input.job);
    if (cluster.idleTimeoutMinutes > 0) {
      log.info({ clusterId: cluster.clusterId }, 'job completed; agent kept for idle_timeout_minutes');
      return { disable: [], delete: [] };
    }
    try {
      const backend = await this.backendFor(cluster);
      const agent = (await backend.list(cluster)).find((a) => a.agentId === id);
      if (agent) {
        const reason = completionStopReason(input.job);
        await backend.stop(cluster, [agent], reason);
        this.recentLaunches.remove(cluster.clusterId, id);
        this.metrics.agentStopped(cluster.clusterId, 'job-completed');
        this.deps.activity.record({
          clusterId: cluster.clusterId,
          kind: 'stopped',
          agentId: id,
          jobId: input.job.job_id,
          pipeline,
          message: reason,
        });
        log.info({ ref: agent.ref }, 'job completed; agent stopped');
      } else {
        log.info('job completed; agent already gone');
      }
      return { disable: [id], delete: [id] };
    } catch (err) {
      this.deps.activity.record({
        clusterId: cluster.clusterId,
        kind: 'error',
        agentId: id,
        pipeline,
        message: `stopping after job completion failed: ${errorMessage(err)}`,
      });
      log.error({ err }, 'job-completion: stop failed; agent disabled, server-ping will retry');
      return { disable: [id], delete: [] };
    }
  }

  /** server-ping: reconcile every cluster profile GoCD sent against GoCD's agent list (see planReconcile). */
  async serverPing(allClusterProperties: Props[], gocdAgents: GocdAgent[] | undefined): Promise<AgentActions> {
    this.lastClusters = allClusterProperties;
    const listings: ClusterListing[] = [];
    let invalidProfiles = 0;
    const seen = new Set<string>();
    for (const props of allClusterProperties) {
      let cluster: ClusterProfile;
      try {
        cluster = parseClusterProfile(props);
      } catch (err) {
        // A profile we cannot read might own agents: its listing is unknown, so nothing is deleted for want of a task.
        this.deps.logger.warn(`server-ping: skipping an invalid cluster profile: ${errorMessage(err)}`);
        invalidProfiles++;
        continue;
      }
      if (seen.has(cluster.clusterId)) continue;
      seen.add(cluster.clusterId);
      try {
        const backend = await this.backendFor(cluster);
        const agents = await backend.list(cluster);
        this.metrics.agentsListed(cluster.clusterId, agents);
        listings.push({ cluster, agents });
      } catch (err) {
        this.deps.activity.record({
          clusterId: cluster.clusterId,
          kind: 'error',
          message: `listing agents failed: ${errorMessage(err)}`,
        });
        this.deps.logger.error({ clusterId: cluster.clusterId, err }, 'server-ping: listing agents failed');
        listings.push({ cluster, error: errorMessage(err) });
      }
    }
    const plan = planReconcile(listings, gocdAgents, this.now(), invalidProfiles === 0);
    const failedStops = new Set<string>();
    const clusters = new Map(plan.stops.map((s) => [s.cluster.clusterId, s.cluster]));
    // Clusters are reaped concurrently; within a cluster one stop at a time keeps ECS write calls gentle.
    await Promise.all(
      [...clusters.values()].map(async (cluster) => {
        const backend = await this.backendFor(cluster);
        for (const stop of plan.stops.filter((s) => s.cluster.clusterId === cluster.clusterId)) {
          try {
            await backend.stop(cluster, [stop.agent], `reaped by gocd-agent-scaler: ${stop.reason}`);
            this.recentLaunches.remove(cluster.clusterId, stop.agent.agentId);
            this.metrics.agentStopped(cluster.clusterId, stop.rule);
            this.deps.activity.record({
              clusterId: cluster.clusterId,
              kind: 'reaped',
              agentId: stop.agent.agentId,
              jobId: stop.agent.jobId,
              pipeline: stop.agent.pipeline,
              message: stop.reason,
            });
            this.deps.logger.info(
              { clusterId: cluster.clusterId, agentId: stop.agent.agentId, rule: stop.rule },
              `reaped: ${stop.reason}`,
            );
          } catch (err) {
            failedStops.add(stop.agent.agentId);
            this.deps.logger.error(
              { clusterId: cluster.clusterId, agentId: stop.agent.agentId, err },
              'reaping failed',
            );
          }
        }
      }),
    );
    for (const [id, note] of plan.notes) this.deps.logger.info({ agentId: id }, note);
    // An agent whose task could not be stopped must not be deleted from GoCD yet: it may still be running.
    return {
      disable: plan.actions.disable,
      delete: plan.actions.delete.filter((id) => !failedStops.has(id)),
    };
  }

  /**
   * The backend of a cluster profile the operator policy allows. Every backend use goes through here, so a profile
   * naming an engine or ECS cluster outside the policy never makes the service contact it (listing, reaping, reports).
   */
  private backendFor(cluster: ClusterProfile): Promise<AgentBackend> {
    const refusal = clusterPolicyRefusal(this.policy, cluster);
    if (refusal) return Promise.reject(new PolicyRefusedError(refusal));
    return this.deps.backends.forCluster(cluster);
  }

  /** The cluster profiles GoCD sent in its last server-ping. */
  knownClusterProperties(): Props[] {
    return this.lastClusters;
  }

  /** What the cluster status report shows: live agents, waiting jobs, recent errors, reaping in the last hour. */
  async clusterReport(clusterProperties: Props): Promise<ClusterReport> {
    const cluster = parseClusterProfile(clusterProperties);
    const { activity } = this.deps;
    const report: ClusterReport = {
      cluster,
      waiting: activity.waitingJobs(cluster.clusterId),
      errors: activity.recent({
        clusterId: cluster.clusterId,
        kinds: ['launch-failed', 'error', 'refused', 'invalid-profile'],
        limit: 20,
      }),
      reaped: activity.recent({
        clusterId: cluster.clusterId,
        kinds: ['reaped', 'stopped'],
        sinceMs: 3_600_000,
        limit: 100,
      }),
    };
    try {
      const backend = await this.backendFor(cluster);
      report.agents = await backend.list(cluster);
    } catch (err) {
      report.listError = errorMessage(err);
    }
    return report;
  }

  /** What the agent status report shows, by elastic agent id or by job. */
  async agentReport(clusterProperties: Props, by: { agentId?: string; jobId?: number }): Promise<AgentReport> {
    const cluster = parseClusterProfile(clusterProperties);
    const agentId = by.agentId ?? (by.jobId !== undefined ? agentIdFor(cluster.clusterId, by.jobId) : undefined);
    if (!agentId) return { cluster, history: [] };
    const history = this.deps.activity
      .recent({ clusterId: cluster.clusterId, limit: 500 })
      .filter((a) => a.agentId === agentId || (by.jobId !== undefined && a.jobId === by.jobId));
    try {
      const backend = await this.backendFor(cluster);
      const details = await backend.inspect(cluster, agentId);
      return {
        cluster,
        agentId,
        details: details && { ...details, environment: maskEnvironment(details.environment) },
        history,
      };
    } catch (err) {
      return { cluster, agentId, error: errorMessage(err), history };
    }
  }
}

/** Data of the cluster status report. */
export interface ClusterReport {
  cluster: ClusterProfile;
  agents?: AgentRecord[];
  listError?: string;
  waiting: WaitingJob[];
  errors: Activity[];
  reaped: Activity[];
}

/** Data of the agent status report. */
export interface AgentReport {
  cluster: ClusterProfile;
  agentId?: string;
  details?: AgentDetails;
  error?: string;
  history: Activity[];
}
