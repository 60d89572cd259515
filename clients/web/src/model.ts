// The page's view of conversations and messages, from the wire types: plain data, no DOM.

import {
  type Conversation as WireConversation,
  ConversationState,
  PresenceState,
} from "./gen/confide/v1/confide_pb.js";

export interface Conv {
  id: string;
  clientId: string;
  specialistId: string;
  state: ConversationState;
  free: boolean;
  createdMs: number;
  updatedMs: number;
  lastSeq: number;
  lastBody: string;
  unread: number;
  readSeq: number;
  otherReadSeq: number;
  otherDeliveredSeq: number;
  presence?: { state: PresenceState; connectionLost: boolean };
}

export interface Msg {
  seq: number;
  senderId: string;
  clientMsgId: string;
  body: string;
  timeMs: number;
}

export interface Thread {
  messages: Map<number, Msg>;
  more: boolean;
  loaded: boolean;
  loading: boolean;
}

export type Pane = { kind: "conversation"; id: string } | { kind: "draft"; specialist: string; free: boolean };

export function presenceText(p: Conv["presence"]): string {
  if (!p) {
    return "";
  }
  switch (p.state) {
    case PresenceState.ONLINE:
      return "online";
    case PresenceState.AWAY:
      return "away";
    case PresenceState.OFFLINE:
      return p.connectionLost ? "connection lost" : "offline";
    default:
      return "";
  }
}

export function stateText(s: ConversationState): string {
  switch (s) {
    case ConversationState.INQUIRY:
      return "inquiry";
    case ConversationState.ACTIVE:
      return "active";
    case ConversationState.DECLINED:
      return "declined";
    case ConversationState.CLOSED:
      return "closed";
    default:
      return "";
  }
}

export function isOpen(c: Conv): boolean {
  return c.state === ConversationState.INQUIRY || c.state === ConversationState.ACTIVE;
}

/// The conversation `c` merged into what the page knew (`old`). `snapshot`: a conversation event
/// from the stream, taken when it happened: its unread count and read mark may be older than what
/// the page already knows. Marks only move forward.
export function mergeConversation(old: Conv | undefined, c: WireConversation, snapshot: boolean): Conv {
  const lastSeq = Number(c.lastSeq);
  return {
    id: c.id,
    clientId: c.clientId,
    specialistId: c.specialistId,
    state: c.state,
    free: c.freeConsultation,
    createdMs: Number(c.createdMs),
    updatedMs: Number(c.updatedMs),
    lastSeq: Math.max(lastSeq, old?.lastSeq ?? 0),
    lastBody: c.lastMessage?.body ?? (old && old.lastSeq >= lastSeq ? old.lastBody : ""),
    unread: snapshot && old ? old.unread : Number(c.unreadCount),
    readSeq: snapshot && old ? Math.max(old.readSeq, Number(c.readSeq)) : Number(c.readSeq),
    otherReadSeq: Math.max(Number(c.otherReadSeq), old?.otherReadSeq ?? 0),
    otherDeliveredSeq: Math.max(Number(c.otherDeliveredSeq), old?.otherDeliveredSeq ?? 0),
    presence: c.otherPresence
      ? { state: c.otherPresence.state, connectionLost: c.otherPresence.connectionLost }
      : old?.presence,
  };
}
