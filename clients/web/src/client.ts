// The protocol client: one WebSocket to the server, authenticate, sync from the cursor, acks,
// heartbeat pings, reconnect with backoff, and the outbox (every message is kept until the
// server's "sent" reply, and retried with the same client_msg_id, which the server makes
// idempotent). It mirrors clients/lib/src/core.cpp, the C++ library's state machine.
//
// No DOM here: the environment (clock, timers, sockets, randomness) comes in through `Env`, so
// the unit tests drive it with a fake socket and fake time.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type Conversation,
  ConversationAction,
  DeclineReason,
  type ErrorReply,
  ErrorCode,
  type EventPush,
  type Frame,
  FrameSchema,
  type Message,
  type Presence,
  PresenceState,
  type ReceiptPush,
  type Role,
  type SafetyNotice,
  type Specialist,
  type TypingPush,
} from "./gen/confide/v1/confide_pb.js";
import type { OutboxItem, OutboxStore } from "./outbox.js";

export type ConnectionState =
  | "idle"
  | "connecting"
  | "connected"
  | "reconnecting"
  // Final states: the client stops until start() is called again.
  | "unauthenticated" // no token, or the server refused or expired it
  | "signed_out"
  | "signed_out_idle" // automatic logoff: no user activity for the server's idle time (4006)
  | "closed"; // too many connections, protocol error

/// The part of a WebSocket the client uses (the browser's WebSocket fits).
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export interface Env {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  openSocket(url: string): SocketLike;
  random(): number; // [0, 1)
}

export interface ClientOptions {
  url: string;
  token: string;
  deviceId: string;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  ackDelayMs?: number;
  /// Ask the server not to push this device's own messages back (default true): their
  /// SendReply carries the event's cursor instead (docs/design.md, "Echo suppression").
  skipOwnEcho?: boolean;
}

