import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { inCI } from '../services.js';

// The AWS service model of ECS, read at test time from the botocore Python package installed on the machine
// (`botocore/data/ecs/2014-11-13/service-2.json(.gz)`): the same model that generates @aws-sdk/client-ecs. It is
// read, never copied into the repository, so the fake endpoint follows whatever botocore release is installed.

/** One shape of the model (Smithy-derived JSON as botocore ships it). */
export interface ModelShape {
  type:
    | 'structure'
    | 'list'
    | 'map'
    | 'string'
    | 'integer'
    | 'long'
    | 'double'
    | 'float'
    | 'boolean'
    | 'timestamp'
    | 'blob';
  required?: string[];
  members?: Record<string, { shape: string; idempotencyToken?: boolean }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  exception?: boolean;
}

/** The parts of the model the fake endpoint uses. */
export interface ServiceModel {
  /** Where it was read from, for messages. */
  source: string;
  metadata: { targetPrefix: string; apiVersion: string; protocol: string };
  operations: Record<string, { name: string; input?: { shape: string }; errors?: { shape: string }[] }>;
  shapes: Record<string, ModelShape>;
}

let cached: ServiceModel | null | undefined;

/** botocore's package directory, or undefined when Python or botocore is missing. */
export function botocoreDir(): string | undefined {
  try {
    return execFileSync('python3', ['-c', 'import botocore,os;print(os.path.dirname(botocore.__file__))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 20_000,
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The ECS service model from the installed botocore, or undefined (after a loud warning) when it is missing. Under
 * `CI=true` a missing model is a failure: the strict endpoint must not silently lose its model checks.
 */
export function loadEcsServiceModel(): ServiceModel | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const dir = botocoreDir();
  const base = dir ? join(dir, 'data', 'ecs', '2014-11-13') : undefined;
  const file = base && [join(base, 'service-2.json.gz'), join(base, 'service-2.json')].find((f) => existsSync(f));
  if (!file) {
    const why = `the ECS service model of botocore is not installed (python3 -c "import botocore" ${dir ? `found ${dir} but no data/ecs/2014-11-13/service-2.json(.gz)` : 'failed'}); install it with 'pip install botocore' or 'apt-get install python3-botocore'`;
    if (inCI) throw new Error(`CI=true but ${why}`);
    console.warn(`[skip] ${why} — the fake ECS endpoint runs without service-model validation`);
    cached = null;
    return undefined;
  }
  const raw = readFileSync(file);
  const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  const model = JSON.parse(text) as Omit<ServiceModel, 'source'>;
  cached = { ...model, source: file };
  return cached;
}
