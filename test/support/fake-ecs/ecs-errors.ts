// Errors as ECS sends them on the awsJson1_1 wire: HTTP 400 (5xx for ServerException) with
// `{"__type": "com.amazonaws.ecs#<Code>", "message": …}`. Codes are the ones the service model declares for each
// operation (botocore ecs/2014-11-13 `operations.<Op>.errors`), plus the protocol-level ones every AWS JSON service
// may answer (SerializationException, ThrottlingException, UnknownOperationException).

type Json = Record<string, unknown>;

/** One ECS error answer. */
export class EcsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Json = {},
    readonly status = 400,
  ) {
    super(message);
  }
}

/** "The specified parameter isn't valid." (InvalidParameterException, API reference "Common errors" of each action). */
export const invalidParameter = (message: string, extra: Json = {}) =>
  new EcsError('InvalidParameterException', message, extra);
/** "These errors are usually caused by a client action…" (ClientException). */
export const clientError = (message: string) => new EcsError('ClientException', message);
/** "The specified cluster wasn't found." The wire message is "Cluster not found." */
export const clusterNotFound = () => new EcsError('ClusterNotFoundException', 'Cluster not found.');
/** A body the protocol cannot bind to the input shape (wrong JSON type). */
export const serialization = (message: string) => new EcsError('SerializationException', message);
