import * as grpc from '@grpc/grpc-js';

/** A handler for a declared method weft does not serve: UNIMPLEMENTED, naming the method and what to do instead. */
export function unimplemented(method: string, instead: string): grpc.handleUnaryCall<unknown, unknown> {
  return (_call, callback) => callback(unimplementedStatus(method, instead));
}

export function unimplementedStatus(method: string, instead: string): Partial<grpc.StatusObject> {
  return {
    code: grpc.status.UNIMPLEMENTED,
    details: `weft does not serve ${method}; ${instead} (docs/api.md lists what is served)`,
  };
}
