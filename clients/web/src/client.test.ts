// The protocol client without a browser: a fake socket and fake time (node --test).

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import assert from "node:assert/strict";
import { test } from "node:test";
import { type ConnectionState, ConfideClient, type Env, type SendUpdate, type SocketLike } from "./client.js";
import { ErrorCode, type Frame, FrameSchema, Role } from "./gen/confide/v1/confide_pb.js";
import type { OutboxItem, OutboxStore } from "./outbox.js";

class FakeSocket implements SocketLike {
  binaryType = "";
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: Frame[] = [];
  closed = false;

  send(data: Uint8Array): void {
    this.sent.push(fromBinary(FrameSchema, data));
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.onopen?.({});
  }
  receive(requestId: bigint, kind: Frame["kind"]): void {
    const bytes = toBinary(FrameSchema, create(FrameSchema, { requestId, kind }));
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }
  drop(code = 1006, reason = ""): void {
    this.onclose?.({ code, reason });
  }
  last(kind: string): Frame {
    const f = [...this.sent].reverse().find((x) => x.kind.case === kind);
    if (!f) {
      throw new Error(`no ${kind} frame sent (sent: ${this.sent.map((x) => x.kind.case).join(", ")})`);
    }
    return f;
  }
  all(kind: string): Frame[] {
    return this.sent.filter((x) => x.kind.case === kind);
  }
}

class Harness implements Env {
  time = 1_000_000;
  timers: { at: number; fn: () => void; id: number }[] = [];
  nextTimer = 1;
  sockets: FakeSocket[] = [];
  states: ConnectionState[] = [];
  updates: SendUpdate[] = [];
  saved: OutboxItem[][] = [];
  client: ConfideClient;

  constructor(stored: OutboxItem[] = [], token = "t0ken") {
    const store: OutboxStore = {
      load: () => stored,
      save: (items) => {
        this.saved.push(items);
      },
    };
    const ignore = () => undefined;
    this.client = new ConfideClient({ url: "ws://x/", token, deviceId: "dev-1" }, this, {
      onState: (s) => this.states.push(s),
      onAuthenticated: ignore,
      onSynced: ignore,
      onMessage: ignore,
      onConversation: ignore,
      onReceipt: ignore,
      onPresence: ignore,
      onTyping: ignore,
      onSendUpdate: (u) => this.updates.push(u),
    }, store);
  }

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextTimer++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  openSocket(): SocketLike {
    const s = new FakeSocket();
    this.sockets.push(s);
    return s;
  }
  random(): number {
    return 0.5;
  }

  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) {
        break;
      }
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = until;
  }

  get socket(): FakeSocket {
    return this.sockets[this.sockets.length - 1];
  }

  /// Opens the current socket and answers authenticate and sync.
  connect(cursor = "0-1"): FakeSocket {
    const s = this.socket;
    s.open();
    const auth = s.last("authenticate");
    s.receive(auth.requestId, {
      case: "authenticated",
      value: { userId: "alice", role: Role.CLIENT, limits: { heartbeatIntervalMs: 15000, maxBodyBytes: 8192 } } as never,
    });
    const sync = s.last("sync");
    s.receive(sync.requestId, { case: "synced", value: { fromCursor: cursor, reset: false } as never });
    return s;
  }
}

function msg(body: string, target = "c1"): Omit<OutboxItem, "state" | "waited" | "createdMs"> {
  return { clientMsgId: `id-${body}`, kind: "message", target, body, freeConsultation: false };
}

test("authenticates with the token and device, then syncs from the server's cursor", () => {
  const h = new Harness();
  h.client.start();
  assert.deepEqual(h.states, ["connecting"]);
  h.socket.open();
  const auth = h.socket.last("authenticate");
  assert.equal(auth.kind.case === "authenticate" && auth.kind.value.token, "t0ken");
  assert.equal(auth.kind.case === "authenticate" && auth.kind.value.deviceId, "dev-1");
  h.socket.receive(auth.requestId, {
    case: "authenticated",
    value: { userId: "alice", role: Role.CLIENT } as never,
  });
  assert.equal(h.client.connectionState(), "connected");
  const sync = h.socket.last("sync");
  assert.equal(sync.kind.case === "sync" && sync.kind.value.afterCursor, "");
});

