import type { FastifyInstance } from 'fastify';

/** POSTs a GoCD request (`cd.go.elastic-agent.<name>`) to the app as the forwarder does, with its bearer token. */
export function gocdPoster(app: () => FastifyInstance, token: string) {
  return (name: string, body: unknown) =>
    app().inject({
      method: 'POST',
      url: `/gocd/requests/cd.go.elastic-agent.${name}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
}
