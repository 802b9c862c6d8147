import type { SchemaObject } from 'ajv';

/** Registry webhook sender types (one parser each under src/registry/parsers). */
export const REGISTRY_TYPES = ['distribution', 'ecr', 'dockerhub', 'harbor', 'github', 'quay', 'artifactory'] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];

export interface RegistryConfig {
  /** URL segment (`/registry/<name>`) and the first part of the GoCD material name. */
  name: string;
  type: RegistryType;
  /** Host as it appears in image references. */
  host: string;
  /** Bearer token / HMAC key / path token / API-destination key, by type. */
  secret: string;
  /** A second accepted secret, so the first can be rotated without downtime. */
  secondarySecret?: string;
  /** Header carrying the secret for header-based types (default `authorization`, bearer scheme). */
  header?: string;
  /** Registry HTTP API v2 base URL for tag → digest resolution and polling (e.g. `https://registry.example.com`). */
  apiUrl?: string;
  username?: string;
  password?: string;
  /** ECR: region of the repositories. */
  region?: string;
}

export interface SubscriptionConfig {
  /** Image reference without tag (`host/repo`), exact or a glob (`*` within a segment, `**` across). */
  image: string;
  /** Tag regex, unanchored like the GoCD docker poller; default any tag. */
  tags?: string;
  pipelines: string[];
}

/** How the service uses ECS: where this deployment may launch, and ECS's request quotas it paces itself to. */
export interface EcsConfig {
  /** ECS clusters this deployment may launch in (its IAM policy's); empty = any. Env `SCALER_ECS_CLUSTERS`. */
  clusters: string[];
  /** Regions this deployment may launch in; empty = any. Env `SCALER_ECS_REGIONS`. */
  regions: string[];
  /** ECS's RunTask/StartTask/StopTask bucket per account and Region (raise it with a raised quota). */
  runTask: { burst: number; refillPerSecond: number };
  /** The fleet view create-agent counts against max_agents is re-listed when older than this (server-ping: 60 s). */
  fleetViewMaxAgeSeconds: number;
}

export interface Config {
  server: { host: string; port: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  limits: { bodyBytes: number };
  gocd: {
    forwarderToken: string;
    apiUrl?: string;
    apiToken?: string;
    /** How long a 409/5xx schedule answer is retried before the trigger is reported failed. */
    scheduleRetryWindowSeconds: number;
  };
  store: {
    type: 'memory' | 'dynamodb';
    tableName?: string;
    region?: string;
    ttlDays: number;
    /** Memory store: live dedupe keys kept per registry entry; past it new deliveries are refused (503). */
    maxKeysPerRegistry: number;
  };
  ecs: EcsConfig;
  registries: RegistryConfig[];
  subscriptions: SubscriptionConfig[];
  poll: { intervalSeconds: number };
}

const nonEmpty = { type: 'string', minLength: 1 } as const;

/** JSON Schema of the YAML config (after `${ENV}` interpolation); ajv fills defaults. */
export const configSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['server', 'log', 'limits', 'gocd', 'store', 'ecs', 'registries', 'subscriptions', 'poll'],
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['host', 'port'],
      properties: {
        host: { type: 'string', minLength: 1, default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['level'],
      properties: {
        level: {
          type: 'string',
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['bodyBytes'],
      properties: { bodyBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1048576 } },
    },
    gocd: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['forwarderToken', 'scheduleRetryWindowSeconds'],
      properties: {
        forwarderToken: { type: 'string', minLength: 16 },
        apiUrl: { type: 'string', nullable: true, pattern: '^https?://' },
        apiToken: { ...nonEmpty, nullable: true },
        scheduleRetryWindowSeconds: { type: 'integer', minimum: 0, maximum: 86400, default: 600 },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['type', 'ttlDays'],
      properties: {
        type: { type: 'string', enum: ['memory', 'dynamodb'], default: 'memory' },
        tableName: { ...nonEmpty, nullable: true },
        region: { ...nonEmpty, nullable: true },
        ttlDays: { type: 'integer', minimum: 1, maximum: 3650, default: 30 },
        maxKeysPerRegistry: { type: 'integer', minimum: 100, maximum: 10_000_000, default: 100_000 },
      },
    },
    ecs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['clusters', 'regions', 'runTask', 'fleetViewMaxAgeSeconds'],
      properties: {
        clusters: { type: 'array', default: [], items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,255}$' } },
        regions: { type: 'array', default: [], items: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$' } },
        runTask: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['burst', 'refillPerSecond'],
          properties: {
            burst: { type: 'integer', minimum: 1, maximum: 100000, default: 100 },
            refillPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 100000, default: 40 },
          },
        },
        fleetViewMaxAgeSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: 120 },
      },
    },
    registries: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'host', 'secret'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$' },
          type: { type: 'string', enum: [...REGISTRY_TYPES] },
          host: nonEmpty,
          secret: { type: 'string', minLength: 8 },
          secondarySecret: { type: 'string', minLength: 8, nullable: true },
          header: { type: 'string', pattern: '^[A-Za-z0-9-]+$', nullable: true },
          apiUrl: { type: 'string', pattern: '^https?://', nullable: true },
          username: { ...nonEmpty, nullable: true },
          password: { ...nonEmpty, nullable: true },
          region: { ...nonEmpty, nullable: true },
        },
      },
    },
    subscriptions: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['image', 'pipelines'],
        properties: {
          image: nonEmpty,
          tags: { type: 'string', nullable: true },
          pipelines: { type: 'array', minItems: 1, items: nonEmpty },
        },
      },
    },
    poll: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['intervalSeconds'],
      properties: { intervalSeconds: { type: 'integer', minimum: 0, maximum: 86400, default: 0 } },
    },
  },
};

/** Config keys whose values are secrets: masked whenever the config is shown or logged. */
export const SECRET_KEYS = new Set(['forwarderToken', 'apiToken', 'secret', 'secondarySecret', 'password']);