test("a message typed offline is kept, sent once connected, and removed when acknowledged", () => {
  const h = new Harness();
  h.client.start();
  h.client.enqueue(msg("hello"));
  assert.equal(h.saved.at(-1)?.[0].body, "hello");
  assert.equal(h.updates.at(-1)?.state, "pending");
  const s = h.connect();
  const send = s.last("sendMessage");
  assert.equal(send.kind.case === "sendMessage" && send.kind.value.clientMsgId, "id-hello");
  s.receive(send.requestId, {
    case: "sent",
    value: { conversationId: "c1", seq: 7n, serverTimeMs: 5n, clientMsgId: "id-hello" } as never,
  });
  const u = h.updates.at(-1);
  assert.equal(u?.state, "sent");
  assert.equal(u?.seq, 7);
  assert.equal(u?.waited, true);
  assert.deepEqual(h.saved.at(-1), []);
});

test("an outbox restored from storage is sent with the same client_msg_id", () => {
  const stored: OutboxItem = { ...msg("from before"), state: "pending", waited: true, createdMs: 1 };
  const h = new Harness([stored]);
  h.client.start();
  const s = h.connect();
  const send = s.last("sendMessage");
  assert.equal(send.kind.case === "sendMessage" && send.kind.value.clientMsgId, "id-from before");
});

test("UNAVAILABLE and timeouts resend the same id; one message per conversation in flight", () => {
  const h = new Harness();
  h.client.start();
  const s = h.connect();
  h.client.enqueue(msg("one"));
  h.client.enqueue(msg("two"));
  h.client.enqueue(msg("other", "c2"));
  assert.deepEqual(
    s.all("sendMessage").map((f) => f.kind.case === "sendMessage" && f.kind.value.body),
    ["one", "other"],
  );
  const one = s.all("sendMessage")[0];
  s.receive(one.requestId, {
    case: "error",
    value: { code: ErrorCode.UNAVAILABLE, message: "storage", retryable: true } as never,
  });
  h.advance(499);
  assert.equal(s.all("sendMessage").length, 2);
  h.advance(10_000); // the retry, then its 10 s timeout, then another
  const ids = s.all("sendMessage").map((f) => f.kind.case === "sendMessage" && f.kind.value.clientMsgId);
  assert.ok(ids.filter((i) => i === "id-one").length >= 2, ids.join());
  assert.ok(!ids.includes("id-two"), "the second waits behind the first");
});

test("a refusal fails the message with its reason; retry sends it again with the same id", () => {
  const h = new Harness();
  h.client.start();
  const s = h.connect();
  h.client.enqueue(msg("late"));
  const send = s.last("sendMessage");
  s.receive(send.requestId, {
    case: "error",
    value: { code: ErrorCode.FAILED_PRECONDITION, message: "the conversation is closed", retryable: false } as never,
  });
  assert.equal(h.updates.at(-1)?.state, "failed");
  assert.equal(h.updates.at(-1)?.error, "the conversation is closed");
  assert.equal(h.saved.at(-1)?.[0].state, "failed");
  h.client.retry("id-late");
  assert.equal(s.all("sendMessage").length, 2);
  const again = s.last("sendMessage");
  assert.equal(again.kind.case === "sendMessage" && again.kind.value.clientMsgId, "id-late");
});

test("a lost connection reconnects with backoff and resumes after the last event, acking it", () => {
  const h = new Harness();
  h.client.start();
  const s = h.connect("0-1");
  s.receive(0n, { case: "event", value: { cursor: "5-0", kind: { case: undefined } } as never });
  h.advance(100);
  const ack = s.last("ack");
  assert.equal(ack.kind.case === "ack" && ack.kind.value.cursor, "5-0");
  s.drop();
  assert.equal(h.client.connectionState(), "reconnecting");
  assert.equal(h.sockets.length, 1);
  h.advance(1000);
  assert.equal(h.sockets.length, 2);
  h.socket.open();
  h.socket.receive(h.socket.last("authenticate").requestId, {
    case: "authenticated",
    value: { userId: "alice", role: Role.CLIENT } as never,
  });
  const sync = h.socket.last("sync");
  assert.equal(sync.kind.case === "sync" && sync.kind.value.afterCursor, "5-0");
});