export class ClientError extends Error {
  constructor(
    readonly code: ErrorCode | "not_connected" | "timeout" | "protocol",
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

export interface SendUpdate {
  clientMsgId: string;
  state: "pending" | "sent" | "failed";
  conversationId: string;
  seq: number;
  serverTimeMs: number;
  /// The message waited for a connection (typed while offline, or its connection dropped):
  /// the interface tells the person when it is finally sent.
  waited: boolean;
  error?: string;
  body: string;
  kind: OutboxItem["kind"];
  target: string;
  /// An inquiry that opened a conversation: the notice to show the client now.
  safetyNotice?: SafetyNotice;
}

/// What a directory listing asks for (every filter optional).
export interface SpecialistQuery {
  specialty?: string;
  language?: string;
  acceptingOnly?: boolean;
  limit?: number;
  pageToken?: string;
}

export interface ClientEvents {
  onState(state: ConnectionState, detail: string): void;
  /// `safety`: for clients, the notice to show with inquiries. `retentionDays`: messages older
  /// than this are deleted from the server (0: kept).
  onAuthenticated(
    userId: string,
    role: Role,
    maxBodyBytes: number,
    expiresAtMs: number,
    safety?: SafetyNotice,
    retentionDays?: number,
  ): void;
  /// The stream was (re)started; `reset`: events may be missing, reload everything.
  onSynced(reset: boolean): void;
  onMessage(m: Message): void;
  onConversation(c: Conversation): void;
  onReceipt(r: ReceiptPush): void;
  onPresence(p: Presence): void;
  onTyping(t: TypingPush): void;
  onSendUpdate(u: SendUpdate): void;
}

// A connection that stayed up this long resets the backoff (not every successful authenticate:
// a server that accepts and drops at once must not turn us into a tight loop).
const STABLE_CONNECTION_MS = 10_000;
const ACK_EVERY_EVENTS = 100;
// An ack covering only our own messages' events (skip_own_echo) waits this many ack delays
// for company: nobody waits for it, as no other party's "delivered" hangs on it.
const OWN_EVENT_ACK_DELAYS = 10;
const DEFAULT_HEARTBEAT_MS = 15_000;

type Kind = NonNullable<Frame["kind"]["case"]>;
type Payload<K extends Kind> = Extract<Frame["kind"], { case: K }>["value"];

interface PendingRequest {
  resolve(f: Frame): void;
  reject(e: ClientError): void;
  deadline: number;
}

interface QueuedItem extends OutboxItem {
  requestId: bigint; // in flight when non-zero
  deadline: number;
  notBefore: number;
  failures: number;
}

function errorOf(e: ErrorReply): ClientError {
  return new ClientError(e.code, e.message, e.retryable, e.retryAfterMs);
}

export class ConfideClient {
  private state: ConnectionState = "idle";
  private socket: SocketLike | null = null;
  private phase: "idle" | "waiting" | "opening" | "authenticating" | "connected" = "idle";
  private attempt = 0;
  private connectedAt = 0;
  private lastReceived = 0;
  private pingEveryMs = DEFAULT_HEARTBEAT_MS / 2;
  private silenceLimitMs = DEFAULT_HEARTBEAT_MS * 2.5;
  private nextRequestId = 0n;
  private authRequest = 0n;
  private syncRequest = 0n;
  private requests = new Map<bigint, PendingRequest>();
  private sendRequests = new Map<bigint, string>(); // request id -> client_msg_id
  private timers = new Map<string, unknown>();
  private cursor = "";
  private ackedCursor = "";
  private unackedEvents = 0;
  private ackDueAt = 0; // when the "ack" timer fires
  private userId = "";
  private outbox: QueuedItem[] = [];
  private outboxHoldUntil = 0;
  private signingOut = false;

  constructor(
    private opts: ClientOptions,
    private env: Env,
    private events: ClientEvents,
    private store: OutboxStore,
  ) {
    for (const item of store.load()) {
      this.outbox.push({ ...item, requestId: 0n, deadline: 0, notBefore: 0, failures: 0 });
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  start(): void {
    if (this.phase !== "idle") {
      return;
    }
    this.attempt = 0;
    if (!this.opts.token) {
      this.finish("unauthenticated", "no token");
      return;
    }
    this.beginAttempt();
  }

  /// The network came back (the browser's "online" event): try now rather than at the end of
  /// the backoff.
  networkUp(): void {
    if (this.phase === "waiting") {
      this.attempt = 0;
      this.beginAttempt();
    }
  }

  /// The network went away (the browser's "offline" event): the socket may linger half-open
  /// for a long time, so give it up now and wait for networkUp().
  networkDown(): void {
    if (this.phase === "opening" || this.phase === "authenticating" || this.phase === "connected") {
      this.dropConnection();
      this.reconnectWithBackoff("the network is down");
    }
  }

  connectionState(): ConnectionState {
    return this.state;
  }

  me(): string {
    return this.userId;
  }

  pendingItems(): readonly OutboxItem[] {
    return this.outbox;
  }

  private beginAttempt(): void {
    this.clearTimer("reconnect");
    let socket: SocketLike;
    try {
      socket = this.env.openSocket(this.opts.url);
    } catch (e) {
      this.reconnectWithBackoff(`cannot open the connection: ${String(e)}`);
      return;
    }
    this.socket = socket;
    this.phase = "opening";
    this.report(this.attempt === 0 && this.state !== "reconnecting" ? "connecting" : "reconnecting", "");
    socket.binaryType = "arraybuffer";
    socket.onopen = () => this.onOpen(socket);
    socket.onmessage = (ev) => this.onData(socket, ev.data);
    socket.onclose = (ev) => this.onClose(socket, ev.code, ev.reason);
    socket.onerror = () => {
      /* onclose follows */
    };
    this.setTimer("attempt", this.opts.connectTimeoutMs ?? 10_000, () => {
      this.dropConnection();
      this.reconnectWithBackoff("connect timeout");
    });
  }

  private onOpen(socket: SocketLike): void {
    if (socket !== this.socket || this.phase !== "opening") {
      return;
    }
    this.phase = "authenticating";
    this.lastReceived = this.env.now();
    this.authRequest = this.newRequestId();
    this.write(this.authRequest, "authenticate", {
      token: this.opts.token,
      deviceId: this.opts.deviceId,
    });
  }

  private onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) {
      return;
    }
    this.socket = null;
    this.connectionEnded(code, reason);
  }

  private connectionEnded(code: number, reason: string): void {
    const stable =
      this.phase === "connected" && this.env.now() - this.connectedAt >= STABLE_CONNECTION_MS;
    const signingOut = this.signingOut;
    this.dropConnection();
    if (stable) {
      this.attempt = 0;
    }
    const detail = code ? `closed by the server (${code}${reason ? " " + reason : ""})` : "connection lost";
    if (code === 1000 && signingOut) {
      this.finish("signed_out", "signed out");
      return;
    }
    switch (code) {
      case 1000:
        this.finish("signed_out", detail);
        return;
      case 1008:
      case 1009:
        this.finish("closed", detail);
        return;
      case 4001: // token expired: the page has no way to refresh it (the platform signs in again)
      case 4002: // not authenticated
        this.finish("unauthenticated", detail);
        return;
      case 4004:
        this.finish("closed", "too many connections (close another tab or device)");
        return;
      case 4006: // automatic logoff: the person signs in again; never reconnected by itself
        this.finish("signed_out_idle", "signed out after inactivity");
        return;
      default:
        // 1001 going away, 4003 too slow, 4005 heartbeat missed, resets: resume from the cursor.
        this.reconnectWithBackoff(detail);
    }
  }

  /// Forgets the socket and everything tied to it; requests fail with not_connected and
  /// messages in flight go back to the outbox (they are sent again, with the same id).
  private dropConnection(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(1000);
      } catch {
        /* already closing */
      }
    }
    for (const name of ["attempt", "ping", "silence", "ack"]) {
      this.clearTimer(name);
    }
    const wasConnected = this.phase === "connected";
    this.phase = "idle";
    this.authRequest = this.syncRequest = 0n;
    this.ackedCursor = "";
    this.unackedEvents = 0;
    this.sendRequests.clear();
    this.signingOut = false;
    for (const item of this.outbox) {
      if (item.requestId !== 0n || (wasConnected && item.state === "pending")) {
        item.waited = true;
      }
      item.requestId = 0n;
    }
    const requests = [...this.requests.values()];
    this.requests.clear();
    for (const r of requests) {
      r.reject(new ClientError("not_connected", "not connected", true));
    }
  }

