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

/** How the service uses ECS: the request quotas it paces itself to, and how fresh its fleet view must be. */
export interface EcsConfig {
  /** ECS's RunTask/StartTask/StopTask bucket per account and Region (raise it with a raised quota). */
  runTask: { burst: number; refillPerSecond: number };
  /** The fleet view create-agent counts against max_agents is re-listed when older than this (server-ping: 60 s). */
  fleetViewMaxAgeSeconds: number;
}

/**
 * The operator policy (`policy:`): what cluster profiles may name and the most they may allow. A cluster profile comes
 * from GoCD's configuration and the request body, so it can only narrow this, never widen it.
 */
export interface PolicyConfig {
  docker: {
    /** Engines a `backend: docker` cluster profile may name in `docker_host`; `local` is a profile naming none. */
    engines: string[];
  };
  ecs: {
    /** ECS clusters (names or ARNs) cluster profiles may name; absent: any. */
    clusters?: string[];
    /** Regions cluster profiles may name; absent: any. */
    regions?: string[];
    /** Accounts (of `assume_role_arn` and cluster ARNs) cluster profiles may name; absent: any. */
    accounts?: string[];
  };
  /** The most a cluster profile may allow. */
  allow: {
    /** Full privilege (`privileged`/`sidecar` without capabilities, host devices, host pid/ipc namespaces). */
    privileged: boolean;
    /** The host's Docker socket and other host paths (`socket` mode). */
    socketMount: boolean;
    /** `network: host` / `container:<name>` (Docker) and `networkMode: host` (ECS task definitions). */
    hostNetwork: boolean;
    /** Capabilities the capability form of `privileged`/`sidecar` may add without full privilege. */
    capabilities: string[];
  };
}

export interface Config {
  server: { host: string; port: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  limits: {
    /** Largest GoCD request body. */
    bodyBytes: number;
    /** Largest registry webhook body (far below bodyBytes: real deliveries are a few KB). */
    webhookBodyBytes: number;
    /** Longest time to receive a whole request, headers and body (Node's `requestTimeout`). */
    requestTimeoutSeconds: number;
    /** Longest socket inactivity before the connection is closed (Node's `server.timeout`). */
    connectionTimeoutSeconds: number;
    /** Webhook bodies read at once before their sender is authenticated (HMAC-signed types). */
    unauthenticatedBodies: number;
    /** Longest time to read one such unauthenticated body (408 after it). */
    unauthenticatedBodySeconds: number;
  };
  /** `GET /metrics`: open, or behind `Authorization: Bearer <token>` when a token is set. */
  metrics: { token?: string };
  policy: PolicyConfig;
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
  required: [
    'server',
    'log',
    'limits',
    'metrics',
    'policy',
    'gocd',
    'store',
    'ecs',
    'registries',
    'subscriptions',
    'poll',
  ],
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
      required: [
        'bodyBytes',
        'webhookBodyBytes',
        'requestTimeoutSeconds',
        'connectionTimeoutSeconds',
        'unauthenticatedBodies',
        'unauthenticatedBodySeconds',
      ],
      properties: {
        bodyBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1048576 },
        webhookBodyBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 262144 },
        requestTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 30 },
        connectionTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 120 },
        unauthenticatedBodies: { type: 'integer', minimum: 1, maximum: 10000, default: 16 },
        unauthenticatedBodySeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 10 },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { token: { type: 'string', minLength: 16, nullable: true } },
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['docker', 'ecs', 'allow'],
      properties: {
        docker: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['engines'],
          properties: {
            engines: {
              type: 'array',
              default: ['local'],
              items: { type: 'string', pattern: '^(local|unix:///\\S*|(tcp|http)://\\S+)$' },
            },
          },
        },
        ecs: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            clusters: { type: 'array', nullable: true, items: nonEmpty },
            regions: { type: 'array', nullable: true, items: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$' } },
            accounts: { type: 'array', nullable: true, items: { type: 'string', pattern: '^\\d{12}$' } },
          },
        },
        allow: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['privileged', 'socketMount', 'hostNetwork', 'capabilities'],
          properties: {
            privileged: { type: 'boolean', default: false },
            socketMount: { type: 'boolean', default: false },
            hostNetwork: { type: 'boolean', default: false },
            capabilities: { type: 'array', default: [], items: { type: 'string', pattern: '^(CAP_)?[A-Z_]{2,32}$' } },
          },
        },
      },
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
      required: ['runTask', 'fleetViewMaxAgeSeconds'],
      properties: {
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
export const SECRET_KEYS = new Set(['forwarderToken', 'apiToken', 'secret', 'secondarySecret', 'password', 'token']);
