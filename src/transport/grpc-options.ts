/**
 * grpc-js keeps channelz statistics (per call, per message, with clock
 * reads) unless told not to. weft serves no channelz and reads none of
 * them, and every call on the hot path paid for them.
 */
export const noChannelz = { 'grpc.enable_channelz': 0 } as const;
