// DOM helpers and the rendering of one message. Text from the network goes in as text nodes
// only (textContent), never through an HTML parser.

import type { OutboxItem } from "./outbox.js";

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) {
    e.className = props.className;
  }
  if (props.text !== undefined) {
    e.textContent = props.text;
  }
  for (const c of children) {
    e.append(c);
  }
  return e;
}

export function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) {
    throw new Error(`the page has no #${id}`);
  }
  return e as T;
}

export function clockTime(ms: number): string {
  if (!ms) {
    return "";
  }
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function utf8Bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

const TICKS: Record<string, { mark: string; word: string; wordClass: string }> = {
  sent: { mark: "✓", word: "Sent", wordClass: "visually-hidden" },
  delivered: { mark: "✓✓", word: "Delivered", wordClass: "visually-hidden" },
  read: { mark: "✓✓", word: "Read", wordClass: "read-label" },
  failed: { mark: "!", word: "Not sent", wordClass: "visually-hidden" },
};

export function tick(state: string): HTMLElement {
  const span = el("span", { className: `tick tick-${state}` });
  if (state === "pending") {
    const clock = el("span", { className: "clock" });
    clock.setAttribute("aria-hidden", "true");
    span.append(clock, el("span", { className: "visually-hidden", text: "Sending…" }));
    span.title = "Waiting to be sent";
    return span;
  }
  const look = TICKS[state];
  if (look) {
    // "Read" is shown in words; the other states' words are for screen readers.
    span.append(el("span", { text: look.mark }), el("span", { className: look.wordClass, text: ` ${look.word}` }));
    span.title = look.word;
  }
  return span;
}

/// Fills `li` with one message: its text, time and, for the user's own, the tick (and for a
/// failed one the reason with Retry and Discard). Unchanged rows are left alone, so screen
/// readers hear only what is new.
export function fillMessageRow(
  li: HTMLLIElement,
  own: boolean,
  body: string,
  timeMs: number,
  state: string,
  sender: string,
  item: OutboxItem | undefined,
  actions: { retry(id: string): void; discard(id: string): void },
): void {
  const signature = JSON.stringify([own, body, timeMs, state, item?.error ?? ""]);
  if (li.dataset.signature === signature) {
    return;
  }
  li.dataset.signature = signature;
  li.className = `msg ${own ? "own" : "theirs"}`;
  li.dataset.state = state;
  const from = el("span", { className: "visually-hidden", text: own ? "You: " : `${sender}: ` });
  const text = el("p", { className: "body" }, from, document.createTextNode(body));
  const meta = el("p", { className: "meta" });
  if (timeMs) {
    const time = el("time", { text: clockTime(timeMs) });
    time.dateTime = new Date(timeMs).toISOString();
    meta.append(time);
  }
  if (own) {
    meta.append(tick(state));
  }
  li.replaceChildren(text, meta);
  if (item && state === "failed") {
    const retry = el("button", { className: "retry", text: "Retry" });
    retry.type = "button";
    retry.addEventListener("click", () => actions.retry(item.clientMsgId));
    const discard = el("button", { className: "discard", text: "Discard" });
    discard.type = "button";
    discard.addEventListener("click", () => actions.discard(item.clientMsgId));
    li.append(
      el("p", { className: "error", text: `Not sent: ${item.error ?? "refused"}` }),
      el("p", { className: "row-actions" }, retry, discard),
    );
  }
}
