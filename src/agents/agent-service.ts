import { AppError, BackendUnavailableError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { clip } from '../text.js';
import type { Activity, ActivityLog, WaitingJob } from './activity-log.js';
import type { AgentBackend, AgentDetails, AgentRecord, BackendProvider, LaunchOutcome } from './agent-backend.port.js';
import { maskEnvironment } from './agent-environment.js';
import { agentIdFor } from './agent-id.js';
import { type AgentMetrics, NO_AGENT_METRICS } from './agent-metrics.js';
import type {
  ClusterRead,
  CreateAgentCommand,
  JobCompletionCommand,
  LaunchBudget,
  ServerPingCommand,
} from './commands.js';
import { CompletedJobs } from './completed-jobs.js';
import { FleetView, type FleetViewOptions } from './fleet-view.js';
import { type AgentActions, completionStopReason, type JobIdentifier, jobPath } from './job.js';
import { KeyedLock } from './keyed-lock.js';
import type { AgentEvents } from './notices.js';
import { launchPermits, NO_OPERATOR_POLICY, type OperatorPolicy, PolicyRefusedError } from './policy.js';
import type { ProfileCatalog } from './profile-catalog.js';
import type { ClusterProfile } from './profiles.js';
import { type ClusterListing, planReconcile } from './reconcile-plan.js';
import type { StateStore } from './state-store.port.js';

/** The forwarder plugin's id; agents register with it as their elastic plugin id. */
export const PLUGIN_ID = 'gocd-agent-scaler';

export type CreateAgentResult =
  | LaunchOutcome
  | { kind: 'invalid' | 'refused' | 'waiting' | 'error' | 'completed' | 'queued'; reason: string };

/**
 * Lambda: where a create-agent waits when ECS throttled its launch past the invocation's budget (nothing runs after
 * the answer there). True when the work was stored (the SQS retry queue) and will run again; false when it must not
 * be deferred any more (GoCD's next create-agent launches it).
 */
export interface LaunchDeferrer {
  defer(command: CreateAgentCommand, budget: LaunchBudget): Promise<boolean>;
}

export interface AgentServiceDeps {
  backends: BackendProvider;
  /** The profile kinds of the backends: their launch rules, policy checks and client keys. */
  profiles: ProfileCatalog;
  activity: ActivityLog;
  logger: Logger;
  metrics?: AgentMetrics;
  /** The operator policy (config `policy:`); absent: only the cluster profiles' own gates apply. */
  policy?: Readonly<OperatorPolicy>;
  now?: () => Date;
  /** Where job-completed marks live; shared (DynamoDB) so every process and Lambda container sees them. */
  store?: StateStore;
  /** Tuning of the fleet view create-agent counts against max_agents. */
  fleet?: FleetViewOptions;
  /**
   * How long a create-agent or job-completion that brings no deadline of its own may take, from its start (the
   * process: GOCD_REQUEST_DEADLINE_MS, inside the forwarder's 30 s): its ECS calls — pacing, throttled retries, the
   * SDK's own retries — end by then, and past it the launch is answered waiting and a stop leaves the agent disabled.
   * A request's own deadline (Lambda: the invocation's budget) replaces it. Absent: each backend's own bound.
   */
  requestDeadlineMs?: number;
  /** Lambda: where a launch ECS throttled past its budget's deadline waits (the retry queue). */
  launchDeferrer?: LaunchDeferrer;
}

/** The backend-neutral agent lifecycle: create, complete, reconcile. GoCD handlers call this; it never sees HTTP. */
export class AgentService {
  private readonly lock = new KeyedLock();
  /** Each cluster's agents as last listed plus this process's launches and stops since (cap and duplicates). */
  readonly fleet: FleetView;
  /**
   * Jobs whose job-completion was handled, in the store: a create-agent for one of them is stale (GoCD never runs a
   * job id twice) and launches nothing — otherwise its agent is never assigned and leaks until the registration
   * timeout. RunTask client tokens alone cannot say so: ECS forgets them after 24 h and scopes them to one cluster.
   */
  private readonly completed: CompletedJobs;
  private readonly now: () => Date;
  private readonly metrics: AgentMetrics;
  private readonly policy: Readonly<OperatorPolicy>;
  /** The cluster profiles of the last server-ping, for the /status page (GoCD sends them every minute). */
  private lastClusters: ClusterRead[] = [];

  constructor(private readonly deps: AgentServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.metrics = deps.metrics ?? NO_AGENT_METRICS;
    this.fleet = new FleetView({ now: () => this.now().getTime(), ...deps.fleet });
    this.completed = new CompletedJobs(deps.store);
    this.policy = deps.policy ?? NO_OPERATOR_POLICY;
  }

  /** The deadline of a request starting now that brings none (epoch ms, on the backends' clock: Date.now). */
  private defaultDeadline(): number | undefined {
    const ms = this.deps.requestDeadlineMs;
    return ms === undefined ? undefined : Date.now() + ms;
  }

  /**
   * create-agent: launch the job's agent unless it has one, the cap is reached, or the profiles refuse. Never
   * throws: every outcome is logged and recorded for the status report (GoCD ignores the reply body). `budget`: how
   * long the launch may wait for its backend here (a Lambda invocation's; default requestDeadlineMs from now), and
   * which deferral it is.
   */
  async createAgent(command: CreateAgentCommand, budget: LaunchBudget = {}): Promise<CreateAgentResult> {
    const result = await this.tryCreateAgent(command, budget);
    const mode = command.valid ? command.profile.dockerMode : readMode(command.sent.profileProperties);
    this.metrics.createAgent(command.clusterId, mode, result.kind, 'reason' in result ? result.reason : undefined);
    return result;
  }

  private async tryCreateAgent(command: CreateAgentCommand, budget: LaunchBudget): Promise<CreateAgentResult> {
    // From the request's start: waiting for this job's lock counts too.
    const deadline = budget.deadline ?? this.defaultDeadline();
    const { job } = command;
    const pipeline = jobPath(job);
    const log = this.deps.logger.child({ jobId: job.job_id, pipeline });
    if (!command.valid) {
      return this.refuseInput(command.cluster?.clusterId ?? 'unknown', job, command.reason, log);
    }
    const { cluster, profile } = command;
    const clusterId = cluster.clusterId;
    try {
      const refusal =
        this.deps.profiles.launchRefusal(cluster, profile) ??
        this.deps.profiles.policyRefusal(this.policy, cluster, profile);
      if (refusal) {
        this.deps.activity.record({ clusterId, kind: 'refused', jobId: job.job_id, pipeline, message: refusal });
        log.warn({ clusterId }, `create-agent refused: ${refusal}`);
        return { kind: 'refused', reason: refusal };
      }
      const agentId = agentIdFor(clusterId, job.job_id);
      // One create-agent per job at a time in this process; other jobs proceed in parallel (RunTask client tokens
      // keep other processes and Lambda containers from starting a second agent for the job).
      const jobKey = `${clusterId}\0${job.job_id}`;
      return await this.lock.run(jobKey, async (): Promise<CreateAgentResult> => {
        if (await this.isCompleted(cluster, job.job_id, log)) {
          log.info({ clusterId }, 'create-agent for a job that already completed: nothing launched');
          return { kind: 'completed', reason: 'job already completed' };
        }
        const backend = await this.backendFor(cluster);
        // The cap counts the fleet view (server-ping's listing, refreshed here only when older than its bound) plus
        // this process's launches since: no listing per job, whatever the fleet size.
        await this.fleet.ensure(clusterId, () => backend.list(cluster, deadline), deadline);
        const mine = this.fleet.agentOfJob(clusterId, job.job_id);
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
          return { kind: 'existing', agent: mine };
        }
        const counted = this.fleet.count(clusterId);
        if (counted >= cluster.maxAgents) {
          const reason = `max_agents (${cluster.maxAgents}) reached: ${counted} agents pending or running`;
          this.deps.activity.record({ clusterId, kind: 'waiting', jobId: job.job_id, pipeline, message: reason });
          log.info({ clusterId }, `create-agent waits: ${reason}`);
          return { kind: 'waiting', reason };
        }
        this.fleet.reserve(clusterId, agentId);
        let outcome: LaunchOutcome;
        try {
          outcome = await backend.launch({
            agentId,
            job,
            cluster,
            profile,
            jobEnv: this.jobEnv(cluster, agentId, command),
            permits: launchPermits(this.policy, cluster),
            ...(deadline !== undefined ? { deadline } : {}),
          });
        } catch (err) {
          // Reservations never expire on their own (a launch may wait long for its turn): release this one here.
          this.fleet.release(clusterId, agentId);
          throw err;
        }
        if (outcome.kind === 'existing' && outcome.agent.status === 'stopped') {
          // The job's agent was stopped because its job completed (another process handled the completion): this
          // create-agent is stale. Not a live agent: not counted against max_agents, nothing told as "found".
          this.fleet.release(clusterId, agentId);
          return this.staleAfterCompletion(cluster, command, outcome.agent, log);
        }
        if (outcome.kind === 'launched' || outcome.kind === 'existing') this.fleet.launched(clusterId, outcome.agent);
        else this.fleet.release(clusterId, agentId);
        if (outcome.kind === 'throttled') return this.deferThrottled(command, budget, outcome.detail, log);
        this.recordLaunch(clusterId, job, outcome, log);
        return outcome;
      });
    } catch (err) {
      if (err instanceof BackendUnavailableError && err.throttled) {
        // The listing stayed throttled past the deadline (Lambda's budget): the job waits, it is not failed.
        return this.deferThrottled(command, budget, errorMessage(err), log);
      }
      if (err instanceof AppError && err.code === 'POLICY_REFUSED') {
        return this.refuseInput(clusterId, job, errorMessage(err), log);
      }
      // Bounded: a message may quote a property value, and profiles are as large as a request body.
      const reason = clip(errorMessage(err));
      this.deps.activity.record({ clusterId, kind: 'launch-failed', jobId: job.job_id, pipeline, message: reason });
      log.error({ clusterId, err }, 'create-agent failed');
      return { kind: 'error', reason };
    }
  }

  /** Profiles that cannot be used as sent (invalid, or a cluster the operator policy refuses): the job waits. */
  private refuseInput(clusterId: string, job: JobIdentifier, message: string, log: Logger): CreateAgentResult {
    // Bounded: a message may quote a property value, and profiles are as large as a request body.
    const reason = clip(message);
    this.deps.activity.record({
      clusterId,
      kind: 'invalid-profile',
      jobId: job.job_id,
      pipeline: jobPath(job),
      message: reason,
    });
    log.warn({ clusterId }, `create-agent: ${reason}`);
    return { kind: 'invalid', reason };
  }

  /** The job-completed mark; a store that cannot answer does not stop a launch (client tokens still hold). */
  private async isCompleted(cluster: ClusterProfile, jobId: number, log: Logger): Promise<boolean> {
    try {
      return await this.completed.has(cluster.clusterId, jobId);
    } catch (err) {
      log.warn({ clusterId: cluster.clusterId, err }, 'cannot read the job-completed mark; launching anyway');
      return false;
    }
  }

  /** A create-agent whose job's agent already stopped at job-completion: remembered as completed, nothing launched. */
  private async staleAfterCompletion(
    cluster: ClusterProfile,
    input: CreateAgentCommand,
    agent: AgentRecord,
    log: Logger,
  ): Promise<CreateAgentResult> {
    const reason = 'job already completed';
    this.deps.activity.record({
      clusterId: cluster.clusterId,
      kind: 'existing',
      jobId: input.job.job_id,
      agentId: agent.agentId,
      pipeline: jobPath(input.job),
      message: `${reason}: agent ${agent.agentId} stopped with its job`,
    });
    log.info(
      { clusterId: cluster.clusterId, ref: agent.ref },
      'create-agent for a job whose agent stopped at completion',
    );
    await this.completed.mark(cluster.clusterId, input.job.job_id).catch((err: unknown) => {
      log.warn({ err }, 'could not store the job-completed mark');
    });
    return { kind: 'completed', reason };
  }

  /**
   * ECS throttled this launch past its deadline. With a deferrer (Lambda) the create-agent waits in the retry queue
   * and runs again shortly; without one the job waits for GoCD's next create-agent. Either way it is not failed.
   */
  private async deferThrottled(
    command: CreateAgentCommand,
    budget: LaunchBudget,
    detail: string,
    log: Logger,
  ): Promise<CreateAgentResult> {
    const { clusterId } = command;
    const base = { clusterId, jobId: command.job.job_id, pipeline: jobPath(command.job) };
    let queued = false;
    try {
      queued = (await this.deps.launchDeferrer?.defer(command, budget)) ?? false;
    } catch (err) {
      log.error({ clusterId, err }, 'create-agent: could not queue a throttled launch');
    }
    const reason = queued
      ? `ECS is throttling launches (${detail}); queued to launch again shortly`
      : `ECS is throttling launches (${detail}); GoCD's next create-agent launches it`;
    this.deps.activity.record({ ...base, kind: 'waiting', message: reason });
    log.info({ clusterId }, `create-agent waits: ${reason}`);
    return { kind: queued ? 'queued' : 'waiting', reason };
  }

  private jobEnv(cluster: ClusterProfile, agentId: string, input: CreateAgentCommand): Record<string, string> {
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
      case 'throttled':
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
   * `deadline` (epoch ms): when its listing and stop must end (default: requestDeadlineMs from now).
   */
  async jobCompleted(
    input: JobCompletionCommand,
    events?: AgentEvents,
    deadline: number | undefined = this.defaultDeadline(),
  ): Promise<AgentActions> {
    const id = input.elasticAgentId;
    const pipeline = jobPath(input.job);
    const log = this.deps.logger.child({ agentId: id, jobId: input.job.job_id, pipeline });
    if (!input.cluster.ok) {
      log.warn(`job-completion: cannot read the cluster profile: ${input.cluster.reason}`);
      return { disable: [], delete: [] };
    }
    const { cluster } = input.cluster;
    // Under the job's create-agent lock: a create-agent of this job in flight finishes first (its agent is then listed
    // and stopped below), and any later one sees the job completed.
    const jobKey = `${cluster.clusterId}\0${input.job.job_id}`;
    return this.lock.run(jobKey, async () => {
      try {
        await this.completed.mark(cluster.clusterId, input.job.job_id);
      } catch (err) {
        // Still marked in this process; other processes rely on the client token (24 h) until the store answers.
        log.error({ err }, 'job-completion: could not store the job-completed mark');
      }
      return this.stopCompleted(cluster, input, log, events, deadline);
    });
  }

  private async stopCompleted(
    cluster: ClusterProfile,
    input: JobCompletionCommand,
    log: Logger,
    events: AgentEvents | undefined,
    deadline: number | undefined,
  ): Promise<AgentActions> {
    const id = input.elasticAgentId;
    const pipeline = jobPath(input.job);
    if (cluster.idleTimeoutMinutes > 0) {
      log.info({ clusterId: cluster.clusterId }, 'job completed; agent kept for idle_timeout_minutes');
      return { disable: [], delete: [] };
    }
    try {
      const backend = await this.backendFor(cluster);
      const agent = await this.agentToStop(backend, cluster, id, deadline);
      if (agent) {
        const reason = completionStopReason(input.job);
        const report = await backend.stop(cluster, [agent], reason, deadline);
        events?.agentStopped(cluster, agent, report?.childrenRemoved[id]);
        this.fleet.stopped(cluster.clusterId, id);
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

  /**
   * The agent job-completion stops: known from the fleet view or this process's launch (no read call), else from a
   * listing (launched by another process since the view, or no view yet).
   */
  private async agentToStop(
    backend: AgentBackend,
    cluster: ClusterProfile,
    agentId: string,
    deadline: number | undefined,
  ): Promise<AgentRecord | undefined> {
    const known = this.fleet.find(cluster.clusterId, agentId);
    if (known) return known;
    return (await backend.list(cluster, deadline)).find((a) => a.agentId === agentId);
  }

  /** server-ping: reconcile every cluster profile GoCD sent against GoCD's agent list (see planReconcile). */
  async serverPing(command: ServerPingCommand, events?: AgentEvents): Promise<AgentActions> {
    this.lastClusters = command.clusters;
    const listings: ClusterListing[] = [];
    let invalidProfiles = 0;
    const seen = new Set<string>();
    for (const read of command.clusters) {
      if (!read.ok) {
        // A profile we cannot read might own agents: its listing is unknown, so nothing is deleted for want of a task.
        this.deps.logger.warn(`server-ping: skipping an invalid cluster profile: ${read.reason}`);
        events?.clusterProfileRejected(read.properties, read.reason);
        invalidProfiles++;
        continue;
      }
      const { cluster } = read;
      if (seen.has(cluster.clusterId)) continue;
      seen.add(cluster.clusterId);
      try {
        const backend = await this.backendFor(cluster);
        const listedAt = this.now().getTime();
        const agents = await backend.list(cluster);
        // The bulk listing every create-agent counts against until the next ping.
        this.fleet.update(cluster.clusterId, agents, listedAt);
        this.metrics.agentsListed(cluster.clusterId, agents);
        events?.agentsListed(cluster, agents);
        listings.push({ cluster, agents });
      } catch (err) {
        this.deps.activity.record({
          clusterId: cluster.clusterId,
          kind: 'error',
          message: `listing agents failed: ${errorMessage(err)}`,
        });
        this.deps.logger.error({ clusterId: cluster.clusterId, err }, 'server-ping: listing agents failed');
        listings.push({ cluster, error: errorMessage(err) });
        events?.listingFailed(cluster, errorMessage(err));
      }
    }
    const plan = planReconcile(listings, command.agents, this.now(), invalidProfiles === 0);
    const failedStops = new Set<string>();
    const clusters = new Map(plan.stops.map((s) => [s.cluster.clusterId, s.cluster]));
    // Clusters are reaped concurrently; within a cluster one stop at a time keeps ECS write calls gentle.
    await Promise.all(
      [...clusters.values()].map(async (cluster) => {
        const backend = await this.backendFor(cluster);
        for (const stop of plan.stops.filter((s) => s.cluster.clusterId === cluster.clusterId)) {
          try {
            await backend.stop(cluster, [stop.agent], `reaped by gocd-agent-scaler: ${stop.reason}`);
            this.fleet.stopped(cluster.clusterId, stop.agent.agentId);
            this.metrics.agentStopped(cluster.clusterId, stop.rule);
            events?.agentReaped(cluster, stop.agent, stop.reason);
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
    const refusal = this.deps.profiles.policyRefusal(this.policy, cluster);
    if (refusal) return Promise.reject(new PolicyRefusedError(refusal));
    return this.deps.backends.forCluster(cluster);
  }

  /** The cluster profiles GoCD sent in its last server-ping, as read then. */
  knownClusters(): readonly ClusterRead[] {
    return this.lastClusters;
  }

  /** What the cluster status report shows: live agents, waiting jobs, recent errors, reaping in the last hour. */
  async clusterReport(cluster: ClusterProfile): Promise<ClusterReport> {
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
    const refused = this.deps.profiles.policyRefusal(this.policy, cluster);
    if (refused) {
      // The service never contacts an engine or cluster the policy refuses: say why instead of listing.
      report.policyProblem = refused;
      return report;
    }
    try {
      const backend = await this.backendFor(cluster);
      const listedAt = this.now().getTime();
      report.agents = await backend.list(cluster);
      this.fleet.update(cluster.clusterId, report.agents, listedAt);
    } catch (err) {
      report.listError = errorMessage(err);
    }
    return report;
  }

  /** What the agent status report shows, by elastic agent id or by job. */
  async agentReport(cluster: ClusterProfile, by: { agentId?: string; jobId?: number }): Promise<AgentReport> {
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
  /** The operator policy refuses this cluster profile's engine or ECS cluster (nothing is launched or listed there). */
  policyProblem?: string;
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

/** The `docker_mode` of an elastic profile as sent, for metrics of one that does not parse. */
function readMode(properties: Readonly<Record<string, unknown>>): string {
  return typeof properties.docker_mode === 'string' && properties.docker_mode ? properties.docker_mode : 'none';
}
