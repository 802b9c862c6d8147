// Vitest setup: nothing global yet beyond making CI mode visible in the output.
if (process.env.CI === 'true' && !(globalThis as { __ciNoted?: boolean }).__ciNoted) {
  (globalThis as { __ciNoted?: boolean }).__ciNoted = true;
}
