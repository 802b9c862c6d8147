import { clip } from '../text.js';
import type { AgentRecord } from './agent-backend.port.js';
import type { CreateAgentResult } from './agent-service.js';
import type { JobIdentifier } from './job.js';
import type { HealthMessage } from './notices.js';
import type { ClusterProfile } from './profiles.js';

/**
 * What GoCD users are told, and when: the wording of every console line and server-health message, and the state
 * each one stands for. Pure; src/agents/request-notices.ts decides whether a state is new.
 *
 * Bounded: every value a request brought (an image, a cluster name or id, a quoted property value) is clipped to
 * VALUE_MAX characters where it is put into a text, and every text to TEXT_MAX. A request is as large as its body, and
 * these texts end in GoCD's console and panel and in one store item holding every health message (DynamoDB: 400 KB).
 */

/** Longest request-derived value quoted in a text. */
export const VALUE_MAX = 100;
/** Longest console line or health message (before the forwarder's prefix). */
export const TEXT_MAX = 1_000;

const v = (value: string) => clip(value, VALUE_MAX);

/** A job's state as told in its console: a line is appended only when `state` differs from the last one told. */
export interface JobState {
  /** `launched`, `registered`, `stopped` (about one agent, `ref`), or a waiting/refused/failed reason. */
  state: string;
  /** The agent's task ARN or container id, for the agent states. */
  ref?: string;
  text: string;
}

/** A server-health problem of one cluster profile; `topic` is what a later success clears. */
export interface HealthProblem {
  topic: string;
  health: HealthMessage;
}

/** The rank of the agent states: a lower one about the same agent is never told after a higher one. */
export const AGENT_STATE_RANK: Readonly<Record<string, number>> = { launched: 1, registered: 2, stopped: 3 };

/** Topics of the server-health board. */
export const TOPIC = {
  /** A launch failed at the backend (credentials, AccessDenied, engine down, capacity, RunTask failures). */
  launch: 'launch',
  /** The cluster profile itself is refused (it does not parse). */
  clusterProfile: 'cluster-profile',
  /** Listing the cluster's agents failed at server-ping: nothing is reconciled there. */
  list: 'list',
  /** One elastic agent profile is refused on this cluster (a gate, an invalid profile): `profile:<hash>`. */
  profile: (profileKey: string) => `profile:${profileKey}`,
} as const;

/** `cluster profile ci-prod (ECS cluster ci-agents in eu-west-1)`: the names an administrator finds it by. */
export function describeCluster(cluster: ClusterProfile): string {
  // `where` quotes the request's values already clipped (its backend's parseCluster).
  return `cluster profile ${v(cluster.clusterId)} (${cluster.where})`;
}

/**
 * A cluster profile that did not parse: by the `cluster_id` it carries (clipped: it may be anything the request sent)
 * or, without one, by `clusterId` (the id derived from its properties).
 */
export function describeRawCluster(clusterId: string, properties: Record<string, unknown>): string {
  const raw = typeof properties.cluster_id === 'string' ? properties.cluster_id.trim() : '';
  const name =
    typeof properties.cluster === 'string' && properties.cluster ? `, ECS cluster ${v(properties.cluster)}` : '';
  return `cluster profile ${v(raw || clusterId)}${name}`;
}

/** `ECS task arn:…` or `container 0123456789ab`. */
export function describeRef(ref: string): string {
  return ref.startsWith('arn:') ? `ECS task ${clip(ref, 2 * VALUE_MAX)}` : `container ${ref.slice(0, 12)}`;
}

/** `45s`, `12m 5s`, `3h 20m`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** The job of an agent record (`pipeline/counter/stage/counter/job`), or undefined when the tag does not parse. */
export function jobOfRecord(agent: AgentRecord): JobIdentifier | undefined {
  const parts = agent.pipeline.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) return undefined;
  const counter = Number(parts[1]);
  if (!Number.isSafeInteger(counter)) return undefined;
  return {
    pipeline_name: parts[0]!,
    pipeline_counter: counter,
    stage_name: parts[2]!,
    stage_counter: parts[3]!,
    job_name: parts[4]!,
    job_id: agent.jobId,
  };
}

const CAPACITY = /^RESOURCE:|^AGENT$|capacity|no container instance/i;
const CREDENTIALS = /ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|credential/i;
const ACCESS = /AccessDenied|UnauthorizedOperation|not authorized|is not authorized to perform/i;
const ENGINE = /Docker engine at .* is unavailable/i;
const IMAGE = /image|manifest|pull access denied|CannotPullContainer/i;

/** What an administrator should change, from a backend's failure text. */
export function failureHint(text: string): string {
  if (CREDENTIALS.test(text)) return "check the service's AWS credentials";
  if (ACCESS.test(text)) return "check the IAM permissions of the service's AWS role (ecs:RunTask, iam:PassRole, …)";
  if (ENGINE.test(text)) return 'check that this Docker engine is running and reachable from the service';
  if (CAPACITY.test(text)) return 'add capacity to the cluster, or lower cpu/memory in the elastic agent profile';
  if (IMAGE.test(text)) return 'check the image name and the registry credentials';
  return 'see the service log and the cluster status report';
}

