// Writes the forwarder's built-in answers to GoCD's loader-time requests (src/gocd/loader-requests.ts): each one asked
// of the service's own app in-process, status and body kept byte for byte. gocd-plugin/build.sh runs this and packs
// the file into the jar, so the service's code stays the one source of these answers.
// Usage: node --import tsx scripts/plugin-loader-answers.ts <output.json>
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parseConfig } from '../src/config/config-text.js';
import { LOADER_REQUEST_NAMES } from '../src/gocd/loader-requests.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/main/composition.js';
import { VERSION } from '../src/version.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: plugin-loader-answers.ts <output.json>');
  process.exit(2);
}

const token = randomBytes(24).toString('hex');
const { config } = parseConfig('', 'plugin-loader-answers', { env: { SCALER_FORWARDER_TOKEN: token } });
const logger = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
const noBackend = {
  forCluster: async () => {
    throw new Error('loader-time answers never reach a backend');
  },
};
const services = await createServices(config, logger, { withDocker: false, backends: noBackend });
const app = buildApp({ config, logger, version: VERSION, ...services });

const answers: Record<string, { status: number; body: string }> = {};
for (const name of LOADER_REQUEST_NAMES) {
  // As the forwarder forwards a body-less GoCD request: an empty body with a JSON content type.
  const res = await app.inject({
    method: 'POST',
    url: `/gocd/requests/${name}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: '',
  });
  answers[name] = { status: res.statusCode, body: res.body };
}
await app.close();
writeFileSync(out, `${JSON.stringify({ service: `gocd-agent-scaler ${VERSION}`, answers }, null, 2)}\n`);
