import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryConfig, RegistryType } from '../../src/config/config.schema.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'registry');

/** The raw bytes of a registry fixture (see test/fixtures/registry/SOURCES.md). */
export function registryFixtureText(name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

/** A registry fixture, parsed (a fresh copy each call, so tests may derive variants). */
export function registryFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(registryFixtureText(name)) as T;
}

/** A registry entry as the config loader would produce it. */
export function registryEntry(type: RegistryType, overrides: Partial<RegistryConfig> = {}): RegistryConfig {
  return { name: type, type, host: `${type}.example.com`, secret: `secret-for-${type}-0123456789`, ...overrides };
}
