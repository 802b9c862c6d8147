import type { Config } from '../config/config.schema.js';
import type { KeyValueStore } from '../registry/store.port.js';
import { MemoryStore } from '../store/memory-store.js';

/**
 * Builds the configured store: `memory` (default) or `dynamodb`. The DynamoDB client is built here, once, through the
 * SDK's standard chain (region from `store.region` or the environment, `AWS_ENDPOINT_URL_DYNAMODB` honoured); the
 * SDK is loaded only when used, so the memory path stays light.
 */
export async function createStore(store: Readonly<Config['store']>): Promise<KeyValueStore> {
  if (store.type === 'memory') return new MemoryStore({ maxKeysPerNamespace: store.maxKeysPerRegistry });
  const [{ DynamoDBClient }, { DynamoDBDocumentClient }, { DynamoDbStore }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/lib-dynamodb'),
    import('../store/dynamodb-store.js'),
  ]);
  const client = DynamoDBDocumentClient.from(new DynamoDBClient(store.region ? { region: store.region } : {}));
  return new DynamoDbStore({ client, tableName: store.tableName! });
}
