import { ConfigError } from '../config/config-loader.js';
import { startServer } from './serve.js';

// Process entry (`npm start`): everything lives in serve.ts so the CLI's `serve` shares it.
startServer().catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err))}\n`);
  process.exit(1);
});
