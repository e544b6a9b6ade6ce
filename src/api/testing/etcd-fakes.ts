// Fakes for the client's tests: weft's etcd API over a KvService or ClusterService
// whose methods a test overrides, e.g. to lose an answer after applying the call.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { isWeftError, WeftError } from '../../core/errors.ts';
import { registerEtcdServices } from '../etcd/register.ts';
import { SingleNodeKv } from './single-node-kv.ts';
import type { ClusterService, KvService } from '../../node/kv-service.ts';

/** A gRPC server over any KvService and ClusterService (by default a plain single node). */
export async function serve(
  kv: KvService,
  cluster: ClusterService = new SingleNodeKv(),
): Promise<{ endpoint: string; stop: () => void }> {
  const server = new grpc.Server();
  registerEtcdServices(server, { kv, cluster });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { endpoint: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

/** The KvService methods of a store, as plain functions to override one by one. */
export function delegate(store: SingleNodeKv): KvService {
  return {
    range: (request, options) => store.range(request, options),
    put: (request, options) => store.put(request, options),
    deleteRange: (request, options) => store.deleteRange(request, options),
    txn: (request, options) => store.txn(request, options),
    compact: (request, options) => store.compact(request, options),
  };
}

/** Applies `apply`'s first call, then reports a timeout, as if the answer was lost on the way. */
export function losingFirstAnswer<A extends unknown[], R>(
  apply: (...args: A) => Promise<R>,
): {
  call: (...args: A) => Promise<R>;
  calls: () => number;
} {
  let calls = 0;
  const call = async (...args: A): Promise<R> => {
    const first = calls++ === 0;
    const answer = await apply(...args);
    if (first) throw new WeftError('TIMEOUT', 'the answer was lost');
    return answer;
  };
  return { call, calls: () => calls };
}

export async function rejectsWith(work: Promise<unknown>, code: string): Promise<WeftError> {
  try {
    await work;
  } catch (error) {
    assert.ok(isWeftError(error), String(error));
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}
