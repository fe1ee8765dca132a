// The CRI socket's HTTP/2 front door: a byte filter between each accepted socket and grpc-js.
// It exists for one client bug, and is its own module because it parses hostile bytes itself.
//
// Why: grpc-go <= 1.51 (crictl 1.26, kubelets of that era) sends the unix socket path (e.g.
// "/run/berth/berth.sock") as the HTTP/2 :authority. nghttp2, under Node's http2 and so grpc-js,
// refuses such a header and resets every stream. Berth reads the client's bytes before nghttp2
// does and rewrites that value length for length inside the HPACK block ("/" -> "-"), so frame
// lengths and the client's dynamic table stay exactly as the client encoded them.
//
// Running before nghttp2, it parses bytes nghttp2 has not judged yet, so it keeps nghttp2's own
// bounds itself (SERVER_LIMITS in frame-rewriter.ts: table size, frame size, CONTINUATIONs) and
// hands anything past them straight on for nghttp2 to refuse.
//
// Files: authority-duplex.ts (the stream wrapper the daemon injects), frame-rewriter.ts (HTTP/2
// framing: header blocks over HEADERS + CONTINUATION), hpack-authority.ts (HPACK walk and the
// dynamic-table mirror), hpack-huffman.ts (RFC 7541 Huffman code).
export { authorityFixingDuplex } from "./authority-duplex.js";
export { fixAuthorityInHeaderBlock } from "./hpack-authority.js";