/** RunTask placement failures that mean "no room now", not "broken". */
export function isCapacityFailure(reason: string): boolean {
  return CAPACITY.test(reason);
}

export interface CreateAgentFacts {
  cluster?: ClusterProfile;
  /** The cluster id create-agent used (also when the profile did not parse). */
  clusterId: string;
  clusterProperties: Record<string, unknown>;
  image?: string;
  dockerMode: string;
}

/** The console state a create-agent outcome stands for, or undefined when it says nothing new. */
export function createAgentState(facts: CreateAgentFacts, result: CreateAgentResult): JobState | undefined {
  const state = createAgentStateOf(facts, result);
  // The state names a reason the request may have quoted: bounded like the text (it is stored per job).
  return state && { ...state, state: clip(state.state, TEXT_MAX), text: clip(state.text, TEXT_MAX) };
}

function createAgentStateOf(facts: CreateAgentFacts, result: CreateAgentResult): JobState | undefined {
  const where = facts.cluster
    ? describeCluster(facts.cluster)
    : describeRawCluster(facts.clusterId, facts.clusterProperties);
  switch (result.kind) {
    case 'launched':
    case 'existing': {
      const a = result.agent;
      const verb = result.kind === 'launched' ? 'Launched' : 'Found';
      return {
        state: 'launched',
        ref: a.ref,
        text: `${verb} elastic agent ${v(a.agentId)} for this job: ${describeRef(a.ref)} (image ${v(facts.image ?? 'unknown')}, docker mode ${v(a.dockerMode ?? facts.dockerMode)}) on ${where}. It takes the job once it has registered with GoCD.`,
      };
    }
    case 'queued':
      return throttledState(result.reason);
    case 'throttled':
      return throttledState(`ECS is throttling launches (${result.detail})`);
    case 'waiting':
      // The service waits for two reasons: the cluster's cap, or ECS throttling its launches past the deadline.
      if (!result.reason.startsWith('max_agents')) return throttledState(result.reason);
      return {
        state: 'waiting:max_agents',
        text: `Waiting for an elastic agent: ${result.reason} on ${where}. GoCD asks again about every 2 minutes; raise max_agents on the cluster profile to run more jobs at once.`,
      };
    case 'deferred':
      return { state: `waiting:${result.reason}`, text: `Waiting for an elastic agent: ${result.reason}.` };
    case 'refused':
      return {
        state: `refused:${result.reason}`,
        text: `Cannot launch an elastic agent for this job on ${where}: ${result.reason}. Change the cluster profile or the elastic agent profile (Admin → Elastic Agent Configurations); GoCD asks again about every 2 minutes.`,
      };
    case 'invalid':
      return {
        state: `invalid:${result.reason}`,
        text: `Cannot launch an elastic agent for this job: ${result.reason}. Fix the profile in GoCD (Admin → Elastic Agent Configurations).`,
      };
    case 'failed': {
      const detail = result.detail ? ` (${result.detail})` : '';
      if (isCapacityFailure(result.reason)) {
        return {
          state: `waiting:capacity:${result.reason}`,
          text: `Waiting for an elastic agent: ${where} has no room for it now: ${result.reason}${detail}. GoCD asks again about every 2 minutes.`,
        };
      }
      return {
        state: `failed:${result.reason}`,
        text: `Launching an elastic agent failed on ${where}: ${result.reason}${detail}. GoCD asks again about every 2 minutes; ${failureHint(`${result.reason} ${result.detail ?? ''}`)}.`,
      };
    }
    case 'error':
      return {
        state: `failed:${result.reason}`,
        text: `Launching an elastic agent failed on ${where}: ${result.reason}. GoCD asks again about every 2 minutes; ${failureHint(result.reason)}.`,
      };
    case 'completed':
      return undefined;
  }
}

/** One console state for every throttled launch (its detail varies per re-send, the state must not). */
function throttledState(reason: string): JobState {
  return {
    state: 'waiting:throttled',
    text: `Waiting for an elastic agent: ${reason}. Nothing failed; the launch goes out when ECS lets it.`,
  };
}

/**
 * The server-health change a create-agent outcome makes: a problem an administrator must fix, `clear` for the topics
 * a success proves fixed, or nothing (waiting for max_agents or a socket slot is by design, not a fault).
 */
export function createAgentHealth(
  facts: CreateAgentFacts,
  profileKey: string,
  result: CreateAgentResult,
): { problem?: HealthProblem; clear?: string[] } {
  const change = createAgentHealthOf(facts, profileKey, result);
  return change.problem ? { ...change, problem: bounded(change.problem) } : change;
}

