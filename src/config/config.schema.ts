import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/** Registry webhook sender types (one parser each under src/registry/parsers). */
export const REGISTRY_TYPES = ['distribution', 'ecr', 'dockerhub', 'harbor', 'github', 'quay', 'artifactory'] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];

const nonEmpty = { type: 'string', minLength: 1 } as const;

/** JSON Schema of the YAML config (after `${ENV}` interpolation); ajv fills defaults. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'server',
    'log',
    'limits',
    'metrics',
    'status',
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
        bodyBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 64 * 1024 * 1024,
          default: 1048576,
          description: 'Largest GoCD request body.',
        },
        webhookBodyBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 64 * 1024 * 1024,
          default: 262144,
          description: 'Largest registry webhook body (far below bodyBytes: real deliveries are a few KB).',
        },
        requestTimeoutSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          default: 30,
          description: "Longest time to receive a whole request, headers and body (Node's requestTimeout).",
        },
        connectionTimeoutSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          default: 120,
          description: "Longest socket inactivity before the connection is closed (Node's server.timeout).",
        },
        unauthenticatedBodies: {
          type: 'integer',
          minimum: 1,
          maximum: 10000,
          default: 16,
          description: 'Webhook bodies read at once before their sender is authenticated (HMAC-signed types).',
        },
        unauthenticatedBodySeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          default: 10,
          description: 'Longest time to read one such unauthenticated body (408 after it).',
        },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        token: {
          type: 'string',
          minLength: 16,
          description: 'GET /metrics needs Authorization: Bearer <token> when set.',
        },
      },
    },
    status: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['username'],
      description:
        'The read-only operator credential of GET /status: HTTP Basic (a browser asks for it) or a bearer token. It can launch nothing.',
      properties: {
        username: { type: 'string', minLength: 1, pattern: '^[^:]+$', default: 'operator' },
        password: {
          type: 'string',
          minLength: 16,
          description: 'Unset: only the forwarder tokens open /status. Falls back to $SCALER_STATUS_PASSWORD.',
        },
      },
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
              description:
                'Engines a backend docker cluster profile may name in docker_host; local is a profile naming none.',
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
            clusters: {
              type: 'array',
              items: nonEmpty,
              description: 'ECS clusters (names or ARNs) cluster profiles may name; absent: any.',
            },
            regions: {
              type: 'array',
              items: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$' },
              description: 'Regions cluster profiles may name; absent: any.',
            },
            accounts: {
              type: 'array',
              items: { type: 'string', pattern: '^\\d{12}$' },
              description: 'Accounts (of assume_role_arn and cluster ARNs) cluster profiles may name; absent: any.',
            },
          },
        },
        warmPool: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['maxPerProfile', 'maxPerCluster'],
          description: 'The most warm-pool agents elastic profiles may ask for (warm_pool_size is cut to these).',
          properties: {
            maxPerProfile: { type: 'integer', minimum: 0, maximum: 100, default: 10 },
            maxPerCluster: { type: 'integer', minimum: 0, maximum: 1000, default: 20 },
          },
        },
        allow: {
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['privileged', 'socketMount', 'hostNetwork', 'capabilities'],
          properties: {
            privileged: {
              type: 'boolean',
              default: false,
              description:
                'Full privilege (privileged/sidecar without capabilities, host devices, host pid/ipc namespaces).',
            },
            socketMount: {
              type: 'boolean',
              default: false,
              description: "The host's Docker socket and other host paths (socket mode).",
            },
            hostNetwork: {
              type: 'boolean',
              default: false,
              description: 'network: host / container:<name> (Docker) and networkMode: host (ECS task definitions).',
            },
            capabilities: {
              type: 'array',
              default: [],
              items: { type: 'string', pattern: '^(CAP_)?[A-Z_]{2,32}$' },
              description: 'Capabilities the capability form of privileged/sidecar may add without full privilege.',
            },
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
        secondaryForwarderToken: {
          type: 'string',
          minLength: 16,
          description:
            'Also accepted wherever forwarderToken is (rotation: set the new token here, roll the plugin setting in GoCD, then make it the only one).',
        },
        apiUrl: { type: 'string', pattern: '^https?://' },
        apiToken: { ...nonEmpty },
        scheduleRetryWindowSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 86400,
          default: 600,
          description: 'How long a 409/5xx schedule answer is retried before the trigger is reported failed.',
        },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['type', 'ttlDays'],
      properties: {
        type: { type: 'string', enum: ['memory', 'dynamodb'], default: 'memory' },
        tableName: { ...nonEmpty },
        region: { ...nonEmpty },
        ttlDays: { type: 'integer', minimum: 1, maximum: 3650, default: 30 },
        maxKeysPerRegistry: {
          type: 'integer',
          minimum: 100,
          maximum: 10_000_000,
          default: 100_000,
          description:
            'Memory store: live dedupe keys kept per registry entry; past it new deliveries are refused (503).',
        },
      },
    },
    ecs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['runTask', 'fleetViewMaxAgeSeconds'],
      properties: {
        runTask: {
          description: "ECS's RunTask/StartTask/StopTask bucket per account and Region (raise it with a raised quota).",
          type: 'object',
          additionalProperties: false,
          default: {},
          required: ['burst', 'refillPerSecond'],
          properties: {
            burst: { type: 'integer', minimum: 1, maximum: 100000, default: 100 },
            refillPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 100000, default: 40 },
          },
        },
        fleetViewMaxAgeSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 3600,
          default: 120,
          description:
            'The fleet view create-agent counts against max_agents is re-listed when older than this (server-ping: 60 s).',
        },
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
          name: {
            type: 'string',
            pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$',
            description: 'URL segment (/registry/<name>) and the first part of the GoCD material name.',
          },
          type: { type: 'string', enum: REGISTRY_TYPES },
          host: { ...nonEmpty, description: 'Host as it appears in image references.' },
          secret: {
            type: 'string',
            minLength: 8,
            description: 'Bearer token / HMAC key / path token / API-destination key, by type.',
          },
          secondarySecret: {
            type: 'string',
            minLength: 8,
            description: 'A second accepted secret, so the first can be rotated without downtime.',
          },
          header: {
            type: 'string',
            pattern: '^[A-Za-z0-9-]+$',
            description: 'Header carrying the secret for header-based types (default authorization, bearer scheme).',
          },
          apiUrl: {
            type: 'string',
            pattern: '^https?://',
            description:
              'Registry HTTP API v2 base URL for tag → digest resolution and polling (e.g. https://registry.example.com).',
          },
          username: { ...nonEmpty },
          password: { ...nonEmpty },
          region: { ...nonEmpty, description: 'ECR: region of the repositories.' },
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
          image: {
            ...nonEmpty,
            description: 'Image reference without tag (host/repo), exact or a glob (* within a segment, ** across).',
          },
          tags: { type: 'string', description: 'Tag regex, unanchored like the GoCD docker poller; default any tag.' },
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
} as const satisfies JSONSchema;

/**
 * The service config, as validated and defaulted: derived from `configSchema` (the one source; ajv fills the
 * defaults, so every key with a default is present).
 */
export type Config = FromSchema<typeof configSchema>;
/** One `registries` entry. */
export type RegistryConfig = Config['registries'][number];
/** One `subscriptions` entry. */
export type SubscriptionConfig = Config['subscriptions'][number];
/** How the service uses ECS: the request quotas it paces itself to, and how fresh its fleet view must be. */
export type EcsConfig = Config['ecs'];
/**
 * The operator policy (`policy:`): what cluster profiles may name and the most they may allow. A cluster profile comes
 * from GoCD's configuration and the request body, so it can only narrow this, never widen it.
 */
export type PolicyConfig = Config['policy'];
