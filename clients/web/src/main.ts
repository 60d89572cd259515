// Entry point: sign-in from the URL fragment or this tab's storage, then the page and the
// protocol client, wired to the browser (WebSocket, timers, network events).

import { App } from "./app.js";
import { ConfideClient, type SocketLike } from "./client.js";
import { LocalOutboxStore } from "./outbox.js";
import { deviceId, forgetToken, subjectOf, takeToken, type TokenSource } from "./session.js";

function storage(kind: "localStorage" | "sessionStorage"): Storage | null {
  try {
    return window[kind];
  } catch {
    return null; // storage disabled
  }
}

const tokens: TokenSource = {
  hash: window.location.hash,
  storage: storage("sessionStorage"),
  clearHash: () =>
    window.history.replaceState(null, "", window.location.pathname + window.location.search),
};

function boot(): void {
  const token = takeToken(tokens);
  const local = storage("localStorage");
  const outbox = new LocalOutboxStore(local, subjectOf(token) || "anonymous");
  const app = new App(() => {
    forgetToken(tokens);
    // A shared computer must not keep what this person typed and never sent.
    outbox.save([]);
  });
  const url = `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}/`;
  const client = new ConfideClient(
    {
      url,
      token,
      deviceId: deviceId(local, () => crypto.randomUUID()),
    },
    {
      now: () => Date.now(),
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (h) => window.clearTimeout(h as number),
      // The browser's WebSocket has the shape SocketLike describes (its handlers take Events).
      openSocket: (u) => new WebSocket(u) as unknown as SocketLike,
      random: () => Math.random(),
    },
    {
      onState: (s, d) => app.onState(s, d),
      onAuthenticated: (u, r, max, _expires, safety, retention) =>
        app.onAuthenticated(u, r, max, safety, retention),
      onSynced: (reset) => app.onSynced(reset),
      onMessage: (m) => app.onMessage(m),
      onConversation: (c) => app.onConversation(c),
      onReceipt: (r) => app.onReceipt(r),
      onPresence: (p) => app.onPresence(p),
      onTyping: (t) => app.onTyping(t),
      onSendUpdate: (u) => app.onSendUpdate(u),
    },
    outbox,
  );
  window.addEventListener("online", () => client.networkUp());
  window.addEventListener("offline", () => client.networkDown());
  app.attach(client);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", boot);
} else {
  boot();
}
