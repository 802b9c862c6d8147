import { validateClusterProperties, validateElasticProperties } from '../../agents/profiles.js';
import type { PropertyMap } from '../messages.js';

/** validate-*-profile: a list of `{key, message}`; an empty list means valid. Nulls count as unset. */
export const validateProfileHandlers = {
  'cd.go.elastic-agent.validate-elastic-agent-profile': (body: PropertyMap | undefined) =>
    validateElasticProperties(body ?? {}),
  'cd.go.elastic-agent.validate-cluster-profile': (body: PropertyMap | undefined) =>
    validateClusterProperties(body ?? {}),
} as const;
