/**
 * HTTP/2's frame layer (RFC 9113 §4, §6): the constants and the frames a
 * server writes. Every frame is one buffer: a 9-byte header (24-bit length,
 * type, flags, 31-bit stream id) and its payload.
 */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_BYTES = 9;
export const FRAME = {
  data: 0,
  headers: 1,
  priority: 2,
  rst: 3,
  settings: 4,
  push: 5,
  ping: 6,
  goaway: 7,
  window: 8,
  continuation: 9,
};
export const FLAG = { endStream: 0x1, ack: 0x1, endHeaders: 0x4, padded: 0x8, priority: 0x20 };
export const SETTING = {
  headerTableSize: 1,
  enablePush: 2,
  maxStreams: 3,
  initialWindow: 4,
  maxFrameSize: 5,
  maxHeaderList: 6,
};
export const H2_ERROR = {
  none: 0,
  protocol: 1,
  internal: 2,
  flowControl: 3,
  streamClosed: 5,
  frameSize: 6,
  refused: 7,
  cancel: 8,
  compression: 9,
  calm: 11,
} as const;

/** A payload without its padding (PADDED flag); undefined when the padding is longer than the frame. */
export function unpad(flags: number, payload: Buffer): Buffer | undefined {
  if ((flags & FLAG.padded) === 0) return payload;
  if (payload.length === 0) return undefined;
  const padding = payload[0]!;
  return padding >= payload.length ? undefined : payload.subarray(1, payload.length - padding);
}

export function frameOf(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUIntBE(payload.length, 0, 3);
  frame[3] = type;
  frame[4] = flags;
  frame.writeUInt32BE(streamId, 5);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export function settingsFrame(settings: [number, number][]): Buffer {
  const payload = Buffer.allocUnsafe(settings.length * 6);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frameOf(FRAME.settings, 0, 0, payload);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return frameOf(FRAME.window, 0, streamId, payload);
}

export function rstFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code, 0);
  return frameOf(FRAME.rst, 0, streamId, payload);
}

export function goawayFrame(lastStreamId: number, code: number, reason: string): Buffer {
  const debug = Buffer.from(reason, 'utf8');
  const payload = Buffer.allocUnsafe(8 + debug.length);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt32BE(code, 4);
  debug.copy(payload, 8);
  return frameOf(FRAME.goaway, 0, 0, payload);
}
