import { describe, expect, it } from 'vitest';
import { dedupeKeys } from '../../src/registry/dedupe-keys.js';

describe('trigger dedupe keys', () => {
  it('keeps each key in the namespace of its registry entry', () => {
    expect(dedupeKeys.delivery('hub', 'id-1')).toBe('hub|dlv|id-1');
    expect(dedupeKeys.trigger('hub', 'deploy', 'docker.io/team/app', '1.0', 'sha256:ab')).toBe(
      'hub|trg|deploy|docker.io/team/app:1.0@sha256:ab',
    );
    expect(dedupeKeys.seen('hub', 'docker.io/team/app', '1.0')).toBe('hub|seen|docker.io/team/app:1.0');
  });

  it('gives two deliveries, two triggers and two baselines two keys whenever any part differs', () => {
    const deliveries = [dedupeKeys.delivery('a', 'x'), dedupeKeys.delivery('b', 'x'), dedupeKeys.delivery('a', 'y')];
    expect(new Set(deliveries).size).toBe(3);
    const base = ['r', 'p', 'img', 't', 'd'] as const;
    const triggers = base.map((_, i) =>
      dedupeKeys.trigger(...(base.map((v, j) => (j === i ? `${v}2` : v)) as [string, string, string, string, string])),
    );
    expect(new Set([dedupeKeys.trigger(...base), ...triggers]).size).toBe(6);
    const seen = [
      dedupeKeys.seen('r', 'img', 't'),
      dedupeKeys.seen('r2', 'img', 't'),
      dedupeKeys.seen('r', 'img', 't2'),
    ];
    expect(new Set(seen).size).toBe(3);
  });

  it('never lets a delivery key, a trigger key and a baseline key of one registry collide', () => {
    const keys = [
      dedupeKeys.delivery('r', 'x'),
      dedupeKeys.trigger('r', 'x', 'x', 'x', 'x'),
      dedupeKeys.seen('r', 'x', 'x'),
    ];
    expect(new Set(keys).size).toBe(3);
  });
});
