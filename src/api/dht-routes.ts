import type { FastifyInstance, FastifyReply } from 'fastify';
import { WeftError } from '../core/errors.ts';
import { httpStatusOf, type DhtClient } from './dht-client-api.ts';

/**
 * The DHT over HTTP (docs/api.md): /v1/dht/keys/:key (PUT, GET, DELETE),
 * /v1/dht/lookup/:id and /v1/dht/routing-table. Typed errors become their
 * HTTP status here, with the code and what to do.
 */
export function registerDhtRoutes(app: FastifyInstance, client: DhtClient): void {
  const answer = async (reply: FastifyReply, work: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof WeftError)) throw error;
      return reply.code(httpStatusOf(error)).send({ error: { code: error.code, message: error.message } });
    }
  };

  app.put<{ Params: { key: string }; Body: { value?: unknown } }>('/v1/dht/keys/:key', async (request, reply) =>
    answer(reply, async () => {
      const value = request.body?.value;
      if (typeof value !== 'string') throw new WeftError('BAD_REQUEST', 'send a JSON body {"value": "<text>"}');
      return client.put(request.params.key, value);
    }),
  );
  app.get<{ Params: { key: string } }>('/v1/dht/keys/:key', async (request, reply) =>
    answer(reply, () => client.get(request.params.key)),
  );
  app.delete<{ Params: { key: string } }>('/v1/dht/keys/:key', async (request, reply) =>
    answer(reply, () => client.delete(request.params.key)),
  );
  app.get<{ Params: { id: string } }>('/v1/dht/lookup/:id', async (request, reply) =>
    answer(reply, () => client.lookup(request.params.id)),
  );
  app.get('/v1/dht/routing-table', async () => client.routingTable());
}
