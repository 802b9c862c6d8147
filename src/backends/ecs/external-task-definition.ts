import {
  type ContainerDefinition,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { LRUCache } from 'lru-cache';
import {
  type LaunchPermits,
  launchPermits,
  NO_OPERATOR_POLICY,
  type PrivilegeNeeds,
  privilegeRefusal,
} from '../../agents/policy.js';
import type { DockerMode } from '../../agents/profile-properties.js';
import { clip } from '../../text.js';
import type { EcsLaunchRequest } from './ecs-profiles.js';
import { AGENT_CONTAINER, HOST_DOCKER_SOCKET } from './task-definition.js';

/**
 * A profile's own `task_definition` (DESIGN.md: "it is described and held to the same gates as a registered one").
 * Whatever the profile's `docker_mode` says, the definition itself decides what the task can do, so it is described
 * and what it really needs (privileged containers, added capabilities, host paths and the Docker socket, host
 * namespaces) is held to the cluster profile's gates narrowed by the operator policy; the task is then tagged and
 * placed by the mode it really has, and run as exactly the revision that was inspected.
 */
export interface ExternalDefinition {
  /** The revision's ARN: what RunTask is given, so the task runs what was inspected. */
  arn: string;
  family: string;
  status?: string;
  /** What the definition needs, and its real Docker mode. */
  needs: PrivilegeNeeds;
  /** A refusal that holds whatever the gates say (no agent container, not ACTIVE, the Docker socket). */
  defect?: string;
}

/** Families this service registers for its own profiles (`gocd-agent-<hash>`, task-definition.ts). */
const OWN_FAMILY = /^gocd-agent-/;
/** Host paths that expose the engine's socket: the socket itself or a directory above it. */
const SOCKET_PATHS = new Set(['/', '/var', '/var/run', '/run', HOST_DOCKER_SOCKET, '/run/docker.sock']);
/**
 * `dockerSecurityOptions` that only add confinement: `no-new-privileges`, and `credentialspec:` (Active Directory
 * credentials, no confinement at all). Every other value (`apparmor:<profile>`, `label:<value>`, and what Docker also
 * takes, `seccomp:<profile>`) replaces the container's AppArmor/SELinux/seccomp confinement with whatever it names —
 * `apparmor:unconfined`, `label:disable`, `seccomp:unconfined` switch it off — so it needs full privilege. Valid values:
 * ContainerDefinition.dockerSecurityOptions, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
 */
const CONFINING_SECURITY_OPTION = /^(no-new-privileges(:true)?|credentialspec:.*)$/;

/**
 * Why a profile's own definition may not mount the Docker socket, whatever the gates say (issue 14: no cleanup ever
 * crosses jobs). Only the service's own socket definition has the janitor that claims the host's one socket slot
 * (so no other socket agent's cleanup runs while this job's containers live) and removes exactly this job's
 * containers when the task stops; checking that a foreign definition wires one up exactly so (the agent without the
 * socket, depending on a healthy janitor of the configured image, with its proxy and stop timeout) would be a second,
 * weaker copy of that contract.
 */
const SOCKET_DEFECT =
  "it mounts the host's Docker socket, which only docker_mode socket without task_definition may do: the service's own socket definition has the janitor that claims the host's socket slot and removes exactly this job's containers when the task stops; without it another socket agent's cleanup could remove this job's containers and this job's own would never be removed";

function normalizePath(path: string): string {
  const trimmed = path.trim().replace(/\/+/g, '/');
  return trimmed.length > 1 ? trimmed.replace(/\/$/, '') : trimmed;
}

/** The family a `task_definition` value names: `family`, `family:revision` or a task-definition ARN. */
export function familyOf(ref: string): string {
  const name = ref.includes(':task-definition/') ? ref.slice(ref.indexOf(':task-definition/') + 17) : ref;
  return name.replace(/:\d+$/, '');
}

/** What a described task definition needs beyond an ordinary container, and its real Docker mode (pure). */
export function definitionNeeds(td: TaskDefinition): ExternalDefinition {
  const arn = td.taskDefinitionArn ?? '';
  const containers = td.containerDefinitions ?? [];
  const privilege: string[] = [];
  const capabilities = new Set<string>();
  let socket = false;
  const hostPaths: string[] = [];
  const privilegedContainers = new Set<string>();
  const note = (c: ContainerDefinition, what: string) => {
    privilege.push(`container '${c.name}' ${what}`);
    privilegedContainers.add(c.name ?? '');
  };
  for (const c of containers) {
    if (c.privileged) note(c, 'is privileged');
    if ((c.linuxParameters?.devices?.length ?? 0) > 0) note(c, 'maps host devices');
    for (const option of c.dockerSecurityOptions ?? []) {
      if (!CONFINING_SECURITY_OPTION.test(option.trim()))
        note(c, `sets the security option ${clip(`'${option}'`, 100)}`);
    }
    for (const cap of c.linuxParameters?.capabilities?.add ?? []) {
      const name = cap.replace(/^CAP_/, '');
      if (name === 'ALL') note(c, 'adds every capability (ALL)');
      else {
        capabilities.add(name);
        privilegedContainers.add(c.name ?? '');
      }
    }
  }
  if (td.pidMode === 'host') privilege.push("pidMode 'host' (the host's processes)");
  if (td.ipcMode === 'host') privilege.push("ipcMode 'host' (the host's IPC namespace)");
  for (const v of td.volumes ?? []) {
    const source = v.host?.sourcePath;
    if (source) {
      const path = normalizePath(source);
      if (SOCKET_PATHS.has(path)) socket = true;
      hostPaths.push(`host path ${clip(path, 100)}`);
    }
    const dv = v.dockerVolumeConfiguration;
    // The local driver's `device` option (with `o=bind`) mounts any host path; other drivers can do anything.
    if (dv && ((dv.driver !== undefined && dv.driver !== 'local') || dv.driverOpts?.device !== undefined)) {
      const device = dv.driverOpts?.device;
      if ((dv.driver ?? 'local') === 'local' && device !== undefined && SOCKET_PATHS.has(normalizePath(device)))
        socket = true;
      hostPaths.push(clip(`volume '${v.name}' (driver ${dv.driver ?? 'local'} with host options)`, 200));
    }
  }
  let mode: DockerMode = 'none';
  if (socket) mode = 'socket';
  else if (privilegedContainers.size > 0) mode = privilegedContainers.has(AGENT_CONTAINER) ? 'privileged' : 'sidecar';
  const needs: PrivilegeNeeds = { mode, capabilities: [...capabilities] };
  if (privilege.length) needs.fullPrivilege = privilege.join(', ');
  if (hostPaths.length) needs.hostPaths = hostPaths.join(', ');
  if (td.networkMode === 'host')
    needs.hostNetwork = "networkMode 'host' (the host's network, and its instance metadata)";
  const def: ExternalDefinition = { arn, family: td.family ?? familyOf(arn), needs };
  if (td.status !== undefined) def.status = td.status;
  if (!containers.some((c) => c.name === AGENT_CONTAINER)) {
    def.defect = `it has no container named '${AGENT_CONTAINER}' (where each job's GO_EA_* registration variables go)`;
  } else if (td.status !== undefined && td.status !== 'ACTIVE') {
    def.defect = `its revision is ${td.status}`;
  } else if (mode === 'socket') {
    def.defect = SOCKET_DEFECT;
  }
  return def;
}

/** The verdict on launching `def` with `permits`: a refusal naming the gate or policy key, or undefined. */
export function externalDefinitionRefusal(
  ref: string,
  def: ExternalDefinition,
  permits: LaunchPermits,
): string | undefined {
  const what = `task_definition '${clip(ref, 100)}'`;
  if (def.defect) return `${what} cannot run agents: ${def.defect}`;
  return privilegeRefusal(permits, def.needs, what);
}

/** Outcome of vetting a launch whose profile names its own task definition. */
export type Vetted = { kind: 'ok'; arn: string; request: EcsLaunchRequest } | { kind: 'refused'; reason: string };

/**
 * Describes and vets profiles' own task definitions for one ECS client. A revision never changes, so its facts are
 * kept (bounded); a bare family means "the latest ACTIVE revision", which is looked up again after `familyTtlMs`
 * (a new revision may have been registered), and the task then runs the exact revision that was looked at.
 */
export class ExternalTaskDefinitions {
  private readonly revisions = new LRUCache<string, ExternalDefinition>({ max: 500 });
  private readonly latest = new LRUCache<string, { at: number; arn: string }>({ max: 500 });
  private readonly familyTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: ECSClient,
    options: { familyTtlMs?: number; now?: () => number } = {},
  ) {
    this.familyTtlMs = options.familyTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The facts of the revision `ref` names (family, family:revision or ARN); one DescribeTaskDefinition per revision,
   * sent with `abortSignal` (the request's deadline).
   */
  async describe(ref: string, abortSignal?: AbortSignal): Promise<ExternalDefinition> {
    const qualified = /:\d+$/.test(ref);
    const cachedArn = qualified ? ref : this.freshLatest(ref);
    const cached = cachedArn ? this.revisions.get(cachedArn) : undefined;
    if (cached) return cached;
    const res = await this.client.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: ref }),
      abortSignal ? { abortSignal } : {},
    );
    if (!res.taskDefinition?.taskDefinitionArn) throw new Error(`DescribeTaskDefinition returned nothing for ${ref}`);
    const def = definitionNeeds(res.taskDefinition);
    this.revisions.set(def.arn, def);
    if (qualified) this.revisions.set(ref, def);
    else this.latest.set(ref, { at: this.now(), arn: def.arn });
    return def;
  }

  private freshLatest(family: string): string | undefined {
    const entry = this.latest.get(family);
    return entry && this.now() - entry.at < this.familyTtlMs ? entry.arn : undefined;
  }

  /** Forgets a revision ECS refused to run (deregistered meanwhile): the next launch describes again. */
  forget(arn: string): void {
    this.revisions.delete(arn);
    for (const [family, entry] of this.latest.entries()) if (entry.arn === arn) this.latest.delete(family);
  }

  /**
   * Vets a launch whose profile names `task_definition`: refuses the service's own `gocd-agent-*` families outright
   * (they are registered for other profiles, whose gates this launch did not pass), then describes the revision and
   * holds what it needs to the launch's permits. On success the request carries the definition's real Docker mode,
   * so tags and socket placement follow what the task does, not what the profile says.
   */
  async vet(request: EcsLaunchRequest, abortSignal?: AbortSignal): Promise<Vetted> {
    const ref = request.profile.taskDefinition!;
    if (OWN_FAMILY.test(familyOf(ref))) {
      return {
        kind: 'refused',
        reason: `task_definition '${familyOf(ref).slice(0, 100)}' is a family gocd-agent-scaler registers for its own profiles; name a family of your own`,
      };
    }
    const def = await this.describe(ref, abortSignal);
    const permits = request.permits ?? launchPermits(NO_OPERATOR_POLICY, request.cluster);
    const reason = externalDefinitionRefusal(ref, def, permits);
    if (reason) return { kind: 'refused', reason };
    return {
      kind: 'ok',
      arn: def.arn,
      request: { ...request, profile: { ...request.profile, dockerMode: def.needs.mode } },
    };
  }
}