  private reconnectWithBackoff(detail: string): void {
    const min = this.opts.reconnectMinMs ?? 500;
    const max = Math.max(min, this.opts.reconnectMaxMs ?? 10_000);
    const cap = Math.min(max, min * 2 ** Math.min(this.attempt, 20));
    const delay = min + this.env.random() * (cap - min);
    this.attempt++;
    this.phase = "waiting";
    this.report("reconnecting", detail);
    this.setTimer("reconnect", delay, () => this.beginAttempt());
  }

  private finish(state: ConnectionState, detail: string): void {
    this.dropConnection();
    this.clearTimer("reconnect");
    this.phase = "idle";
    this.report(state, detail);
  }

  private report(state: ConnectionState, detail: string): void {
    this.state = state;
    this.events.onState(state, detail);
  }

  // ---- frames ------------------------------------------------------------------------------

  private newRequestId(): bigint {
    return ++this.nextRequestId;
  }

  private write<K extends Kind>(requestId: bigint, kind: K, value: Partial<Payload<K>>): void {
    if (!this.socket) {
      return;
    }
    const frame = create(FrameSchema, {
      requestId,
      kind: { case: kind, value } as unknown as Frame["kind"],
    });
    this.socket.send(toBinary(FrameSchema, frame));
  }

  private onData(socket: SocketLike, data: unknown): void {
    if (socket !== this.socket || (this.phase !== "authenticating" && this.phase !== "connected")) {
      return;
    }
    this.lastReceived = this.env.now();
    if (!(data instanceof ArrayBuffer)) {
      return; // the server sends binary frames only
    }
    let frame: Frame;
    try {
      frame = fromBinary(FrameSchema, new Uint8Array(data));
    } catch {
      this.dropConnection();
      this.reconnectWithBackoff("malformed frame from the server");
      return;
    }
    const id = frame.requestId;
    if (id === 0n) {
      this.handlePush(frame);
      return;
    }
    if (id === this.authRequest) {
      this.handleAuthReply(frame);
      return;
    }
    if (this.phase !== "connected") {
      return;
    }
    if (id === this.syncRequest) {
      this.handleSyncReply(frame);
      return;
    }
    if (frame.kind.case === "sent" && frame.kind.value.cursor) {
      // Our own message's event, which this connection will not be pushed: the next event,
      // whether or not the reply still finds its request (a late one, after a resend).
      this.eventProcessed(frame.kind.value.cursor, true);
    }
    const msgId = this.sendRequests.get(id);
    if (msgId !== undefined) {
      this.sendRequests.delete(id);
      this.handleSendReply(msgId, frame);
      return;
    }
    const req = this.requests.get(id);
    if (req) {
      this.requests.delete(id);
      if (frame.kind.case === "error") {
        req.reject(errorOf(frame.kind.value));
      } else {
        req.resolve(frame);
      }
    }
    // Pongs and failed acks need nothing.
  }

