import type { GocdAgent, JobIdentifier } from './job.js';
import type { ClusterProfile, ElasticProfile, RawProperties } from './profiles.js';

// What the agent lifecycle is asked to do, as gocd/ reads it from GoCD's requests: validated once at the edge, so the
// lifecycle works on typed profiles and never parses a property map itself.

/** A cluster profile as the edge read it: parsed, or refused with the reason (its id and properties still known). */
export type ClusterRead =
  | { ok: true; cluster: ClusterProfile }
  | { ok: false; clusterId: string; properties: RawProperties; reason: string };

/** The parts of a create-agent every outcome has, valid profiles or not. */
interface CreateAgentBase {
  autoRegisterKey: string;
  /** The GoCD environment the job runs in (`GO_EA_AUTO_REGISTER_ENVIRONMENT`), when it names one. */
  environment?: string;
  job: JobIdentifier;
  /** The cluster id create-agent counts against: the profile's `cluster_id`, else the hash of its properties. */
  clusterId: string;
  /**
   * The profiles as GoCD sent them: what users are told quotes them (the image, the docker mode), and a launch ECS
   * throttled is queued with them and read again at the edge when it runs.
   */
  sent: { clusterProperties: RawProperties; profileProperties: RawProperties };
}

/** create-agent: launch the job's agent on these profiles, or report why they cannot be used. */
export type CreateAgentCommand = CreateAgentBase &
  (
    | { valid: true; cluster: ClusterProfile; profile: ElasticProfile }
    | {
        valid: false;
        /** Present when only the elastic profile is at fault. */
        cluster?: ClusterProfile;
        reason: string;
      }
  );

/** job-completion: stop the job's agent. */
export interface JobCompletionCommand {
  elasticAgentId: string;
  job: JobIdentifier;
  cluster: ClusterRead;
  /** GoCD's agent list when the forwarder could fetch it; undefined = unknown. */
  agents?: GocdAgent[];
}

/** server-ping: reconcile every cluster profile GoCD has against its agent list. */
export interface ServerPingCommand {
  clusters: ClusterRead[];
  /** GoCD's agent list when the forwarder could fetch it; undefined = unknown (nothing is deleted for want of it). */
  agents?: GocdAgent[];
}

/**
 * How long a create-agent may wait for its backend inside the work that runs it (a Lambda invocation's budget), and
 * which deferral it is when it runs again from the retry queue.
 */
export interface LaunchBudget {
  /** Epoch ms until which the launch may wait out request throttling; absent: the service's request deadline. */
  deadline?: number;
  /** A launch run again from the retry queue: when it was first tried, and how often it was deferred so far. */
  deferral?: { firstAttemptAt: number; attempt: number };
}
