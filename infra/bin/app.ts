import { relative } from 'node:path';
import { REPO_ROOT, synthScalerApp } from '../lib/scaler-app.js';

// `npm run synth`: bundle, then write the template to infra/cdk.out (deploy it with `npx cdk deploy --app infra/cdk.out`).
const { templateFile, stackName } = synthScalerApp();
process.stdout.write(`${stackName}: ${relative(REPO_ROOT, templateFile)}\n`);
