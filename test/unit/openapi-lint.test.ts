import { describe, expect, it } from 'vitest';
import { lintOpenApi } from '../../scripts/lint-openapi.js';

describe('openapi.yaml', () => {
  it("passes Redocly's recommended OpenAPI rules (redocly.yaml) with no error and no warning", async () => {
    const problems = await lintOpenApi();
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  }, 60_000);
});
