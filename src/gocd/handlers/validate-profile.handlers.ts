import type { ProfileCatalog } from '../../agents/profile-catalog.js';
import type { PropertyMap } from '../messages.js';

/** validate-*-profile: a list of `{key, message}`; an empty list means valid. Nulls count as unset. */
export function validateProfileHandlers(profiles: ProfileCatalog) {
  return {
    'cd.go.elastic-agent.validate-elastic-agent-profile': (body: PropertyMap) => profiles.validateElastic(body),
    'cd.go.elastic-agent.validate-cluster-profile': (body: PropertyMap) => profiles.validateCluster(body),
  } as const;
}
