import type { components } from './generated/gocd-messages.js';

// The GoCD side of the HTTP contract: the shapes openapi.yaml gives GoCD's messages and the forwarder's replies,
// as types generated from it (npm run generate). The lowest layer: the lifecycle, the GoCD handlers and the routes
// all take their message types from here, so openapi.yaml is their one source.

/** The shapes of openapi.yaml's `components.schemas`. */
export type GocdSchemas = components['schemas'];
