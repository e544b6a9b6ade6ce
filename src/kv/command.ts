import type { CompactionRequest, DeleteRangeRequest, PutRequest, ResponseOp, TxnRequest } from './types.ts';

/**
 * A write proposed through Raft: what `Entry.data` holds for the KV store
 * (command-codec.ts encodes it). `requestId` makes a retried proposal apply
 * once (0 = no de-duplication).
 */
export type Command =
  | { readonly op: 'put'; readonly request: PutRequest }
  | { readonly op: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly op: 'txn'; readonly request: TxnRequest }
  | { readonly op: 'compact'; readonly request: CompactionRequest };

export interface KvCommand {
  readonly requestId: number;
  readonly command: Command;
}

/** The response of an applied command: the op's own response shape. */
export type CommandResponse = Exclude<ResponseOp, { type: 'range' }> | { readonly type: 'compact' };
