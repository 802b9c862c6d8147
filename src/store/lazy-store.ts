import type { KeyValueStore } from '../registry/store.port.js';

/**
 * A store built on first use. In Lambda most invocations are GoCD requests, which never touch the store: loading
 * and configuring the DynamoDB client at init would make every cold start pay for what only registry events use.
 * A failed construction is not kept, so the next call tries again.
 */
export class LazyStore implements KeyValueStore {
  private store: Promise<KeyValueStore> | undefined;

  constructor(private readonly build: () => Promise<KeyValueStore>) {}

  private resolve(): Promise<KeyValueStore> {
    if (!this.store) {
      const building = this.build();
      this.store = building;
      building.catch(() => {
        if (this.store === building) this.store = undefined;
      });
    }
    return this.store;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.resolve()).get(key);
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    await (await this.resolve()).put(key, value, ttlSeconds);
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.resolve()).putIfAbsent(key, value, ttlSeconds);
  }

  async delete(key: string, ifValue?: string): Promise<void> {
    await (await this.resolve()).delete(key, ifValue);
  }
}
