// The outbox's storage: messages typed and not yet acknowledged by the server survive a reload
// (and a closed tab) in localStorage, per user. After the reload they are sent again with the
// same client_msg_id, which the server stores once.

export interface OutboxItem {
  clientMsgId: string;
  /// "inquiry": to the specialist `target` (opens a conversation unless one is open);
  /// "message": to the conversation `target`.
  kind: "inquiry" | "message";
  target: string;
  body: string;
  freeConsultation: boolean;
  /// An inquiry's topic (used if it opens a conversation).
  topic?: string;
  createdMs: number;
  /// "failed": refused for good (the reason in `error`); kept until retried or discarded.
  state: "pending" | "failed";
  waited: boolean;
  error?: string;
}

export interface OutboxStore {
  load(): OutboxItem[];
  save(items: OutboxItem[]): void;
}

/// The part of the Web Storage API used here (localStorage fits).
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function isItem(x: unknown): x is OutboxItem {
  const i = x as OutboxItem;
  return (
    typeof i === "object" &&
    i !== null &&
    typeof i.clientMsgId === "string" &&
    (i.kind === "inquiry" || i.kind === "message") &&
    typeof i.target === "string" &&
    typeof i.body === "string" &&
    (i.state === "pending" || i.state === "failed")
  );
}

/// Keeps the outbox of `userId` under one key. Storage that fails (private mode, quota) leaves
/// the outbox in memory only: sending must never depend on it.
export class LocalOutboxStore implements OutboxStore {
  private readonly key: string;

  constructor(
    private storage: KeyValueStorage | null,
    userId: string,
  ) {
    this.key = `confide.outbox.v1.${userId}`;
  }

  load(): OutboxItem[] {
    try {
      const raw = this.storage?.getItem(this.key);
      const parsed: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(parsed) ? parsed.filter(isItem) : [];
    } catch {
      return [];
    }
  }

  save(items: OutboxItem[]): void {
    try {
      if (items.length === 0) {
        this.storage?.removeItem(this.key);
      } else {
        this.storage?.setItem(this.key, JSON.stringify(items));
      }
    } catch {
      /* see the class comment */
    }
  }
}
