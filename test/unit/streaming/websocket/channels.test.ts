// The WebSocket channel codec: binary and base64 framing both ways, the v5 close signal,
// protocol negotiation in the client's order, and port parsing as kubelet does it.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeMessage,
  encodeMessage,
  negotiateWsProtocol,
  parseProtocolHeader,
  portPrefix,
  portsFromQuery,
  PORTFORWARD_WS_PROTOCOLS,
  REMOTECOMMAND_WS_PROTOCOLS,
} from "../../../../src/streaming/websocket/channels.js";

test("binary frames: first byte is the channel", () => {
  assert.deepEqual(encodeMessage("binary", 1, Buffer.from("hi")), Buffer.from([1, 104, 105]));
  assert.deepEqual(decodeMessage("binary", Buffer.from([0, 102, 111, 111, 10]), false), { kind: "data", channel: 0, data: Buffer.from("foo\n") });
  assert.deepEqual(decodeMessage("binary", Buffer.alloc(0), false), { kind: "empty" });
  assert.deepEqual(decodeMessage("binary", Buffer.from([4]), false), { kind: "data", channel: 4, data: Buffer.alloc(0) });
});

test("base64 frames: a digit then base64 (wsstream's own examples)", () => {
  assert.equal(encodeMessage("base64", 1, Buffer.from("\n")), "1Cg==");
  assert.deepEqual(decodeMessage("base64", Buffer.from("0Zm9vCg=="), false), { kind: "data", channel: 0, data: Buffer.from("foo\n") });
  assert.throws(() => decodeMessage("base64", Buffer.from("0Zm9v!g=="), false), /not valid base64/);
  assert.throws(() => decodeMessage("base64", Buffer.from(" Zm9v"), false), /not a channel digit/);
  // Past 9 the "digit" goes on in ASCII, as wsstream's '0'+channel does.
  assert.equal(encodeMessage("base64", 12, Buffer.from("x")), "<eA==");
  assert.deepEqual(decodeMessage("base64", Buffer.from("<eA=="), false), { kind: "data", channel: 12, data: Buffer.from("x") });
});

test("channel 255 is a close signal only in v5", () => {
  assert.deepEqual(decodeMessage("binary", Buffer.from([255, 0]), true), { kind: "close", channel: 0 });
  assert.deepEqual(decodeMessage("binary", Buffer.from([255, 0]), false), { kind: "data", channel: 255, data: Buffer.from([0]) });
  assert.throws(() => decodeMessage("binary", Buffer.from([255]), true), /without the channel/);
});

test("negotiation: the client's first supported protocol; none offered is plain binary", () => {
  assert.equal(negotiateWsProtocol(["v5.channel.k8s.io", "v4.channel.k8s.io"], REMOTECOMMAND_WS_PROTOCOLS)?.version, 5);
  assert.equal(negotiateWsProtocol(["v5.channel.k8s.io", "v4.base64.channel.k8s.io"], PORTFORWARD_WS_PROTOCOLS)?.codec, "base64");
  assert.deepEqual(negotiateWsProtocol([], REMOTECOMMAND_WS_PROTOCOLS), { name: "", codec: "binary", version: 1 });
  assert.equal(negotiateWsProtocol(["SPDY/3.1+portforward.k8s.io"], PORTFORWARD_WS_PROTOCOLS), undefined);
  assert.deepEqual(parseProtocolHeader("v4.channel.k8s.io, channel.k8s.io"), ["v4.channel.k8s.io", "channel.k8s.io"]);
  assert.deepEqual(parseProtocolHeader(undefined), []);
});

test("port-forward: ports from the query, the port prefix little-endian", () => {
  assert.deepEqual(portsFromQuery(["80", "8080,9090"]), [80, 8080, 9090]);
  assert.throws(() => portsFromQuery([]), /"port" is required/);
  assert.throws(() => portsFromQuery([""]), /cannot be empty/);
  assert.throws(() => portsFromQuery(["0"]), /unable to parse "0"/);
  assert.throws(() => portsFromQuery(["70000"]), /unable to parse/);
  assert.throws(() => portsFromQuery([Array.from({ length: 101 }, (_, i) => String(i + 1)).join(",")]), /101 ports asked for; at most 100/);
  assert.deepEqual(portPrefix(8080), Buffer.from([0x90, 0x1f]));
});
