import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { BackendUnavailableError } from '../errors.js';
import type { KeyValueStore } from '../registry/store.port.js';

export interface DynamoDbStoreOptions {
  /** The DocumentClient, built by the composition root (never here). */
  client: DynamoDBDocumentClient;
  /** Table with partition key `pk` (string) and DynamoDB TTL enabled on `expiresAt`. */
  tableName: string;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

/** Attribute names of the table: partition key, value, and the TTL attribute (epoch seconds). */
export const DYNAMODB_STORE_ATTRIBUTES = { key: 'pk', value: 'v', expiresAt: 'expiresAt' } as const;

/**
 * The shared store (Lambda, several processes): conditional writes make claims atomic across callers.
 * DynamoDB's TTL deletes expired items only eventually (often days later), so every read and every conditional
 * write also checks `expiresAt` itself: an expired item counts as absent.
 */
export class DynamoDbStore implements KeyValueStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: DynamoDbStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private expiry(ttlSeconds: number): number {
    return this.nowSeconds() + Math.max(1, Math.ceil(ttlSeconds));
  }

  async get(key: string): Promise<string | undefined> {
    const out = await this.call('GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.table, Key: { pk: key }, ConsistentRead: true })),
    );
    const item = out.Item as { v?: unknown; expiresAt?: unknown } | undefined;
    if (!item || typeof item.v !== 'string') return undefined;
    if (typeof item.expiresAt === 'number' && item.expiresAt <= this.nowSeconds()) return undefined;
    return item.v;
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.call('PutItem', () =>
      this.client.send(
        new PutCommand({ TableName: this.table, Item: { pk: key, v: value, expiresAt: this.expiry(ttlSeconds) } }),
      ),
    );
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: key, v: value, expiresAt: this.expiry(ttlSeconds) },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': this.nowSeconds() },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw unavailable('PutItem', err);
    }
  }

  async delete(key: string, ifValue?: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: key },
          ...(ifValue === undefined
            ? {}
            : {
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'v' },
                ExpressionAttributeValues: { ':v': ifValue },
              }),
        }),
      );
    } catch (err) {
      // Someone else's value now: not ours to delete.
      if (err instanceof ConditionalCheckFailedException) return;
      throw unavailable('DeleteItem', err);
    }
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(operation, err);
    }
  }
}

function unavailable(operation: string, err: unknown): BackendUnavailableError {
  const e = err as { name?: string; message?: string };
  return new BackendUnavailableError(
    `DynamoDB ${operation} failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`,
    {
      cause: err,
    },
  );
}
