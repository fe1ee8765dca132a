// Fuzz target: SPDY/3.1 clients of the streaming server (src/streaming/spdy): bytes in random
// chunks into a server-side SpdyConnection over an in-memory socket (frames, zlib header blocks,
// stream table), and header blocks straight into the decoder. A peer's garbage may end the
// connection only through a protocol error of SPDY's own kind, and the connection must close.
import { Duplex } from "node:stream";
import { SpdyConnection } from "../../../src/streaming/spdy/connection.js";
import { HeaderBlockError, decodeHeaderBlock } from "../../../src/streaming/spdy/header-block.js";
import { SpdyProtocolError } from "../../../src/streaming/spdy/parser.js";
import { chunks, holds, parseOrRefuse, refusal, split } from "../check.js";

const LIMITS = { maxControlFrame: 16 * 1024, maxHeaderBytes: 16 * 1024, maxHeaderPairs: 16, maxStreams: 8, maxParserBuffer: 64 * 1024 };

export async function fuzz(data: Buffer): Promise<void> {
  const { sel, rest } = split(data);
  if (sel & 0x80) {
    const h = parseOrRefuse(() => decodeHeaderBlock(rest, LIMITS.maxHeaderPairs), [HeaderBlockError]);
    if (h) holds(Object.keys(h).length <= LIMITS.maxHeaderPairs, "more header pairs than the limit");
    return;
  }
  let written = 0;
  const socket = new Duplex({
    read() {},
    write(c: Buffer, _e, cb) {
      written += c.length;
      cb();
    },
  });
  const conn = new SpdyConnection(socket, { server: true, limits: LIMITS });
  let failure: unknown;
  conn.on("protocolError", (err) => {
    try {
      refusal(err, [SpdyProtocolError, HeaderBlockError]);
    } catch (e) {
      failure ??= e;
    }
  });
  let streams = 0;
  conn.on("stream", (s) => {
    streams++;
    s.resume();
    s.reply({}).catch(() => undefined);
    s.end();
  });
  const closed = new Promise<void>((resolve) => conn.once("close", resolve));
  for (const c of chunks(rest, sel & 0x7f)) socket.push(c);
  socket.push(null);
  await closed;
  if (failure) throw failure;
  holds(conn.destroyed && conn.streamCount === 0, "the connection closed with streams left");
  holds(streams <= rest.length, `${streams} streams from ${rest.length} bytes`);
  // Answers (replies, RSTs, PINGs, GOAWAY) stay proportional to what the peer sent.
  holds(written <= 64 * 1024 + 64 * rest.length, `wrote ${written} bytes for ${rest.length} in`);
}
