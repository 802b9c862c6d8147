import type { JobIdentifier } from './job.js';
import type { LaunchPermits } from './policy.js';
import type { DockerMode } from './profile-properties.js';
import type { ClusterProfile, ElasticProfile } from './profiles.js';

/**
 * Everything a backend needs to start one job's agent. `C` and `E` are the profiles as its backend parsed them (the
 * shared part with the backend's own settings); the provider hands each backend only profiles of its own.
 */
export interface LaunchRequest<C extends ClusterProfile = ClusterProfile, E extends ElasticProfile = ElasticProfile> {
  /** `ea-<job_id>-<8 hex>`, stable per (cluster, job). */
  agentId: string;
  job: JobIdentifier;
  cluster: C;
  profile: E;
  /**
   * Per-job environment: the GO_EA_* variables only. The cluster's and the profile's `environment` lines are in
   * `cluster.environment` / `profile.environment` (profile wins), so an ECS task definition can hold them.
   */
  jobEnv: Record<string, string>;
  /**
   * Epoch ms until which the launch may wait out request throttling (pacing its own RunTask calls and retrying
   * throttled ones); past it the backend answers `throttled` instead of waiting. Default: the backend's own bound.
   */
  deadline?: number;
  /**
   * What this launch may have: the cluster profile's gates narrowed by the operator policy. A backend that finds more
   * than the profile declares (an ECS `task_definition` of the operator's) holds it to these. Absent: the cluster
   * profile's gates alone.
   */
  permits?: LaunchPermits;
}

/** An agent as the backend sees it: one ECS task or one agent container, found by tags/labels, never by memory. */
export interface AgentRecord {
  agentId: string;
  jobId: number;
  clusterId: string;
  /** `pipeline/counter/stage/counter/job`. */
  pipeline: string;
  /** Task ARN or container id. */
  ref: string;
  status: 'pending' | 'running' | 'stopping' | 'stopped';
  createdAt: Date;
  startedAt?: Date;
  stoppedReason?: string;
  dockerMode?: DockerMode;
}

export type LaunchOutcome =
  /** A new agent was started. */
  | { kind: 'launched'; agent: AgentRecord }
  /** A live agent for this job already exists (a repeated or concurrent create-agent); nothing was started. */
  | { kind: 'existing'; agent: AgentRecord }
  /** Nothing started now, by design (e.g. the engine's one socket-mode slot is taken); GoCD re-sends create-agent. */
  | { kind: 'deferred'; reason: string }
  /** Nothing started: what the launch really needs is not allowed (the reason names the gate or policy key). */
  | { kind: 'refused'; reason: string }
  /** The backend refused or could not place the agent (RunTask failures, missing image …). */
  | { kind: 'failed'; reason: string; detail?: string }
  /** Nothing started yet: the backend throttled the launch beyond the request's deadline; try again later. */
  | { kind: 'throttled'; detail: string };

/** What a stop did beyond stopping: per agent id, how many containers its job started were removed. */
export interface StopReport {
  childrenRemoved: Record<string, number>;
}

/** What `stop` answers: a report, or nothing from a backend that leaves the children to a janitor. */
// biome-ignore lint/suspicious/noConfusingVoidType: a backend with nothing to report keeps its plain Promise<void>.
export type StopResult = StopReport | void;

/** Extra facts for the agent status report; every field optional. */
export interface AgentDetails {
  agent: AgentRecord;
  containers: { name: string; image?: string; status?: string; exitCode?: number; reason?: string }[];
  environment: Record<string, string>;
  links: { label: string; url: string }[];
}

/**
 * The port every agent backend implements (ECS tasks, local Docker containers). Backends are the only code that
 * talks to ECS or Docker. All methods are safe to call concurrently and repeatedly.
 */
export interface AgentBackend<C extends ClusterProfile = ClusterProfile, E extends ElasticProfile = ElasticProfile> {
  /** The `backend` of the cluster profiles it runs (`ecs`, `docker`). */
  readonly kind: string;
  /** Starts the job's agent unless one is already live; idempotent per (cluster, job). */
  launch(request: LaunchRequest<C, E>): Promise<LaunchOutcome>;
  /**
   * Every agent of this cluster id that is not yet stopped (pending, running or stopping). Throws
   * BackendUnavailableError when the listing is incomplete: callers must never read a failure as "no agents"
   * (`throttled` when it was throttled or cut off at `deadline`, epoch ms; default: the backend's own bound).
   */
  list(cluster: C, deadline?: number): Promise<AgentRecord[]>;
  /**
   * Stops these agents (and, in socket mode, the containers their jobs started), with a reason naming why.
   * Already-stopped or unknown agents are not an error. A backend that removes a socket job's containers itself says
   * how many (the job's console reports it); one that leaves that to a janitor (ECS) returns nothing. The calls end by
   * `deadline` (epoch ms; a stop not done by then throws); default: the backend's own bound.
   */
  stop(cluster: C, agents: readonly AgentRecord[], reason: string, deadline?: number): Promise<StopResult>;
  /** Details for the agent status report, or undefined when the agent is unknown. */
  inspect(cluster: C, agentId: string): Promise<AgentDetails | undefined>;
}

/** Picks (and caches) the backend for a cluster profile: ECS client per region/role, Docker client per host. */
export interface BackendProvider {
  forCluster(cluster: ClusterProfile): Promise<AgentBackend>;
}
