import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-loader.js';
import { secretReferences, withSecretsFromManager } from '../../src/main/secrets-manager.js';

const sm = mockClient(SecretsManagerClient);
const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

afterEach(() => sm.reset());

describe('Secrets Manager environment adapter', () => {
  it('maps every X_SECRET_ARN to X, ignoring empty ones', () => {
    expect(
      secretReferences({
        SCALER_FORWARDER_TOKEN_SECRET_ARN: ARN('fwd'),
        GOCD_API_TOKEN_SECRET_ARN: ARN('gocd'),
        REGISTRY_HOOK_SECRET_SECRET_ARN: ARN('hook'),
        EMPTY_SECRET_ARN: '',
        _SECRET_ARN: ARN('nameless'),
        PATH: '/usr/bin',
      }),
    ).toEqual([
      { variable: 'SCALER_FORWARDER_TOKEN', secretId: ARN('fwd') },
      { variable: 'GOCD_API_TOKEN', secretId: ARN('gocd') },
      { variable: 'REGISTRY_HOOK_SECRET', secretId: ARN('hook') },
    ]);
  });

  it('reads each secret once through the SDK and sets the plain variable, the secret winning over a literal', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN('fwd') }).resolves({
      SecretString: 'from-secrets-manager-0123456789',
    });
    sm.on(GetSecretValueCommand, { SecretId: ARN('gocd') }).resolves({ SecretString: 'gocd-token' });
    const env = await withSecretsFromManager({
      SCALER_FORWARDER_TOKEN: 'stale-literal',
      SCALER_FORWARDER_TOKEN_SECRET_ARN: ARN('fwd'),
      GOCD_API_TOKEN_SECRET_ARN: ARN('gocd'),
      HOME: '/root',
    });
    expect(env).toMatchObject({
      SCALER_FORWARDER_TOKEN: 'from-secrets-manager-0123456789',
      GOCD_API_TOKEN: 'gocd-token',
      HOME: '/root',
    });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('builds no client and copies the environment when no secret is referenced', async () => {
    const input = { SCALER_FORWARDER_TOKEN: 'x'.repeat(20) };
    const env = await withSecretsFromManager(input);
    expect(env).toEqual(input);
    expect(env).not.toBe(input);
    expect(sm.calls()).toHaveLength(0);
  });

  it('reports every unreadable or empty secret at once, by variable, never with a value', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN('fwd') }).rejects(
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
    );
    sm.on(GetSecretValueCommand, { SecretId: ARN('gocd') }).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    sm.on(GetSecretValueCommand, { SecretId: ARN('ok') }).resolves({ SecretString: 'very-secret-value' });
    const err = await withSecretsFromManager({
      SCALER_FORWARDER_TOKEN_SECRET_ARN: ARN('fwd'),
      GOCD_API_TOKEN_SECRET_ARN: ARN('gocd'),
      HOOK_SECRET_ARN: ARN('ok'),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toContain('$SCALER_FORWARDER_TOKEN_SECRET_ARN: cannot read the secret: ResourceNotFoundException');
    expect(message).toContain('$GOCD_API_TOKEN_SECRET_ARN: the secret has no SecretString value');
    expect(message).not.toContain('very-secret-value');
  });
});
