import type { ScheduleVariable } from '../gocd-api/gocd-schedule-client.js';
import type { ImagePushed } from './image-pushed.js';

/**
 * The material part `M` of the variable names: `upper(<registry name>_<repository>)` with every character outside
 * `[A-Z0-9_]` turned into `_` (registry `docker`, repository `backends/database-x` → `DOCKER_BACKENDS_DATABASE_X`).
 */
export function materialName(registry: string, repository: string): string {
  return `${registry}_${repository}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** The four variable names a pipeline must declare for one material (GoCD answers 422 otherwise). */
export function materialVariableNames(registry: string, repository: string): string[] {
  const m = materialName(registry, repository);
  return [
    `GO_PACKAGE_${m}_LABEL`,
    `GO_PACKAGE_${m}_DOCKER_IMAGE`,
    `GO_REPO_${m}_DOCKER_REGISTRY_NAME`,
    `GO_PACKAGE_${m}_DIGEST`,
  ];
}

/**
 * The variables the GoCD docker poller plugin gives a pipeline for its material, so pipelines move over unchanged:
 * label = tag, image = repository, registry name = host, plus the digest (empty when the sender gave none and it
 * could not be resolved).
 */
export function materialEnv(
  push: Pick<ImagePushed, 'registry' | 'host' | 'repository' | 'tag' | 'digest'>,
): ScheduleVariable[] {
  const [label, image, registryName, digest] = materialVariableNames(push.registry, push.repository) as [
    string,
    string,
    string,
    string,
  ];
  return [
    { name: label, value: push.tag, secure: false },
    { name: image, value: push.repository, secure: false },
    { name: registryName, value: push.host, secure: false },
    { name: digest, value: push.digest ?? '', secure: false },
  ];
}