  private handleAuthReply(frame: Frame): void {
    this.authRequest = 0n;
    if (frame.kind.case === "error") {
      const e = frame.kind.value;
      if (e.code === ErrorCode.UNAUTHENTICATED) {
        this.finish("unauthenticated", `token refused: ${e.message}`);
      } else if (e.retryable || e.code === ErrorCode.UNAVAILABLE) {
        this.dropConnection();
        this.reconnectWithBackoff(`sign-in failed: ${e.message}`);
      }
      // Otherwise the server follows with a GoAway and a close whose code says why.
      return;
    }
    if (frame.kind.case !== "authenticated") {
      this.dropConnection();
      this.reconnectWithBackoff("unexpected reply to authenticate");
      return;
    }
    const a = frame.kind.value;
    this.clearTimer("attempt");
    this.phase = "connected";
    this.connectedAt = this.env.now();
    this.userId = a.userId;
    const heartbeat = a.limits?.heartbeatIntervalMs || DEFAULT_HEARTBEAT_MS;
    // The server closes after 3 silent intervals; pinging twice per interval leaves room for
    // a late timer (browsers throttle timers in background tabs).
    this.pingEveryMs = heartbeat / 2;
    this.silenceLimitMs = heartbeat * 2.5;
    this.events.onAuthenticated(
      a.userId,
      a.role,
      a.limits?.maxBodyBytes || 8192,
      Number(a.expiresAtMs),
      a.safetyNotice,
      a.limits?.retentionDays ?? 0,
    );
    this.report("connected", "");
    this.syncRequest = this.newRequestId();
    this.write(this.syncRequest, "sync", {
      afterCursor: this.cursor,
      skipOwnEcho: this.opts.skipOwnEcho ?? true,
    });
    if (this.cursor) {
      // The last cursor may have been processed but its ack lost with the connection.
      this.scheduleAck();
    }
    this.schedulePing();
    this.watchSilence();
    this.pumpOutbox();
  }

  private handleSyncReply(frame: Frame): void {
    this.syncRequest = 0n;
    if (frame.kind.case === "error") {
      const e = frame.kind.value;
      if (!e.retryable) {
        this.cursor = "";
        this.events.onSynced(true);
      }
      this.dropConnection();
      this.reconnectWithBackoff(`sync failed: ${e.message}`);
      return;
    }
    if (frame.kind.case !== "synced") {
      this.dropConnection();
      this.reconnectWithBackoff("unexpected reply to sync");
      return;
    }
    if (!this.cursor) {
      this.cursor = frame.kind.value.fromCursor;
    }
    this.events.onSynced(frame.kind.value.reset);
  }

  private handlePush(frame: Frame): void {
    switch (frame.kind.case) {
      case "goAway":
        // The server closes right after; act now rather than wait for a close frame that a
        // dying connection may never deliver.
        this.connectionEnded(frame.kind.value.closeCode, frame.kind.value.reason);
        return;
      case "event":
        if (this.phase === "connected") {
          this.handleEvent(frame.kind.value);
        }
        return;
      case "receipt":
        this.events.onReceipt(frame.kind.value);
        return;
      case "presence":
        if (frame.kind.value.presence) {
          this.events.onPresence(frame.kind.value.presence);
        }
        return;
      case "typingPush":
        this.events.onTyping(frame.kind.value);
        return;
      default:
        return;
    }
  }

  private handleEvent(event: EventPush): void {
    if (event.kind.case === "message") {
      const m = event.kind.value;
      const own = m.senderId === this.userId ? this.findItem(m.clientMsgId) : undefined;
      if (own) {
        // Our own message came back before its reply (or the reply was lost): it is stored.
        this.markSent(own, m.conversationId, Number(m.seq), Number(m.serverTimeMs));
      }
      this.events.onMessage(m);
    } else if (event.kind.case === "conversation") {
      this.events.onConversation(event.kind.value);
    }
    if (event.cursor) {
      this.eventProcessed(event.cursor, false);
    }
  }

  private eventProcessed(cursor: string, own: boolean): void {
    this.cursor = cursor;
    if (++this.unackedEvents >= ACK_EVERY_EVENTS) {
      this.flushAck();
    } else {
      this.scheduleAck(own ? OWN_EVENT_ACK_DELAYS : 1);
    }
  }

