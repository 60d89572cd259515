// The page's view of conversations and messages, from the wire types: plain data, no DOM.

import {
  type Availability,
  type Conversation as WireConversation,
  ConversationState,
  DeclineReason,
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
  /// INQUIRY not answered yet: when it expires (0: it will not); EXPIRED: when it did.
  expiresMs: number;
  declineReason: DeclineReason;
  topic: string;
  /// The specialist's availability (clients' view), as last listed.
  availability?: Availability;
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

export type Pane =
  | { kind: "conversation"; id: string }
  | { kind: "draft"; specialist: string; free: boolean; topic?: string };

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

/// The server's retention in one sentence for the conversation view; "" for 0 (kept).
export function retentionText(days: number): string {
  if (!days) {
    return "";
  }
  return `Messages are kept for ${days} ${days === 1 ? "day" : "days"}, then deleted from the server.`;
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
    case ConversationState.EXPIRED:
      return "expired";
    case ConversationState.ERASED:
      return "erased";
    default:
      return "";
  }
}

const dayAndTime: Intl.DateTimeFormatOptions = { weekday: "long", hour: "2-digit", minute: "2-digit" };
const dateAndTime: Intl.DateTimeFormatOptions = {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
};

/// A moment in the person's own time zone: "Monday 09:00" within a week, else with the date.
export function whenText(ms: number, now: number, timeZone?: string): string {
  const within = ms - now < 6 * 24 * 3600 * 1000;
  return new Date(ms).toLocaleString([], { ...(within ? dayAndTime : dateAndTime), timeZone });
}

/// A duration people read: "45 min", "4 h", "2 days".
export function durationText(ms: number): string {
  const min = Math.round(ms / 60000);
  if (min < 60) {
    return `${Math.max(min, 1)} min`;
  }
  const h = Math.round(min / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} days`;
}

/// Where a specialist stands now, from the server's availability and the person's own clock:
/// "available now", "away until Monday 09:00" (in the person's time zone). `timeZone` is for
/// tests; the page uses the browser's.
export function availabilityText(a: Availability | undefined, now: number, timeZone?: string): string {
  if (!a || !a.hasOfficeHours) {
    return "";
  }
  // The server sent the next week's office hours: decide with this clock, not the server's.
  const hours = a.upcomingOfficeHours.map((r) => ({ start: Number(r.startMs), end: Number(r.endMs) }));
  const current = hours.find((r) => r.start <= now && now < r.end);
  if (current) {
    return `in office hours until ${whenText(current.end, now, timeZone)}`;
  }
  const next = hours.find((r) => r.start > now);
  return next ? `away until ${whenText(next.start, now, timeZone)}` : "away";
}

/// The stated and the measured reply time: "usually replies within 4 h (measured: 2 h)".
export function replyTimeText(a: Availability | undefined): string {
  if (!a) {
    return "";
  }
  const parts: string[] = [];
  if (a.expectedReplyMinutes > 0) {
    parts.push(`replies within ${durationText(a.expectedReplyMinutes * 60000)}`);
  }
  if (a.firstReplySamples > 0) {
    parts.push(`median first reply ${durationText(Number(a.medianFirstReplyMs))} (last 30 days)`);
  }
  return parts.join(" · ");
}

/// A decline reason, said kindly to the client.
export function declineText(r: DeclineReason): string {
  switch (r) {
    case DeclineReason.NO_CAPACITY:
      return "The specialist has no room for new clients at the moment.";
    case DeclineReason.OUTSIDE_EXPERTISE:
      return "This is outside the specialist's area of expertise.";
    case DeclineReason.SCHEDULE_MISMATCH:
      return "The specialist cannot offer times that suit you.";
    case DeclineReason.LANGUAGE_MISMATCH:
      return "The specialist does not work in your language.";
    case DeclineReason.OTHER_CARE_NEEDED:
      return "The specialist thinks another kind of care would support you better.";
    case DeclineReason.OTHER_REASON:
      return "The specialist could not take this on.";
    default:
      return "";
  }
}

/// The decline reasons a specialist chooses from, with their labels.
export const declineChoices: { reason: DeclineReason; label: string }[] = [
  { reason: DeclineReason.DECLINE_REASON_UNSPECIFIED, label: "No reason given" },
  { reason: DeclineReason.NO_CAPACITY, label: "No capacity for new clients" },
  { reason: DeclineReason.OUTSIDE_EXPERTISE, label: "Outside my expertise" },
  { reason: DeclineReason.SCHEDULE_MISMATCH, label: "Cannot offer suitable times" },
  { reason: DeclineReason.LANGUAGE_MISMATCH, label: "Language" },
  { reason: DeclineReason.OTHER_CARE_NEEDED, label: "Another kind of care is needed" },
  { reason: DeclineReason.OTHER_REASON, label: "Other" },
];

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
    expiresMs: Number(c.expiresAtMs),
    declineReason: c.declineReason,
    topic: c.topic,
    availability: c.otherPresence?.availability ?? old?.availability,
  };
}
