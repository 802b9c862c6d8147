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
  gocd-agent-scaler rerun <registry> <image>:<tag>[@<digest>] <pipeline>
                                          run a trigger again that GoCD refused, once the pipeline is fixed
  gocd-agent-scaler --version | -h | --help
  gocd-agent-scaler <command> --help      what a command does, its arguments and exit codes
`;

/** Each command's own help (`<command> -h|--help`, `help <command>`). */
const HELP: Readonly<Record<string, string>> = {
  serve: `Usage: gocd-agent-scaler serve

Starts the service and listens until SIGTERM/SIGINT.

Environment:
  SCALER_CONFIG            YAML or JSON config file (unset: built-in defaults, Docker backend, memory store)
  HOST, PORT               where to listen (default 127.0.0.1:8080); set, they win over the file's server.host/port
  SCALER_FORWARDER_TOKEN   the forwarder plugin's bearer token (unset: one is generated and printed once, on stderr)
  SCALER_STATUS_PASSWORD   read-only operator login of GET /status (user: status.username, default operator)

Exit codes: 1 it could not listen (the address is in use, or not allowed), 2 the config has problems.
`,
  'check-config': `Usage: gocd-agent-scaler check-config <file>

Reports every problem of a config file in one pass (schema and semantic: duplicate registry names, tag regexes …),
each with the path of the bad key; when it is valid, prints it with its secrets masked and the operator policy.

Exit codes: 0 valid, 1 problems found, 2 no file given or unreadable.
`,
  rerun: `Usage: gocd-agent-scaler rerun <registry> <image>:<tag>[@<digest>] <pipeline> [--url <service url>]

Runs a registry trigger again that GoCD refused (404/403/422, or busy past the retry window), once the pipeline is
fixed: a redelivery of the push cannot, its trigger counts as done. The values are those of the failed row of the
trigger report (GoCD's plugin status report, or /status, which prints this command). Asks the running service
(POST /triggers/rerun, default http://<server.host>:<server.port> from $SCALER_CONFIG), authenticated with the
config's gocd.apiToken.

Exit codes: 0 scheduled, 1 not scheduled (the answer says why), 2 usage or config problems.
`,
  doctor: `Usage: gocd-agent-scaler doctor [<file>]

With a config ($SCALER_CONFIG by default), reaches the Docker engine, GoCD's API (and its token), each cluster
profile's ECS cluster or Docker engine, and checks that subscribed pipelines declare the variables GoCD requires.
A peer that cannot be reached is shown with the cause (connection refused, DNS, TLS, timeout).

Exit codes: 0 nothing failed, 1 something failed, 2 the config has problems.
`,
};

const isHelp = (arg: string | undefined) => arg === '-h' || arg === '--help';

/** Exit codes: 0 ok, 1 the config (or a checked service) has problems, 2 usage or unreadable input. */
export async function runCli(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [command, ...args] = argv;
  const help = command === undefined ? undefined : HELP[command];
  if (help !== undefined && args.some(isHelp)) {
    out(help);
    return 0;
  }
  switch (command) {
    case 'serve': {
      const { startServer, StartError } = await import('./serve.js');
      try {
        await startServer();
        return 0;
      } catch (e) {
        if (e instanceof StartError) {
          err(`${e.message}\n`);
          return e.exitCode;
        }
        throw e;
      }
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
    case 'rerun': {
      const { rerun } = await import('./rerun-command.js');
      return rerun(args, out, err);
    }
    case '--version':
    case 'version':
      out(`${VERSION}\n`);
      return 0;
    case 'help': {
      const about = args[0] === undefined ? USAGE : HELP[args[0]];
      if (about === undefined) {
        err(`no command '${args[0]}'\n${USAGE}`);
        return 2;
      }
      out(about);
      return 0;
    }
    case undefined:
    case '-h':
    case '--help':
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
      // A listening server keeps the process alive; anything else (serve's start-up failures too) exits.
      if (process.argv[2] !== 'serve' || code !== 0) process.exit(code);
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