test("with skip_own_echo a reply's cursor is the next event, acked lazily, and resumed from", () => {
  const h = new Harness();
  h.client.start();
  const s = h.connect("0-1");
  const sync = s.last("sync");
  assert.equal(sync.kind.case === "sync" && sync.kind.value.skipOwnEcho, true);
  h.client.enqueue(msg("mine"));
  const send = s.last("sendMessage");
  s.receive(send.requestId, {
    case: "sent",
    value: { conversationId: "c1", seq: 3n, serverTimeMs: 9n, clientMsgId: "id-mine", cursor: "6-0" } as never,
  });
  assert.equal(h.updates.at(-1)?.state, "sent");
  assert.equal(h.updates.at(-1)?.seq, 3);
  h.advance(100);
  assert.equal(s.all("ack").length, 0, "nobody waits for the ack of our own event");
  h.advance(900);
  const ack = s.last("ack");
  assert.equal(ack.kind.case === "ack" && ack.kind.value.cursor, "6-0");
  // The other party's event brings the ack forward again.
  h.client.enqueue(msg("again"));
  s.receive(s.last("sendMessage").requestId, {
    case: "sent",
    value: { conversationId: "c1", seq: 4n, serverTimeMs: 10n, clientMsgId: "id-again", cursor: "7-0" } as never,
  });
  s.receive(0n, { case: "event", value: { cursor: "8-0", kind: { case: undefined } } as never });
  h.advance(100);
  assert.equal(s.all("ack").length, 2);
  const second = s.last("ack");
  assert.equal(second.kind.case === "ack" && second.kind.value.cursor, "8-0");
  // A reconnect resumes after our own events.
  h.client.enqueue(msg("last"));
  s.receive(s.last("sendMessage").requestId, {
    case: "sent",
    value: { conversationId: "c1", seq: 5n, serverTimeMs: 11n, clientMsgId: "id-last", cursor: "9-0" } as never,
  });
  s.drop();
  h.advance(1000);
  h.socket.open();
  h.socket.receive(h.socket.last("authenticate").requestId, {
    case: "authenticated",
    value: { userId: "alice", role: Role.CLIENT } as never,
  });
  const again = h.socket.last("sync");
  assert.equal(again.kind.case === "sync" && again.kind.value.afterCursor, "9-0");
});

test("a silent server is given up and reconnected to", () => {
  const h = new Harness();
  h.client.start();
  h.connect();
  h.advance(15_000 * 2.5 + 100);
  assert.ok(h.sockets[0].closed);
  assert.equal(h.client.connectionState(), "reconnecting");
});

test("an automatic logoff (4006) ends in 'signed_out_idle', without reconnecting", () => {
  const h = new Harness();
  h.client.start();
  h.connect();
  h.socket.drop(4006, "signed out after inactivity");
  assert.equal(h.client.connectionState(), "signed_out_idle");
  assert.equal(h.states.at(-1), "signed_out_idle");
  h.advance(60_000);
  assert.equal(h.sockets.length, 1);
});

test("an expired or refused token ends in 'unauthenticated', without retrying", () => {
  const expired = new Harness();
  expired.client.start();
  expired.connect();
  expired.socket.drop(4001, "token expired");
  assert.equal(expired.client.connectionState(), "unauthenticated");
  expired.advance(60_000);
  assert.equal(expired.sockets.length, 1);

  const refused = new Harness();
  refused.client.start();
  refused.socket.open();
  refused.socket.receive(refused.socket.last("authenticate").requestId, {
    case: "error",
    value: { code: ErrorCode.UNAUTHENTICATED, message: "bad signature" } as never,
  });
  assert.equal(refused.client.connectionState(), "unauthenticated");

  const none = new Harness([], "");
  none.client.start();
  assert.equal(none.client.connectionState(), "unauthenticated");
  assert.equal(none.sockets.length, 0);
});
