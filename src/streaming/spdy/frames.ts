// SPDY/3.1 frame layout: constants and the encoders for every frame Berth sends. Header blocks
// arrive here already compressed (header-block.ts); parsing lives in parser.ts.

export const VERSION = 3;
export const CONTROL_HEADER_LENGTH = 8;
/** 24-bit length field. */
export const MAX_FRAME_LENGTH = 0xffffff;
export const MAX_STREAM_ID = 0x7fffffff;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes (spdystream spdy/types.go). */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_LENGTH) throw new RangeError(`SPDY control frame payload of ${payload.length} bytes exceeds 2^24-1`);
  const f = Buffer.allocUnsafe(CONTROL_HEADER_LENGTH + payload.length);
  f.writeUInt16BE(0x8000 | VERSION, 0);
  f.writeUInt16BE(type, 2);
  f.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  payload.copy(f, CONTROL_HEADER_LENGTH);
  return f;
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** SYN_STREAM: stream id, associated id, priority (3 bits) + unused + slot, compressed header block. */
export function synStreamFrame(streamId: number, headerBlock: Buffer, opts: { fin?: boolean; priority?: number } = {}): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & MAX_STREAM_ID, 0);
  fixed.writeUInt32BE(0, 4);
  fixed[8] = ((opts.priority ?? 0) & 0x7) << 5;
  fixed[9] = 0;
  return controlFrame(FrameType.SYN_STREAM, opts.fin ? FLAG_FIN : 0, Buffer.concat([fixed, headerBlock]));
}

export function synReplyFrame(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return controlFrame(FrameType.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32s(streamId & MAX_STREAM_ID), headerBlock]));
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(FrameType.RST_STREAM, 0, u32s(streamId & MAX_STREAM_ID, status));
}

export function pingFrame(id: number): Buffer {
  return controlFrame(FrameType.PING, 0, u32s(id));
}

export function goAwayFrame(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(FrameType.GOAWAY, 0, u32s(lastGoodStreamId & MAX_STREAM_ID, status));
}

export function windowUpdateFrame(streamId: number, delta: number): Buffer {
  return controlFrame(FrameType.WINDOW_UPDATE, 0, u32s(streamId & MAX_STREAM_ID, delta & MAX_STREAM_ID));
}

/** SETTINGS with (id, value) pairs, flags 0 on each. */
export function settingsFrame(entries: ReadonlyArray<readonly [number, number]>): Buffer {
  const p = Buffer.alloc(4 + 8 * entries.length);
  p.writeUInt32BE(entries.length, 0);
  entries.forEach(([id, value], i) => {
    p.writeUInt32BE(id & 0xffffff, 4 + 8 * i);
    p.writeUInt32BE(value >>> 0, 8 + 8 * i);
  });
  return controlFrame(FrameType.SETTINGS, 0, p);
}

/** The 8-byte header of a DATA frame; the payload follows it on the wire. */
export function dataFrameHeader(streamId: number, length: number, fin: boolean): Buffer {
  if (length > MAX_FRAME_LENGTH) throw new RangeError(`SPDY data frame of ${length} bytes exceeds 2^24-1`);
  const h = Buffer.allocUnsafe(8);
  h.writeUInt32BE(streamId & MAX_STREAM_ID, 0);
  h.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | length, 4);
  return h;
}

export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  return Buffer.concat([dataFrameHeader(streamId, data.length, fin), data]);
}