  /// The ack goes out `delays` ack delays from now, or earlier if already due earlier.
  private scheduleAck(delays = 1): void {
    const ms = (this.opts.ackDelayMs ?? 100) * delays;
    const at = this.env.now() + ms;
    if (!this.timers.has("ack") || at < this.ackDueAt) {
      this.ackDueAt = at;
      this.setTimer("ack", ms, () => this.flushAck());
    }
  }

  private flushAck(): void {
    this.clearTimer("ack");
    this.unackedEvents = 0;
    if (this.phase !== "connected" || !this.cursor || this.cursor === this.ackedCursor) {
      return;
    }
    this.write(this.newRequestId(), "ack", { cursor: this.cursor });
    this.ackedCursor = this.cursor;
  }

  private schedulePing(): void {
    this.setTimer("ping", this.pingEveryMs, () => {
      if (this.phase !== "connected") {
        return;
      }
      this.write(this.newRequestId(), "ping", { clientTimeMs: BigInt(Math.round(this.env.now())) });
      this.schedulePing();
    });
  }

  // Half-open connections are the ones the socket never reports: only the server's silence
  // tells (it answers every ping).
  private watchSilence(): void {
    const left = this.lastReceived + this.silenceLimitMs - this.env.now();
    this.setTimer("silence", Math.max(left, 50), () => {
      if (this.phase !== "connected") {
        return;
      }
      if (this.env.now() - this.lastReceived >= this.silenceLimitMs) {
        this.dropConnection();
        this.reconnectWithBackoff("the server stopped answering");
        return;
      }
      this.watchSilence();
    });
  }

  // ---- requests ----------------------------------------------------------------------------

  private request<K extends Kind>(kind: K, value: Partial<Payload<K>>): Promise<Frame> {
    if (this.phase !== "connected") {
      return Promise.reject(new ClientError("not_connected", "not connected", true));
    }
    const id = this.newRequestId();
    const timeout = this.opts.requestTimeoutMs ?? 10_000;
    return new Promise<Frame>((resolve, reject) => {
      this.requests.set(id, { resolve, reject, deadline: this.env.now() + timeout });
      this.write(id, kind, value);
      this.env.setTimeout(() => {
        const r = this.requests.get(id);
        if (r) {
          this.requests.delete(id);
          r.reject(new ClientError("timeout", "no reply from the server", true));
        }
      }, timeout);
    });
  }

  async listConversations(limit = 200): Promise<Conversation[]> {
    const f = await this.request("listConversations", { limit });
    if (f.kind.case !== "conversations") {
      throw new ClientError("protocol", "unexpected reply", false);
    }
    return f.kind.value.conversations;
  }

  async history(
    conversationId: string,
    beforeSeq: number,
    limit: number,
  ): Promise<{ messages: Message[]; more: boolean; trimmed: boolean }> {
    const f = await this.request("getHistory", {
      conversationId,
      beforeSeq: BigInt(beforeSeq),
      limit,
    });
    if (f.kind.case !== "history") {
      throw new ClientError("protocol", "unexpected reply", false);
    }
    return { messages: f.kind.value.messages, more: f.kind.value.more, trimmed: f.kind.value.trimmed };
  }

  async listSpecialists(q: SpecialistQuery): Promise<{ specialists: Specialist[]; nextPageToken: string }> {
    const f = await this.request("listSpecialists", {
      specialty: q.specialty ?? "",
      language: q.language ?? "",
      acceptingNewClientsOnly: q.acceptingOnly ?? false,
      limit: q.limit ?? 0,
      pageToken: q.pageToken ?? "",
    });
    if (f.kind.case !== "specialists") {
      throw new ClientError("protocol", "unexpected reply", false);
    }
    return { specialists: f.kind.value.specialists, nextPageToken: f.kind.value.nextPageToken };
  }

  async getSpecialist(specialistId: string): Promise<Specialist> {
    const f = await this.request("getSpecialist", { specialistId });
    if (f.kind.case !== "specialists" || f.kind.value.specialists.length !== 1) {
      throw new ClientError("protocol", "unexpected reply", false);
    }
    return f.kind.value.specialists[0];
  }

