import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { DEFAULT_SERVICE_CONFIG, ScalerStack } from './scaler-stack.js';
import { loadStackConfig } from './stack-config.js';

/** Repository root (this file lives in `infra/lib/`). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where a synth run reads from and writes to. */
export interface SynthOptions {
  /** Stack config JSON; default `$SCALER_INFRA_CONFIG`, else `infra/scaler.config.json` when present. */
  configFile?: string;
  /** Cloud assembly folder; default `infra/cdk.out`. */
  outdir?: string;
  /** Bundle folder; default `dist/lambda` (`npm run bundle`). */
  lambdaDir?: string;
}

/**
 * Builds the CDK app and writes the CloudFormation template (`<outdir>/<stack>.template.json`) without AWS
 * credentials or the CDK CLI: nothing is looked up, account and region stay tokens unless the config sets them.
 */
export function synthScalerApp(options: SynthOptions = {}): { templateFile: string; stackName: string } {
  const explicit = options.configFile ?? process.env.SCALER_INFRA_CONFIG;
  const config = loadStackConfig(explicit ?? join(REPO_ROOT, 'infra', 'scaler.config.json'), explicit !== undefined);
  const lambdaDir = options.lambdaDir ?? join(REPO_ROOT, 'dist', 'lambda');
  if (config.lambda && !existsSync(join(lambdaDir, 'index.mjs'))) {
    throw new Error(`${lambdaDir}/index.mjs is missing: run \`npm run bundle\` first (npm run synth does)`);
  }
  const serviceConfigYaml = config.serviceConfigFile
    ? readFileSync(resolve(REPO_ROOT, config.serviceConfigFile), 'utf8')
    : DEFAULT_SERVICE_CONFIG;
  const app = new App({ outdir: options.outdir ?? join(REPO_ROOT, 'infra', 'cdk.out') });
  const stack = new ScalerStack(app, config.stackName, {
    config,
    lambdaDir,
    serviceConfigYaml,
    ...(config.account || config.region ? { env: { account: config.account, region: config.region } } : {}),
  });
  const assembly = app.synth();
  return { templateFile: join(assembly.directory, stack.templateFile), stackName: stack.stackName };
}
