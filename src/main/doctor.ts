import type { BackendProvider } from '../agents/agent-backend.port.js';
import { PLUGIN_ID } from '../agents/agent-service.js';
import { describePolicy } from '../agents/policy.js';
import type { ProfileCatalog } from '../agents/profile-catalog.js';
import type { ClusterProfile } from '../agents/profiles.js';
import type { Config } from '../config/config.schema.js';
import { errorMessage } from '../errors.js';
import type { GocdAdminClient } from '../gocd-api/gocd-admin-client.js';
import { materialVariableNames } from '../registry/material-env.js';

/** One finding of the doctor, in plain words. */
export interface Finding {
  status: 'ok' | 'warn' | 'fail';
  what: string;
  detail: string;
}

export interface DoctorDeps {
  config: Readonly<Config>;
  /** The profile kinds of the backends: cluster profiles are read and held to the policy as the service does. */
  profiles: ProfileCatalog;
  gocd?: GocdAdminClient;
  backends: BackendProvider;
  dockerStatus: () => Promise<string>;
}

/** Checks what the service needs with the given config and says what works and what does not. */
export async function runDoctor(deps: DoctorDeps): Promise<Finding[]> {
  const findings: Finding[] = [
    { status: 'ok', what: 'config', detail: 'the configuration is valid' },
    { status: 'ok', what: 'operator policy', detail: describePolicy(deps.config.policy) },
  ];
  const docker = await deps.dockerStatus();
  findings.push(
    docker === 'available'
      ? {
          status: 'ok',
          what: 'Docker engine',
          detail: 'the local Docker engine answers; docker cluster profiles can launch agents',
        }
      : {
          status: 'warn',
          what: 'Docker engine',
          detail: `${docker}; cluster profiles with backend docker cannot launch agents`,
        },
  );
  const { gocd } = deps;
  if (!gocd) {
    findings.push({
      status: deps.config.subscriptions.length ? 'fail' : 'warn',
      what: 'GoCD API',
      detail:
        'gocd.apiUrl is not set: registry triggers cannot schedule pipelines, and cluster profiles cannot be read from GoCD',
    });
    return findings;
  }
  const version = await gocd.version();
  if (!version.ok) {
    findings.push({
      status: 'fail',
      what: 'GoCD API',
      detail: `cannot reach ${deps.config.gocd.apiUrl}: ${version.message}`,
    });
    return findings;
  }
  findings.push({
    status: 'ok',
    what: 'GoCD API',
    detail: `GoCD ${version.value.full_version ?? version.value.version} answers at ${deps.config.gocd.apiUrl}`,
  });
  const user = await gocd.currentUser();
  findings.push(
    user.ok
      ? { status: 'ok', what: 'GoCD token', detail: `gocd.apiToken works (user ${user.value.login_name})` }
      : { status: 'fail', what: 'GoCD token', detail: `gocd.apiToken is refused: ${user.message}` },
  );
  await checkClusters(deps, gocd, findings);
  await checkPipelines(deps, gocd, findings);
  return findings;
}

async function checkClusters(deps: DoctorDeps, gocd: GocdAdminClient, findings: Finding[]): Promise<void> {
  const profiles = await gocd.clusterProfiles();
  if (!profiles.ok) {
    findings.push({
      status: 'warn',
      what: 'cluster profiles',
      detail: `cannot list them (${profiles.message})${profiles.status === 403 ? '; the token is not an administrator’s' : ''}`,
    });
    return;
  }
  const ours = profiles.value.filter((p) => p.plugin_id === PLUGIN_ID);
  if (ours.length === 0) {
    findings.push({
      status: 'warn',
      what: 'cluster profiles',
      detail: `GoCD has no cluster profile for plugin ${PLUGIN_ID} yet`,
    });
  }
  for (const p of ours) {
    const what = `cluster profile ${p.id}`;
    const props = Object.fromEntries(p.properties.filter((x) => x.value !== undefined).map((x) => [x.key, x.value]));
    let cluster: ClusterProfile;
    try {
      cluster = deps.profiles.parseCluster(props);
    } catch (err) {
      findings.push({ status: 'fail', what, detail: errorMessage(err) });
      continue;
    }
    // The service refuses such a profile before contacting anything; so does the doctor.
    const refusal = deps.profiles.policyRefusal(deps.config.policy, cluster);
    if (refusal) {
      findings.push({ status: 'fail', what, detail: refusal });
      continue;
    }
    try {
      const backend = await deps.backends.forCluster(cluster);
      const agents = await backend.list(cluster);
      findings.push({
        status: 'ok',
        what,
        detail: `${cluster.where} reachable; ${agents.length} of at most ${cluster.maxAgents} agents live`,
      });
    } catch (err) {
      findings.push({ status: 'fail', what, detail: `cannot list its agents: ${errorMessage(err)}` });
    }
  }
}

/** GoCD answers 422 unless the pipeline declares every variable it is sent: check exact-image subscriptions. */
async function checkPipelines(deps: DoctorDeps, gocd: GocdAdminClient, findings: Finding[]): Promise<void> {
  for (const sub of deps.config.subscriptions) {
    const registry = deps.config.registries.find((r) => sub.image.startsWith(`${r.host}/`));
    const exact = !/[*?]/.test(sub.image);
    const needed =
      registry && exact ? materialVariableNames(registry.name, sub.image.slice(registry.host.length + 1)) : [];
    for (const pipeline of sub.pipelines) {
      const what = `pipeline ${pipeline}`;
      const vars = await gocd.pipelineVariables(pipeline);
      if (!vars.ok) {
        findings.push({ status: 'fail', what, detail: `cannot read its config (${vars.message})` });
        continue;
      }
      if (!registry) {
        findings.push({ status: 'warn', what, detail: `no configured registry has the host of ${sub.image}` });
        continue;
      }
      if (!exact) {
        findings.push({
          status: 'warn',
          what,
          detail: `${sub.image} is a glob: make sure the pipeline declares the four GO_PACKAGE_/GO_REPO_ variables of every image it matches`,
        });
        continue;
      }
      const missing = needed.filter((n) => !vars.value.includes(n));
      findings.push(
        missing.length === 0
          ? { status: 'ok', what, detail: `declares every variable a push of ${sub.image} sends` }
          : {
              status: 'fail',
              what,
              detail: `does not declare ${missing.join(', ')}: GoCD would refuse the schedule with 422; add them as pipeline environment variables (any default value)`,
            },
      );
    }
  }
}

/** The findings as plain lines (✔ ok, ! warn, ✘ fail). */
export function formatFindings(findings: Finding[]): string {
  const mark = { ok: '✔', warn: '!', fail: '✘' } as const;
  return `${findings.map((f) => `${mark[f.status]} ${f.what}: ${f.detail}`).join('\n')}\n`;
}
