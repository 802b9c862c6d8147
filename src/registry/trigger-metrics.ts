/** The counters registry triggers feed; implemented over prom-client by the composition root. */
export interface TriggerMetrics {
  /** One registry notification item by registry type and outcome (triggered, duplicate, ignored, unmatched, rejected). */
  registryEvent(
    source: string,
    outcome: 'triggered' | 'duplicate' | 'ignored' | 'unmatched' | 'rejected',
    count?: number,
  ): void;
  /** One pipeline trigger by final outcome (scheduled, failed, released). */
  trigger(outcome: 'scheduled' | 'failed' | 'released'): void;
}

/** Metrics that go nowhere (tests, tools). */
export const NO_TRIGGER_METRICS: TriggerMetrics = {
  registryEvent: () => undefined,
  trigger: () => undefined,
};
