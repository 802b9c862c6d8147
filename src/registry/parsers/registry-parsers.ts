import type { RegistryType } from '../../config/config.schema.js';
import type { RegistryParser } from '../image-pushed.js';
import { parseArtifactory } from './artifactory.parser.js';
import { parseDistribution } from './distribution.parser.js';
import { parseDockerHub } from './dockerhub.parser.js';
import { parseEcr } from './ecr.parser.js';
import { parseGithub } from './github.parser.js';
import { parseHarbor } from './harbor.parser.js';
import { parseQuay } from './quay.parser.js';

/** One parser per registry type. */
export const PARSERS: Readonly<Record<RegistryType, RegistryParser>> = {
  distribution: parseDistribution,
  ecr: parseEcr,
  dockerhub: parseDockerHub,
  harbor: parseHarbor,
  github: parseGithub,
  quay: parseQuay,
  artifactory: parseArtifactory,
};
