#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describePolicy } from '../agents/policy.js';
import { ConfigError, maskSecrets } from '../config/config-loader.js';
import { parseConfig } from '../config/config-text.js';
import { VERSION } from '../version.js';

const USAGE = `gocd-agent-scaler ${VERSION}

Usage:
  gocd-agent-scaler serve                 start the service (config from $SCALER_CONFIG)
  gocd-agent-scaler check-config <file>   report every problem of a config file, with the path of the bad key
  gocd-agent-scaler doctor [<file>]       reach the Docker engine, GoCD's API and each cluster profile's ECS cluster
                                          or Docker engine with a config ($SCALER_CONFIG by default); say what works
  gocd-agent-scaler --version | --help
`;

/** Exit codes: 0 ok, 1 the config (or a checked service) has problems, 2 usage or unreadable input. */
export async function runCli(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve': {
      const { startServer } = await import('./serve.js');
      await startServer();
      return 0;
    }
    case 'check-config': {
      const file = args[0];
      if (!file) {
        err('check-config needs a file: gocd-agent-scaler check-config <file>\n');
        return 2;
      }
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        err(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        return 2;
      }
      try {
        // A missing forwarder token is fine here: `serve` generates one; Lambda refuses (allowGeneratedToken: false).
        const { config, generatedForwarderToken } = parseConfig(text, file);
        out(`${file}: OK\n`);
        if (generatedForwarderToken)
          out('  note: no forwarder token configured; `serve` would generate one per process\n');
        out(
          `  ${config.registries.length} registries, ${config.subscriptions.length} subscriptions, store ${config.store.type}\n`,
        );
        out(`  policy: ${describePolicy(config.policy)}\n`);
        out(`${JSON.stringify(maskSecrets(config), null, 2)}\n`);
        return 0;
      } catch (e) {
        if (e instanceof ConfigError) {
          err(`${file}: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}\n`);
          for (const p of e.problems) err(`  ${p.path || '/'}: ${p.message}\n`);
          return 1;
        }
        throw e;
      }
    }
    case 'doctor': {
      const { doctor } = await import('./doctor-command.js');
      return doctor(args[0], out, err);
    }
    case '--version':
    case 'version':
      out(`${VERSION}\n`);
      return 0;
    case undefined:
    case '--help':
    case 'help':
      out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      err(`unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

// Run only when executed (directly or through the npm bin link), not when imported by tests.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runCli(
    process.argv.slice(2),
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  ).then(
    (code) => {
      if (process.argv[2] !== 'serve') process.exit(code);
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
