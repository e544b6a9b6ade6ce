/**
 * The peer transport: how nodes talk to each other. Raft uses one-way
 * messages (`send`), the DHT uses request/response (`request`), health uses
 * `ping`. Two implementations share this contract and one test suite:
 * gRPC (production) and an in-memory network (tests), as hashicorp/raft does.
 */

/** "host:port" of a peer's transport endpoint. */
export type PeerAddress = string;

export interface CallContext {
  /** The caller's advertised address. */
  readonly from: PeerAddress;
}

export type RequestHandler = (payload: Uint8Array, context: CallContext) => Promise<Uint8Array> | Uint8Array;

export type MessageHandler = (payload: Uint8Array, context: CallContext) => void;

export interface RequestOptions {
  /** Upper bound for the whole call; the call rejects with TIMEOUT after it. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface PingResult {
  /** The node id the peer reports for itself. */
  readonly nodeId: string;
  readonly version: string;
  readonly rttMs: number;
}

/** What the transport reports about itself to the node's identity. */
export interface LocalIdentity {
  readonly nodeId: string;
  readonly version: string;
}

export interface PeerTransport {
  /** The address other peers use to reach this transport. */
  readonly address: PeerAddress;

  /** Serve `method`. One handler per method; registering twice is a bug. */
  handle(method: string, handler: RequestHandler): void;

  /**
   * Call `method` on a peer. Rejects with a WeftError: PEER_UNREACHABLE,
   * TIMEOUT, ABORTED, UNKNOWN_METHOD, or REMOTE_ERROR (the handler threw).
   */
  request(to: PeerAddress, method: string, payload: Uint8Array, options: RequestOptions): Promise<Uint8Array>;

  /**
   * Receive one-way messages sent on `channel`. One handler per channel. The
   * payload may be a view of a larger buffer of received bytes: a handler
   * that keeps it past the call copies what it keeps.
   */
  onMessage(channel: string, handler: MessageHandler): void;

  /**
   * Queue a one-way message. Delivery is best effort and in order per peer
   * while a connection lasts; protocols on top (Raft) tolerate loss. Returns
   * false, dropping the message, when the peer's bounded queue is full.
   * The payload is handed over, not copied: the caller must not change it afterwards.
   */
  send(to: PeerAddress, channel: string, payload: Uint8Array): boolean;

  /**
   * Learn when a connection to a peer fails (its process died and the
   * connection was reset, or it closed), whether or not anything was being
   * sent on it. A hint
   * only: a partition gives none, and a lost peer may come back.
   */
  onPeerLost(handler: (peer: PeerAddress) => void): void;

  /** Ask a peer who it is and measure the round trip. */
  ping(to: PeerAddress, options: RequestOptions): Promise<PingResult>;

  /** Stop serving and drop all connections. Idempotent. */
  close(): Promise<void>;
}

/** Limits of the transport layer; see docs/LIMITS.md. */
export interface TransportLimits {
  /** One-way messages queued for one peer before `send` starts dropping. @default 4096 */
  readonly maxQueuedMessagesPerPeer: number;
  /** Largest payload accepted in either direction. @default 16 MiB */
  readonly maxMessageBytes: number;
}

export const defaultTransportLimits: TransportLimits = {
  maxQueuedMessagesPerPeer: 4096,
  maxMessageBytes: 16 * 1024 * 1024,
};
