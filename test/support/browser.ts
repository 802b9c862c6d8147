import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { requireService } from './services.js';

/** Debian's Chromium, which playwright-core drives (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';

/** True when Chromium is installed; false (printed, or a failure under CI=true) otherwise. */
export function chromiumAvailable(): boolean {
  return requireService(
    'Chromium',
    existsSync(CHROMIUM),
    "apt-get install chromium (Debian's package; .ci/run installs it)",
  );
}

/** Headless Chromium with nothing that reaches the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
