import type { SchemaObject } from 'ajv';
import type { RegistryType } from '../../config/config.schema.js';
import type { RegistryParser } from '../image-pushed.js';
import { artifactoryShape, parseArtifactory } from './artifactory.parser.js';
import { distributionShape, parseDistribution } from './distribution.parser.js';
import { dockerHubShape, parseDockerHub } from './dockerhub.parser.js';
import { ecrShape, parseEcr } from './ecr.parser.js';
import { githubShapes, parseGithub } from './github.parser.js';
import { harborCloudEventShape, harborDefaultShape, parseHarbor } from './harbor.parser.js';
import { parseQuay, quayShape } from './quay.parser.js';

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

/**
 * Every payload shape the parsers check, by the name they check it under: scripts/generate.ts compiles each ahead of
 * time (src/registry/generated/shape-validators.ts), so no schema is compiled at run time.
 */
export const PARSER_SHAPES: Readonly<Record<string, SchemaObject>> = {
  distribution: distributionShape,
  ecr: ecrShape,
  dockerhub: dockerHubShape,
  'harbor-default': harborDefaultShape,
  'harbor-cloudevents': harborCloudEventShape,
  'github-package': githubShapes.package,
  'github-registry_package': githubShapes.registry_package,
  quay: quayShape,
  artifactory: artifactoryShape,
};
