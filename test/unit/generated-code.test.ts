import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../../scripts/generate.js';
import { configSchema } from '../../src/config/config.schema.js';
import { SECRET_CONFIG_KEYS } from '../../src/security/secret-keys.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('generated code (scripts/generate.ts)', () => {
  it('is what the generator writes from openapi.yaml and the config schema now (run `npm run generate` after a change)', async () => {
    const files = await generatedFiles();
    expect(files.size).toBeGreaterThan(0);
    for (const [path, content] of files) {
      expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale`).toBe(content);
    }
  });
});

describe('the secret key list', () => {
  /** Every property name of a JSON Schema, with the schema it names. */
  function properties(schema: unknown, out: [string, Record<string, unknown>][] = []): typeof out {
    if (!schema || typeof schema !== 'object') return out;
    const s = schema as Record<string, unknown>;
    for (const [name, sub] of Object.entries((s.properties as Record<string, unknown>) ?? {})) {
      out.push([name, sub as Record<string, unknown>]);
      properties(sub, out);
    }
    if (s.items) properties(s.items, out);
    return out;
  }

  it('names config keys that exist and hold strings, and every token, secret or password key of the schema is in it', () => {
    const all = properties(configSchema);
    for (const key of SECRET_CONFIG_KEYS) {
      const found = all.filter(([name]) => name === key);
      expect(found.length, key).toBeGreaterThan(0);
      for (const [, sub] of found) expect(sub.type, key).toBe('string');
    }
    const credentialLike = all.map(([name]) => name).filter((n) => /token|secret|password|key$/i.test(n));
    expect(new Set(credentialLike)).toEqual(new Set(SECRET_CONFIG_KEYS));
  });
});