/** A problem whose message is clipped to TEXT_MAX. */
function bounded(problem: HealthProblem): HealthProblem {
  return { ...problem, health: { ...problem.health, message: clip(problem.health.message, TEXT_MAX) } };
}

function createAgentHealthOf(
  facts: CreateAgentFacts,
  profileKey: string,
  result: CreateAgentResult,
): { problem?: HealthProblem; clear?: string[] } {
  const where = facts.cluster
    ? describeCluster(facts.cluster)
    : describeRawCluster(facts.clusterId, facts.clusterProperties);
  const profile = `the elastic agent profile with image ${v(facts.image ?? '(none)')} and docker mode ${v(facts.dockerMode)}`;
  switch (result.kind) {
    case 'launched':
    case 'existing':
      return { clear: [TOPIC.launch, TOPIC.clusterProfile, TOPIC.profile(profileKey)] };
    case 'refused':
      return {
        problem: {
          topic: TOPIC.profile(profileKey),
          health: {
            type: 'error',
            message: `gocd-agent-scaler: ${where} refuses ${profile}: ${result.reason}. Jobs using it wait for an agent until the cluster profile allows it or the elastic agent profile changes.`,
          },
        },
      };
    case 'invalid':
      return {
        problem: {
          topic: facts.cluster ? TOPIC.profile(profileKey) : TOPIC.clusterProfile,
          health: {
            type: 'error',
            message: `gocd-agent-scaler: ${where}: no agent can launch: ${result.reason}. Fix the profile in Admin → Elastic Agent Configurations.`,
          },
        },
      };
    case 'failed': {
      const text = `${result.reason}${result.detail ? ` (${result.detail})` : ''}`;
      return {
        problem: {
          topic: TOPIC.launch,
          health: {
            type: isCapacityFailure(result.reason) ? 'warning' : 'error',
            message: `gocd-agent-scaler: ${where}: launching agents fails: ${text}; ${failureHint(text)}.`,
          },
        },
      };
    }
    case 'error':
      return {
        problem: {
          topic: TOPIC.launch,
          health: {
            type: 'error',
            message: `gocd-agent-scaler: ${where}: launching agents fails: ${result.reason}; ${failureHint(result.reason)}.`,
          },
        },
      };
    default:
      return {};
  }
}

/** The console line of an agent GoCD lists (it registered), told once per agent. */
export function registeredState(agent: AgentRecord, now: Date): JobState {
  return {
    state: 'registered',
    ref: agent.ref,
    text: `Elastic agent ${v(agent.agentId)} registered with GoCD, ${duration(now.getTime() - agent.createdAt.getTime())} after it was launched.`,
  };
}

/** The console line of the agent job-completion stopped. */
export function stoppedState(
  cluster: ClusterProfile,
  agent: AgentRecord,
  now: Date,
  childrenRemoved: number | undefined,
): JobState {
  let children = '';
  if (childrenRemoved !== undefined) {
    children = `; ${childrenRemoved} container(s) the job started through the Docker socket removed`;
  } else if (agent.dockerMode === 'socket' && cluster.backend === 'ecs') {
    children = '; its janitor removes the containers the job started through the Docker socket as the task stops';
  } else if (agent.dockerMode === 'privileged' || agent.dockerMode === 'sidecar') {
    children = '; the containers the job started went with its Docker daemon';
  }
  return {
    state: 'stopped',
    ref: agent.ref,
    text: `Job completed: elastic agent ${v(agent.agentId)} (${describeRef(agent.ref)}) stopped after ${duration(now.getTime() - agent.createdAt.getTime())}${children}.`,
  };
}

/** The console line of an agent server-ping reaped (never registered, lost contact, idle). */
export function reapedState(agent: AgentRecord, reason: string): JobState {
  return {
    state: 'stopped',
    ref: agent.ref,
    text: clip(
      `Elastic agent ${v(agent.agentId)} (${describeRef(agent.ref)}) stopped: ${reason}. If the job still needs an agent, GoCD asks for a new one.`,
      TEXT_MAX,
    ),
  };
}

/** The server-health message of a cluster whose agents could not be listed. */
export function listingFailedHealth(cluster: ClusterProfile, message: string): HealthProblem {
  return bounded({
    topic: TOPIC.list,
    health: {
      type: 'error',
      message: `gocd-agent-scaler: ${describeCluster(cluster)}: cannot list its agents, so none is cleaned up there: ${message}; ${failureHint(message)}.`,
    },
  });
}

/** The server-health message of a cluster profile the service cannot read. */
export function clusterProfileRejectedHealth(
  clusterId: string,
  properties: Record<string, unknown>,
  message: string,
): HealthProblem {
  return bounded({
    topic: TOPIC.clusterProfile,
    health: {
      type: 'error',
      message: `gocd-agent-scaler: ${describeRawCluster(clusterId, properties)} is refused: ${message}. Fix it in Admin → Elastic Agent Configurations.`,
    },
  });
}
