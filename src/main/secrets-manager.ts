import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, type ConfigProblem } from '../config/config-loader.js';

/** Suffix naming an environment variable whose value is a Secrets Manager secret id (ARN or name). */
export const SECRET_ARN_SUFFIX = '_SECRET_ARN';

/** Reads one secret's string; the default builds one Secrets Manager client (only when an ARN is set). */
export type SecretReader = (secretId: string) => Promise<string | undefined>;

/** The `X_SECRET_ARN` → `X` pairs of an environment, e.g. `GOCD_API_TOKEN_SECRET_ARN` → `GOCD_API_TOKEN`. */
export function secretReferences(env: NodeJS.ProcessEnv): { variable: string; secretId: string }[] {
  return Object.entries(env)
    .filter(([name, value]) => name.endsWith(SECRET_ARN_SUFFIX) && name.length > SECRET_ARN_SUFFIX.length && !!value)
    .map(([name, value]) => ({ variable: name.slice(0, -SECRET_ARN_SUFFIX.length), secretId: value as string }));
}

async function defaultReader(): Promise<SecretReader> {
  // Loaded lazily: a process with no `*_SECRET_ARN` variable never evaluates the SDK module.
  const sm = await import('@aws-sdk/client-secrets-manager');
  const client: SecretsManagerClient = new sm.SecretsManagerClient({});
  return async (secretId) => (await client.send(new sm.GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

/**
 * A copy of `env` where every `X_SECRET_ARN` is resolved into `X` from Secrets Manager (in parallel, once, at
 * start-up), so the config's `${X}` references work unchanged: `SCALER_FORWARDER_TOKEN_SECRET_ARN`,
 * `GOCD_API_TOKEN_SECRET_ARN`, and any registry secret (`REGISTRY_HOOK_SECRET_SECRET_ARN`). The secret wins over a
 * plain `X`, so a deployment cannot silently run on a stale literal. Every failure is reported together; a message
 * names the variable and the error class, never a value.
 */
export async function withSecretsFromManager(
  env: NodeJS.ProcessEnv,
  reader?: SecretReader,
): Promise<NodeJS.ProcessEnv> {
  const refs = secretReferences(env);
  if (refs.length === 0) return { ...env };
  const read = reader ?? (await defaultReader());
  const problems: ConfigProblem[] = [];
  const values = await Promise.all(
    refs.map(async ({ variable, secretId }) => {
      try {
        const value = await read(secretId);
        if (value === undefined || value === '') {
          problems.push({ path: `$${variable}${SECRET_ARN_SUFFIX}`, message: 'the secret has no SecretString value' });
        }
        return [variable, value] as const;
      } catch (err) {
        const e = err as Error;
        problems.push({ path: `$${variable}${SECRET_ARN_SUFFIX}`, message: `cannot read the secret: ${e.name}` });
        return [variable, undefined] as const;
      }
    }),
  );
  if (problems.length > 0) throw new ConfigError('Secrets Manager', problems);
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [variable, value] of values) out[variable] = value;
  return out;
}