  async updateConversation(
    conversationId: string,
    action: ConversationAction,
    declineReason: DeclineReason = DeclineReason.DECLINE_REASON_UNSPECIFIED,
  ): Promise<Conversation> {
    const f = await this.request("updateConversation", { conversationId, action, declineReason });
    if (f.kind.case !== "conversation" || !f.kind.value.conversation) {
      throw new ClientError("protocol", "unexpected reply", false);
    }
    return f.kind.value.conversation;
  }

  async markRead(conversationId: string, upToSeq: number): Promise<void> {
    await this.request("markRead", { conversationId, upToSeq: BigInt(upToSeq) });
  }

  async setTyping(conversationId: string, typing: boolean): Promise<void> {
    await this.request("typing", { conversationId, typing });
  }

  async setPresence(state: PresenceState.ONLINE | PresenceState.AWAY): Promise<void> {
    await this.request("setPresence", { state });
  }

  async signOut(): Promise<void> {
    this.signingOut = true;
    try {
      await this.request("signOut", {});
    } catch (e) {
      if (this.state === "signed_out") {
        return; // the server closed before its reply reached us: the close is the answer
      }
      this.signingOut = false;
      throw e;
    }
    this.finish("signed_out", "signed out");
  }

  // ---- outbox ------------------------------------------------------------------------------

  /// Queues a message (kind "message": to a conversation; "inquiry": to a specialist, opening
  /// a conversation unless one is open). It is stored with the outbox at once, so it survives
  /// a reload, and sent whenever a connection allows.
  enqueue(item: Omit<OutboxItem, "state" | "waited" | "createdMs">): void {
    const queued: QueuedItem = {
      ...item,
      state: "pending",
      waited: this.phase !== "connected",
      createdMs: this.env.now(),
      requestId: 0n,
      deadline: 0,
      notBefore: 0,
      failures: 0,
    };
    this.outbox.push(queued);
    this.persist();
    this.reportSend(queued, "pending", "", 0, 0);
    this.pumpOutbox();
  }

  /// A failed message, sent again with the same client_msg_id.
  retry(clientMsgId: string): void {
    const item = this.findItem(clientMsgId);
    if (!item || item.state !== "failed") {
      return;
    }
    item.state = "pending";
    item.error = undefined;
    item.failures = 0;
    item.notBefore = 0;
    this.persist();
    this.reportSend(item, "pending", "", 0, 0);
    this.pumpOutbox();
  }

  /// Removes a failed message from the outbox.
  discard(clientMsgId: string): void {
    const item = this.findItem(clientMsgId);
    if (item && item.state === "failed") {
      this.outbox = this.outbox.filter((i) => i !== item);
      this.persist();
    }
  }

  private keyOf(item: OutboxItem): string {
    return (item.kind === "inquiry" ? "s/" : "c/") + item.target;
  }

  private findItem(clientMsgId: string): QueuedItem | undefined {
    return this.outbox.find((i) => i.clientMsgId === clientMsgId);
  }

  private persist(): void {
    this.store.save(
      this.outbox.map(
        ({ clientMsgId, kind, target, body, freeConsultation, topic, createdMs, state, waited, error }) => ({
          clientMsgId,
          kind,
          target,
          body,
          freeConsultation,
          topic,
          createdMs,
          state,
          waited,
          error,
        }),
      ),
    );
  }

  private pumpOutbox(): void {
    this.clearTimer("outbox");
    if (this.phase !== "connected") {
      return;
    }
    const now = this.env.now();
    let wakeAt = Infinity;
    if (now < this.outboxHoldUntil) {
      wakeAt = this.outboxHoldUntil;
    } else {
      // Only the first pending message of each conversation is ever in flight: the server
      // numbers messages in arrival order, and a retried one must not be overtaken.
      const heads = new Map<string, QueuedItem>();
      for (const item of this.outbox) {
        const key = this.keyOf(item);
        if (item.state === "pending" && !heads.has(key)) {
          heads.set(key, item);
        }
      }
      for (const item of heads.values()) {
        if (item.requestId !== 0n) {
          wakeAt = Math.min(wakeAt, item.deadline);
        } else if (now >= item.notBefore) {
          this.sendItem(item, now);
          wakeAt = Math.min(wakeAt, item.deadline);
        } else {
          wakeAt = Math.min(wakeAt, item.notBefore);
        }
      }
    }
    if (wakeAt !== Infinity) {
      this.setTimer("outbox", Math.max(wakeAt - now, 0), () => this.onOutboxTimer());
    }
  }

  private onOutboxTimer(): void {
    const now = this.env.now();
    for (const item of this.outbox) {
      if (item.requestId !== 0n && now >= item.deadline) {
        // The server may have stored it: send it again with the same id.
        this.sendRequests.delete(item.requestId);
        item.requestId = 0n;
      }
    }
    this.pumpOutbox();
  }

  private sendItem(item: QueuedItem, now: number): void {
    item.requestId = this.newRequestId();
    item.deadline = now + (this.opts.requestTimeoutMs ?? 10_000);
    this.sendRequests.set(item.requestId, item.clientMsgId);
    if (item.kind === "inquiry") {
      this.write(item.requestId, "startInquiry", {
        specialistId: item.target,
        clientMsgId: item.clientMsgId,
        body: item.body,
        freeConsultation: item.freeConsultation,
        topic: item.topic ?? "",
      });
    } else {
      this.write(item.requestId, "sendMessage", {
        conversationId: item.target,
        clientMsgId: item.clientMsgId,
        body: item.body,
      });
    }
  }

  private handleSendReply(clientMsgId: string, frame: Frame): void {
    const item = this.findItem(clientMsgId);
    if (!item) {
      return;
    }
    if (frame.kind.case === "sent") {
      const s = frame.kind.value;
      const conversationId = s.conversationId || (item.kind === "message" ? item.target : "");
      this.markSent(item, conversationId, Number(s.seq), Number(s.serverTimeMs), s.safetyNotice);
      return;
    }
    const e =
      frame.kind.case === "error"
        ? errorOf(frame.kind.value)
        : new ClientError("protocol", "unexpected reply", false);
    item.requestId = 0n;
    // The protocol calls both codes retryable; a missing flag must not lose a message.
    if (e.retryable || e.code === ErrorCode.UNAVAILABLE || e.code === ErrorCode.RATE_LIMITED) {
      item.failures++;
      const min = this.opts.reconnectMinMs ?? 500;
      const backoff = Math.min(
        this.opts.reconnectMaxMs ?? 10_000,
        min * 2 ** Math.min(item.failures - 1, 20),
      );
      const delay = e.retryAfterMs > 0 ? e.retryAfterMs : min + this.env.random() * (backoff - min);
      item.notBefore = this.env.now() + delay;
      item.waited = true;
      if (e.code === ErrorCode.RATE_LIMITED) {
        // The limit is per user: hold the whole outbox.
        this.outboxHoldUntil = Math.max(this.outboxHoldUntil, item.notBefore);
      }
    } else {
      item.state = "failed";
      item.error = e.message || "refused by the server";
      this.persist();
      this.reportSend(item, "failed", "", 0, 0);
    }
    this.pumpOutbox();
  }

  private markSent(
    item: QueuedItem,
    conversationId: string,
    seq: number,
    serverTimeMs: number,
    safetyNotice?: SafetyNotice,
  ): void {
    if (item.requestId !== 0n) {
      this.sendRequests.delete(item.requestId);
    }
    this.outbox = this.outbox.filter((i) => i !== item);
    this.persist();
    this.reportSend(item, "sent", conversationId, seq, serverTimeMs, safetyNotice);
    this.pumpOutbox();
  }

  private reportSend(
    item: OutboxItem,
    state: SendUpdate["state"],
    conversationId: string,
    seq: number,
    serverTimeMs: number,
    safetyNotice?: SafetyNotice,
  ): void {
    this.events.onSendUpdate({
      clientMsgId: item.clientMsgId,
      state,
      conversationId: conversationId || (item.kind === "message" ? item.target : ""),
      seq,
      serverTimeMs,
      waited: item.waited,
      error: item.error,
      body: item.body,
      kind: item.kind,
      target: item.target,
      safetyNotice,
    });
  }

  // ---- timers ------------------------------------------------------------------------------

  private setTimer(name: string, ms: number, fn: () => void): void {
    this.clearTimer(name);
    const handle = this.env.setTimeout(() => {
      this.timers.delete(name);
      fn();
    }, ms);
    this.timers.set(name, handle);
  }

  private clearTimer(name: string): void {
    const handle = this.timers.get(name);
    if (handle !== undefined) {
      this.env.clearTimeout(handle);
      this.timers.delete(name);
    }
  }
}

export { ConversationAction, DeclineReason, PresenceState };
