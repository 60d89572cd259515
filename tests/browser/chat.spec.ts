// The web client in a real Chromium, against a real confide-server and Redis (stack.ts): two
// browser contexts (client and specialist) chat as people would, through the page only.

import AxeBuilder from "@axe-core/playwright";
import { type Browser, type BrowserContext, type Locator, type Page, expect, test } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { Stack } from "./stack";

const LOGIN_REQUIRED = "You need to be logged in to send messages";
const BANNER = "No Internet Connection — reconnecting…";
const SENT_NOTICE = "Your message has been sent";
const screenshots = resolve(process.env.CONFIDE_BROWSER_OUT ?? join(__dirname, "../../build/browser"), "screenshots");

const desktop = { width: 1280, height: 800 };
const phone = { width: 360, height: 740 };

interface Person {
  context: BrowserContext;
  page: Page;
  dialogs: string[];
  consoleErrors: string[];
}

let stack: Stack;
// Every context a test opened: closed after it. The browser lives for the whole run, and a page
// left open keeps reconnecting to its test's stopped server, with CPU the next tests need.
const contexts = new Set<BrowserContext>();

test.beforeEach(async () => {
  stack = new Stack();
  await stack.start();
});

test.afterEach(async ({}, info) => {
  if (info.status !== info.expectedStatus) {
    await info.attach("server.log", { body: stack.log(), contentType: "text/plain" });
  }
  for (const context of [...contexts]) {
    await context.close();
  }
  await stack.stop();
});

async function open(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number } = desktop,
): Promise<Person> {
  const context = await browser.newContext({ viewport });
  contexts.add(context);
  context.on("close", () => contexts.delete(context));
  const page = await context.newPage();
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error") {
      consoleErrors.push(m.text());
    }
  });
  await page.goto(url);
  return { context, page, dialogs, consoleErrors };
}

async function signIn(
  browser: Browser,
  user: string,
  role: "client" | "specialist",
  opts: { baseURL?: string; viewport?: { width: number; height: number } } = {},
): Promise<Person> {
  const base = opts.baseURL ?? stack.baseURL;
  const p = await open(browser, `${base}/#token=${stack.token(user, role)}`, opts.viewport);
  await expect(p.page.locator("#who")).toHaveText(`Signed in as ${user} (${role})`);
  return p;
}

function rows(page: Page, text?: string): Locator {
  const all = page.locator("#messages li.msg");
  return text === undefined ? all : all.filter({ hasText: text });
}

/// The client writes to a specialist by id: opens the draft and sends the first message, which
/// opens the inquiry.
async function writeToSpecialist(page: Page, specialist: string, text: string, free = false): Promise<void> {
  await page.getByLabel("Specialist ID").fill(specialist);
  if (free) {
    await page.getByLabel(/Request the free/).check();
  }
  await page.getByRole("button", { name: "Write", exact: true }).click();
  await say(page, text);
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel("Your message").fill(text);
  await page.getByLabel("Your message").press("Enter");
}

async function openConversationWith(page: Page, other: string): Promise<void> {
  await page.locator("nav .conv", { hasText: other }).first().click();
  await expect(page.locator("#conv-title")).toHaveText(other);
}

async function conversationId(page: Page, other: string): Promise<string> {
  const id = await page.locator("nav .conv", { hasText: other }).first().getAttribute("data-conversation");
  expect(id).toBeTruthy();
  return id as string;
}

/// Records whether the banner was ever shown, from now on (a MutationObserver in the page).
async function watchBanner(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => {
    const banner = document.getElementById("banner") as HTMLElement;
    (window as unknown as { bannerShown: boolean }).bannerShown = !banner.hidden;
    new MutationObserver(() => {
      if (!banner.hidden) {
        (window as unknown as { bannerShown: boolean }).bannerShown = true;
      }
    }).observe(banner, { attributes: true });
  });
  return () => page.evaluate(() => (window as unknown as { bannerShown: boolean }).bannerShown);
}

/// The app shell fits the viewport: the message box and the newest message are on screen (the
/// message inside the message list's visible part) and the document itself does not scroll; the
/// sidebar and the message list scroll on their own.
async function expectFitsViewport(page: Page, newest: Locator): Promise<void> {
  const viewport = page.viewportSize() as { width: number; height: number };
  await expect(async () => {
    const log = await page.locator("#message-log").boundingBox();
    expect(log, "message list").not.toBeNull();
    for (const [name, l] of [
      ["message box", page.getByLabel("Your message")],
      ["newest message", newest],
    ] as const) {
      const box = await l.boundingBox();
      expect(box, name).not.toBeNull();
      const b = box as { x: number; y: number; width: number; height: number };
      expect(b.y, name).toBeGreaterThanOrEqual(0);
      expect(b.x, name).toBeGreaterThanOrEqual(0);
      expect(b.y + b.height, name).toBeLessThanOrEqual(viewport.height);
      expect(b.x + b.width, name).toBeLessThanOrEqual(viewport.width);
      if (name === "newest message" && log) {
        expect(b.y, name).toBeGreaterThanOrEqual(log.y - 1);
        expect(b.y + b.height, name).toBeLessThanOrEqual(log.y + log.height + 1);
      }
    }
    const doc = await page.evaluate(() => ({
      scrollHeight: document.documentElement.scrollHeight,
      innerHeight: window.innerHeight,
    }));
    expect(doc.scrollHeight, "the document does not scroll").toBeLessThanOrEqual(doc.innerHeight + 1);
  }).toPass({ timeout: 10_000 });
}

test("inquiry → specialist sees it first → accept → reply; ticks ✓ ✓✓ read; typing; presence", async ({
  browser,
}) => {
  // Dr Bob already has an accepted conversation with Carol.
  const bob = await signIn(browser, "dr.bob", "specialist");
  const carol = await signIn(browser, "carol", "client");
  await writeToSpecialist(carol.page, "dr.bob", "Hi, this is Carol");
  await openConversationWith(bob.page, "carol");
  await bob.page.getByRole("button", { name: "Accept" }).click();
  await expect(carol.page.locator("#conv-state")).toHaveText(/^active/);
  // He closes the tab; his browser (and so his device id) stays.
  await bob.page.close();

  // Alice writes while Dr Bob is away: her message is stored (✓), not yet delivered.
  const alice = await signIn(browser, "alice", "client");
  await writeToSpecialist(alice.page, "dr.bob", "Hello, I would like to talk", true);
  const mine = rows(alice.page, "Hello, I would like to talk");
  await expect(mine).toHaveAttribute("data-state", "sent");
  await expect(mine.locator(".tick")).toHaveText(/^✓\s*Sent$/);
  await expect(alice.page.locator("#conv-state")).toHaveText(/inquiry · free initial consultation/);
  await expect(alice.page.locator("#other-presence")).toHaveText(/connection lost|offline/);
  // Carol's conversation gets newer activity than Alice's inquiry.
  await say(carol.page, "Are you there?");
  await expect(rows(carol.page, "Are you there?")).toHaveAttribute("data-state", "sent");

  // Dr Bob comes back: the inquiry is first, above the newer active conversation.
  bob.page = await bob.context.newPage();
  await bob.page.goto(stack.url(stack.token("dr.bob", "specialist")));
  await expect(bob.page.locator("#who")).toHaveText("Signed in as dr.bob (specialist)");
  const inquiries = bob.page.locator("#inquiries .conv");
  await expect(inquiries).toHaveCount(1);
  await expect(inquiries.first()).toContainText("alice");
  await expect(inquiries.first()).toContainText("free consultation");
  await expect(inquiries.first().locator(".unread")).toHaveText("1");
  await expect(bob.page.locator("#conversations .conv").first()).toContainText("carol");
  const order = await bob.page.locator("nav .conv .conv-name").allTextContents();
  expect(order).toEqual(["alice", "carol"]);

  // His device received it: ✓✓. Alice sees him online.
  await expect(mine).toHaveAttribute("data-state", "delivered");
  await expect(mine.locator(".tick")).toHaveText(/^✓✓\s*Delivered$/);
  await expect(alice.page.locator("#other-presence")).toHaveText("online");

  // He opens it: read.
  await openConversationWith(bob.page, "alice");
  await expect(rows(bob.page, "Hello, I would like to talk")).toHaveCount(1);
  await expect(mine).toHaveAttribute("data-state", "read");
  await expect(mine.locator(".tick")).toContainText("Read");
  await expect(inquiries.first().locator(".unread")).toHaveCount(0);

  // Accept; Alice sees the conversation active.
  await bob.page.getByRole("button", { name: "Accept" }).click();
  await expect(alice.page.locator("#conv-state")).toHaveText(/^active/);
  await expect(bob.page.locator("#inquiries .conv")).toHaveCount(0);

  // Typing, then the reply.
  await bob.page.getByLabel("Your message").pressSequentially("Hello Alice");
  await expect(alice.page.locator("#typing")).toHaveText("dr.bob is typing…");
  await bob.page.getByLabel("Your message").press("Enter");
  const reply = rows(alice.page, "Hello Alice");
  await expect(reply).toHaveCount(1);
  await expect(reply).toHaveClass(/theirs/);
  await expect(alice.page.locator("#typing")).toHaveText("");
  await expect(rows(bob.page, "Hello Alice")).toHaveAttribute("data-state", "read");

  // Presence: away, then gone without signing out (connection lost after the grace period).
  await bob.page.getByLabel("Your status").selectOption("away");
  await expect(alice.page.locator("#other-presence")).toHaveText("away");
  await bob.context.close();
  await expect(alice.page.locator("#other-presence")).toHaveText("connection lost");
});

test("offline: banner, the message typed meanwhile is sent once when back; short drops show no banner", async ({
  browser,
}) => {
  const bob = await signIn(browser, "dr.bob", "specialist");
  const alice = await signIn(browser, "alice", "client");
  await writeToSpecialist(alice.page, "dr.bob", "First message");
  await expect(rows(alice.page, "First message")).toHaveAttribute("data-state", /delivered|read/);
  const cid = await conversationId(alice.page, "dr.bob");

  // A drop shorter than two seconds: no banner.
  const bannerShown = await watchBanner(alice.page);
  await alice.context.setOffline(true);
  await expect(alice.page.locator("body")).toHaveAttribute("data-connection", "reconnecting");
  await alice.context.setOffline(false);
  await expect(alice.page.locator("body")).toHaveAttribute("data-connection", "connected");
  expect(await bannerShown()).toBe(false);

  // A real outage: banner, the message waits (pending), then goes once.
  await alice.context.setOffline(true);
  await expect(alice.page.getByRole("alert").filter({ hasText: BANNER })).toBeVisible();
  await say(alice.page, "Typed while offline");
  const pending = rows(alice.page, "Typed while offline");
  await expect(pending).toHaveAttribute("data-state", "pending");
  await expect(pending.locator(".tick")).toHaveText("Sending…");
  await alice.context.setOffline(false);
  await expect(alice.page.locator("#banner")).toBeHidden();
  await expect(alice.page.locator("#notice")).toHaveText(SENT_NOTICE);
  await expect(pending).toHaveAttribute("data-state", /sent|delivered|read/);
  await expect(rows(bob.page)).toHaveCount(0); // Bob has not opened it: one unread in the list
  await openConversationWith(bob.page, "alice");
  await expect(rows(bob.page, "Typed while offline")).toHaveCount(1);
  await expect(rows(alice.page, "Typed while offline")).toHaveCount(1);
  expect(await stack.redisCli("XLEN", `cf:c:{${cid}}:log`)).toBe("2");
});

test("the server restarted under the page: reconnect and catch up without reloading", async ({ browser }) => {
  // Dr Bob on a second node, so that he can write while Alice's node is down.
  const nodeB = await stack.startNode();
  const bob = await signIn(browser, "dr.bob", "specialist", { baseURL: nodeB.baseURL });
  const alice = await signIn(browser, "alice", "client");
  await writeToSpecialist(alice.page, "dr.bob", "Before the restart");
  await openConversationWith(bob.page, "alice");
  await expect(rows(alice.page, "Before the restart")).toHaveAttribute("data-state", "read");
  const cid = await conversationId(alice.page, "dr.bob");
  await alice.page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  await stack.killServer();
  await expect(alice.page.getByRole("alert").filter({ hasText: BANNER })).toBeVisible();
  await say(alice.page, "Typed while the server was down");
  await expect(rows(alice.page, "Typed while the server was down")).toHaveAttribute("data-state", "pending");
  await say(bob.page, "Written while your server was down");
  await expect(rows(bob.page, "Written while your server was down")).toHaveAttribute("data-state", "sent");

  await stack.startServer();
  await expect(alice.page.locator("#banner")).toBeHidden({ timeout: 30_000 });
  await expect(rows(alice.page, "Written while your server was down")).toHaveCount(1);
  await expect(alice.page.locator("#notice")).toHaveText(SENT_NOTICE);
  await expect(rows(alice.page, "Typed while the server was down")).toHaveAttribute(
    "data-state",
    /sent|delivered|read/,
  );
  await expect(rows(bob.page, "Typed while the server was down")).toHaveCount(1);
  await expect(rows(bob.page, "Written while your server was down")).toHaveAttribute("data-state", "read");
  expect(await alice.page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  expect(await stack.redisCli("XLEN", `cf:c:{${cid}}:log`)).toBe("3");
});

test("a message pending at a reload is sent after it, once, with the same client_msg_id", async ({ browser }) => {
  const bob = await signIn(browser, "dr.bob", "specialist");
  const alice = await signIn(browser, "alice", "client");
  await writeToSpecialist(alice.page, "dr.bob", "Before the reload");
  await openConversationWith(bob.page, "alice");
  await expect(rows(alice.page, "Before the reload")).toHaveAttribute("data-state", "read");
  const cid = await conversationId(alice.page, "dr.bob");

  // Storage down: the server cannot store, so the message stays pending (retried, not failed).
  await stack.killRedis();
  await say(alice.page, "Pending across the reload");
  const pending = rows(alice.page, "Pending across the reload");
  await expect(pending).toHaveAttribute("data-state", "pending");
  const before = await alice.page.evaluate(() => localStorage.getItem("confide.outbox.v1.alice"));
  const queued = JSON.parse(before ?? "[]") as { clientMsgId: string; body: string }[];
  expect(queued.map((i) => i.body)).toEqual(["Pending across the reload"]);

  await alice.page.reload();
  await expect(rows(alice.page, "Pending across the reload")).toHaveAttribute("data-state", "pending");
  await stack.startRedis();
  await expect(rows(alice.page, "Pending across the reload")).toHaveAttribute("data-state", /sent|delivered|read/, {
    timeout: 30_000,
  });
  await expect(rows(bob.page, "Pending across the reload")).toHaveCount(1, { timeout: 30_000 });
  expect(await alice.page.evaluate(() => localStorage.getItem("confide.outbox.v1.alice"))).toBeNull();
  expect(await stack.redisCli("XLEN", `cf:c:{${cid}}:log`)).toBe("2");
  // Stored under the id the page chose before the reload.
  const stored = await stack.redisCli("XRANGE", `cf:c:{${cid}}:log`, "0-2", "0-2");
  expect(stored).toContain(queued[0].clientMsgId);
});

test("history is paged: the newest 50, then older ones on request; typed fast, in order", async ({ browser }) => {
  // Dr Bob's first device gets every event kept for him; a later one starts from the present
  // and pages the past in from history.
  await (await signIn(browser, "dr.bob", "specialist")).context.close();
  const alice = await signIn(browser, "alice", "client");
  await writeToSpecialist(alice.page, "dr.bob", "message 1");
  for (let i = 2; i <= 55; i++) {
    await say(alice.page, `message ${i}`);
  }
  await expect(rows(alice.page, "message 55")).toHaveAttribute("data-state", "sent", { timeout: 30_000 });
  await expect(alice.page.locator("#messages li.msg[data-state=pending]")).toHaveCount(0);
  // A desktop with the directory shown and a long conversation: the page is the viewport's
  // height, the newest message and the message box are both in view.
  await expect(alice.page.locator("#directory-section")).toBeVisible();
  await expectFitsViewport(alice.page, rows(alice.page, "message 55"));
  const bob = await signIn(browser, "dr.bob", "specialist");
  await openConversationWith(bob.page, "alice");
  await expect(rows(bob.page)).toHaveCount(50);
  const older = bob.page.getByRole("button", { name: "Load older messages" });
  await older.click();
  await expect(rows(bob.page)).toHaveCount(55);
  await expect(older).toBeHidden();
  const shown = (await bob.page.locator("#messages .body").allTextContents()).map((t) => t.replace("alice: ", ""));
  expect(shown).toEqual(Array.from({ length: 55 }, (_, i) => `message ${i + 1}`));
});

test("an idle page is signed out after inactivity (4006) and does not reconnect", async ({ browser }) => {
  await stack.stop();
  stack = new Stack({ serverArgs: ["--idle-logoff-s", "2"] });
  await stack.start();
  const alice = await signIn(browser, "alice", "client");
  await expect(alice.page.locator("#who")).toHaveText("Signed out after inactivity");
  await expect(alice.page.getByText(LOGIN_REQUIRED)).toBeVisible();
  await expect(alice.page.getByLabel("Your message")).toBeDisabled();
  expect(stack.log()).toMatch(/\{"audit":"logoff","time_ms":\d+,"user":"alice"/);
  expect(stack.log().match(/\{"audit":"sign_in",/g)?.length).toBe(1);
  await alice.context.close();
});

test("no token, an expired, a refused or an expiring token: You need to be logged in to send messages", async ({
  browser,
}) => {
  const cases = [
    { name: "no token", url: `${stack.baseURL}/` },
    { name: "expired", url: stack.url(stack.token("alice", "client", -60)) },
    { name: "refused", url: stack.url(stack.token("alice", "client").slice(0, -4) + "AAAA") },
  ];
  for (const c of cases) {
    const p = await open(browser, c.url);
    await expect(p.page.getByText(LOGIN_REQUIRED), c.name).toBeVisible();
    await expect(p.page.locator("#who"), c.name).toHaveText("Not signed in");
    await expect(p.page.getByLabel("Your message"), c.name).toBeDisabled();
    await expect(p.page.getByRole("button", { name: "Send" }), c.name).toBeDisabled();
    await p.context.close();
  }

  // A valid token leaves the address bar at once and survives a reload of the tab.
  const alice = await open(browser, stack.url(stack.token("alice", "client", 4)));
  await expect(alice.page.locator("#who")).toHaveText("Signed in as alice (client)");
  expect(alice.page.url()).toBe(`${stack.baseURL}/`);
  await expect(alice.page.getByLabel("Specialist ID")).toBeEnabled();
  await expect(alice.page.getByText(LOGIN_REQUIRED)).toBeHidden();
  // It expires during the session: the server closes (4001) and the page says so.
  await expect(alice.page.getByText(LOGIN_REQUIRED)).toBeVisible({ timeout: 20_000 });
  await expect(alice.page.getByLabel("Specialist ID")).toBeDisabled();
});

test("a hostile body renders as text", async ({ browser }) => {
  const bob = await signIn(browser, "dr.bob", "specialist");
  const alice = await signIn(browser, "alice", "client");
  const hostile = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>", '"><b onmouseover=alert(3)>bold</b>'];
  await writeToSpecialist(alice.page, "dr.bob", hostile[0]);
  await expect(rows(alice.page, hostile[0])).toHaveAttribute("data-state", /sent|delivered|read/);
  for (const h of hostile.slice(1)) {
    await say(alice.page, h);
  }
  await expect(bob.page.locator("#inquiries .conv-preview")).toHaveText(hostile[2]);
  await openConversationWith(bob.page, "alice");
  for (const h of hostile) {
    await expect(rows(bob.page, h).locator(".body")).toHaveText(`alice: ${h}`);
  }
  for (const p of [alice, bob]) {
    await expect(p.page.locator("#messages img, #messages script, #messages b")).toHaveCount(0);
    expect(p.dialogs).toEqual([]);
  }
});

test("the served origin opens the WebSocket; a page from another origin cannot", async ({ browser, request }) => {
  // The page the server serves, at 127.0.0.1 and at localhost (another host name, its own origin).
  for (const base of [stack.baseURL, stack.baseURL.replace("127.0.0.1", "localhost")]) {
    const p = await open(browser, `${base}/`);
    const outcome = await p.page.evaluate(
      (url) =>
        new Promise<string>((done) => {
          const ws = new WebSocket(url);
          ws.onopen = () => {
            ws.close();
            done("open");
          };
          ws.onerror = () => done("error");
        }),
      base.replace("http", "ws") + "/",
    );
    expect(outcome, base).toBe("open");
    await p.context.close();
  }

  // Another site's page.
  const evil = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!doctype html><title>elsewhere</title><p>another site</p>");
  });
  await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
  const evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  try {
    const p = await open(browser, `${evilOrigin}/`);
    const outcome = await p.page.evaluate(
      (url) =>
        new Promise<string>((done) => {
          const ws = new WebSocket(url);
          ws.onopen = () => done("open");
          ws.onerror = () => done("error");
        }),
      stack.baseURL.replace("http", "ws") + "/",
    );
    expect(outcome).toBe("error");
    await expect.poll(() => stack.log()).toContain(`origin '${evilOrigin}' not allowed`);
    await p.context.close();
  } finally {
    evil.close();
  }

  // The same refusal, seen at the HTTP level.
  const refused = await request.get(`${stack.baseURL}/`, {
    headers: {
      Origin: evilOrigin,
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    },
  });
  expect(refused.status()).toBe(403);
});

test("the server serves the app with content types, caching and a strict CSP the app keeps to", async ({
  browser,
  request,
}) => {
  const index = await request.get(`${stack.baseURL}/`);
  expect(index.status()).toBe(200);
  const h = index.headers();
  expect(h["content-type"]).toBe("text/html; charset=utf-8");
  expect(h["cache-control"]).toBe("no-cache");
  expect(h["content-security-policy"]).toContain("script-src 'self'");
  expect(h["content-security-policy"]).not.toContain("unsafe-inline");
  expect(h["x-content-type-options"]).toBe("nosniff");
  const html = await index.text();
  const script = html.match(/src="(\/assets\/app-[A-Z0-9]+\.js)"/)?.[1];
  const style = html.match(/href="(\/assets\/style-[A-Z0-9]+\.css)"/)?.[1];
  expect(script && style).toBeTruthy();
  expect(html).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>|\son\w+=|style=/);

  const js = await request.get(`${stack.baseURL}${script}`);
  expect(js.headers()["content-type"]).toBe("text/javascript; charset=utf-8");
  expect(js.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  const css = await request.get(`${stack.baseURL}${style}`);
  expect(css.headers()["content-type"]).toBe("text/css; charset=utf-8");
  const again = await request.get(`${stack.baseURL}/`, { headers: { "If-None-Match": h.etag } });
  expect(again.status()).toBe(304);
  expect((await request.post(`${stack.baseURL}/`)).status()).toBe(405);
  expect((await request.get(`${stack.baseURL}/../etc/passwd`)).status()).toBe(404);

  // The app runs under that policy: no violation reported.
  const alice = await signIn(browser, "alice", "client");
  await writeToSpecialist(alice.page, "dr.bob", "hello");
  await expect(rows(alice.page, "hello")).toHaveAttribute("data-state", "sent");
  expect(alice.consoleErrors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
});

test("keyboard only: write to a specialist and send, on a 360 px screen", async ({ browser }) => {
  const alice = await signIn(browser, "alice", "client", { viewport: phone });
  const page = alice.page;
  await page.keyboard.press("Tab"); // skip link
  await page.keyboard.press("Tab"); // status
  await page.keyboard.press("Tab"); // sign out
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Specialist ID")).toBeFocused();
  await page.keyboard.type("dr.bob");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("What is it about? (optional)")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel(/Request the free/)).toBeFocused();
  await page.keyboard.press("Space");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Your message")).toBeFocused();
  await page.keyboard.type("Hello from the keyboard");
  await page.keyboard.press("Enter");
  await expect(rows(page, "Hello from the keyboard")).toHaveAttribute("data-state", "sent");
  await expect(page.locator("#conv-state")).toHaveText(/free initial consultation/);
  // Back to the list, with the keyboard, on the phone layout.
  await expect(page.locator("#sidebar")).toBeHidden();
  await page.getByRole("button", { name: "← Conversations" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.locator("#sidebar")).toBeVisible();
  await expect(page.locator("nav .conv", { hasText: "dr.bob" })).toBeFocused();
  // Nothing wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test("both views: no serious or critical accessibility violations (axe), and screenshots", async ({ browser }) => {
  mkdirSync(screenshots, { recursive: true });
  for (const viewport of [desktop, phone]) {
    const label = viewport === desktop ? "desktop" : "mobile";
    const bob = await signIn(browser, "dr.bob", "specialist", { viewport });
    const alice = await signIn(browser, "alice", "client", { viewport });
    if (viewport === desktop) {
      await writeToSpecialist(alice.page, "dr.bob", "Hello, I have been feeling anxious lately and would like to talk.", true);
    } else {
      await openConversationWith(alice.page, "dr.bob");
    }
    await openConversationWith(bob.page, "alice");
    if (viewport === desktop) {
      await bob.page.getByRole("button", { name: "Accept" }).click();
      await say(bob.page, "Hello Alice, thank you for writing. I'm here — tell me what's on your mind.");
      await expect(rows(alice.page, "thank you for writing")).toHaveCount(1);
      await say(alice.page, "Thank you. Mostly at night, it's hard to sleep.");
      await expect(rows(alice.page, "Mostly at night")).toHaveAttribute("data-state", "read");
      await expect(alice.page.locator("#directory-section")).toBeVisible();
      await expectFitsViewport(alice.page, rows(alice.page, "Mostly at night"));
      await expectFitsViewport(bob.page, rows(bob.page, "Mostly at night"));
      await bob.page.getByLabel("Your message").pressSequentially("That sounds");
      await expect(alice.page.locator("#typing")).toHaveText("dr.bob is typing…");
    } else {
      await expect(rows(alice.page, "Mostly at night")).toHaveAttribute("data-state", "read");
      await expectFitsViewport(alice.page, rows(alice.page, "Mostly at night"));
      await expectFitsViewport(bob.page, rows(bob.page, "Mostly at night"));
    }

    for (const [who, p] of [
      ["client", alice],
      ["specialist", bob],
    ] as const) {
      const result = await new AxeBuilder({ page: p.page })
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze();
      const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      expect(
        bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
        `${who} ${label}`,
      ).toEqual([]);
      await p.page.screenshot({ path: join(screenshots, `${who}-${label}.png`), fullPage: false });
    }
    await bob.context.close();
    await alice.context.close();
  }
  // The signed-out view too.
  const out = await open(browser, `${stack.baseURL}/`);
  await expect(out.page.getByText(LOGIN_REQUIRED)).toBeVisible();
  const result = await new AxeBuilder({ page: out.page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  expect(result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual(
    [],
  );
});

test("the directory: find a specialist away until their hours, write with a topic, the safety notice, an inquiry that expires for both", async ({
  browser,
}) => {
  // Office hours tomorrow only (UTC): now is outside them.
  const tomorrow = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][(new Date().getUTCDay() + 1) % 7];
  await stack.stop();
  stack = new Stack({
    serverArgs: [
      "--inquiry-expiry-s", "3",
      "--workflow-interval-ms", "200",
      "--safety-notice", "This chat is not for emergencies.",
      "--crisis-line", "Call 112 now if you are in danger.",
      "--retention-days", "30",
    ],
    specialists: {
      "dr.bob": [
        "--name", "Dr Bob Example", "--specialties", "anxiety,sleep", "--languages", "en,de",
        "--time-zone", "UTC", "--office-hours", `${tomorrow} 09:00-17:00`,
        "--expected-reply-minutes", "240", "--free-consultation-minutes", "30",
      ],
      "dr.full": ["--name", "Dr Full", "--accepting", "no"],
    },
  });
  await stack.start();

  const alice = await signIn(browser, "alice", "client");
  const card = alice.page.locator("article.specialist", { hasText: "Dr Bob Example" });
  await expect(card).toContainText("anxiety, sleep");
  await expect(card).toContainText(/away until/);
  await expect(card).toContainText("replies within 4 h");
  await expect(card).toContainText("free 30-minute initial consultation");
  // Only those accepting new clients, unless asked otherwise.
  await expect(alice.page.locator("article.specialist", { hasText: "Dr Full" })).toHaveCount(0);
  await alice.page.getByLabel("Accepting new clients only").uncheck();
  await alice.page.getByRole("button", { name: "Search" }).click();
  await expect(alice.page.locator("article.specialist", { hasText: "Dr Full" })).toContainText(
    "not accepting new clients",
  );

  await card.getByRole("button", { name: "Write to Dr Bob Example" }).click();
  await expect(alice.page.getByLabel("Specialist ID")).toHaveValue("dr.bob");
  await expect(alice.page.locator("#safety-form")).toHaveText(
    "This chat is not for emergencies. Call 112 now if you are in danger.",
  );
  await alice.page.getByLabel("What is it about? (optional)").fill("Sleep");
  await alice.page.getByLabel("Request the free 30-minute initial consultation").check();
  await alice.page.getByRole("button", { name: "Write", exact: true }).click();
  await say(alice.page, "Hello, I cannot sleep.");
  await expect(rows(alice.page, "I cannot sleep")).toHaveAttribute("data-state", /sent|delivered|read/);
  await expect(alice.page.locator("#safety-pane")).toBeVisible();
  await expect(alice.page.locator("#retention-pane")).toHaveText(
    "Messages are kept for 30 days, then deleted from the server.",
  );
  await expect(alice.page.locator("#conv-topic")).toHaveText("Topic: Sleep");
  await expect(alice.page.locator("#other-presence")).toContainText(/away until/);

  const bob = await signIn(browser, "dr.bob", "specialist");
  await openConversationWith(bob.page, "alice");
  await expect(bob.page.locator("#conv-topic")).toHaveText("Topic: Sleep");
  await expect(bob.page.locator("#safety-pane")).toBeHidden();

  // Nobody answers: after 3 s both are told, the client where to go next.
  await expect(alice.page.locator("#conv-hint")).toContainText("did not answer in time");
  await expect(alice.page.locator("#conv-hint")).toContainText("write to another specialist");
  await expect(bob.page.locator("#conv-state")).toHaveText(/expired/);
  await expect(alice.page.getByLabel("Your message")).toBeDisabled();
});

test("a refused message: failed with the reason, Retry and Discard; Retry sends it once when the cause is gone", async ({
  browser,
}) => {
  await stack.stop();
  stack = new Stack({ specialists: { "dr.full": ["--name", "Dr Full", "--accepting", "no"] } });
  await stack.start();
  const alice = await signIn(browser, "alice", "client");

  // Refused for good: a specialist nobody listed. Discard takes it out of the outbox.
  await writeToSpecialist(alice.page, "dr.nobody", "Is anyone there?");
  const lost = rows(alice.page, "Is anyone there?");
  await expect(lost).toHaveAttribute("data-state", "failed");
  await expect(lost.locator(".error")).toHaveText("Not sent: no specialist with this id is listed");
  await lost.getByRole("button", { name: "Discard" }).click();
  await expect(lost).toHaveCount(0);
  expect(await alice.page.evaluate(() => localStorage.getItem("confide.outbox.v1.alice"))).toBeNull();

  // Refused until the specialist takes new clients again.
  await writeToSpecialist(alice.page, "dr.full", "Do you have room for me?");
  const row = rows(alice.page, "Do you have room for me?");
  await expect(row).toHaveAttribute("data-state", "failed");
  await expect(row.locator(".error")).toHaveText("Not sent: this specialist is not accepting new clients");
  await expect(row.locator(".tick")).toHaveText(/^!\s*Not sent$/);
  await expect(row.getByRole("button", { name: "Discard" })).toBeVisible();
  await expect(alice.page.locator("#announcer")).toHaveText(
    "Message not sent: this specialist is not accepting new clients.",
  );
  // It waits in the outbox, failed, with the id it will be retried under.
  const saved = JSON.parse(
    (await alice.page.evaluate(() => localStorage.getItem("confide.outbox.v1.alice"))) ?? "[]",
  ) as { clientMsgId: string; state: string }[];
  expect(saved.map((i) => i.state)).toEqual(["failed"]);

  await stack.admin("directory", "update", "dr.full", "--accepting", "yes");
  await row.getByRole("button", { name: "Retry" }).click();
  await expect(row).toHaveAttribute("data-state", /sent|delivered|read/);
  await expect(row.locator(".error")).toHaveCount(0);
  await expect(row.getByRole("button", { name: "Retry" })).toHaveCount(0);
  expect(await alice.page.evaluate(() => localStorage.getItem("confide.outbox.v1.alice"))).toBeNull();

  // Sent once, under the same id.
  const full = await signIn(browser, "dr.full", "specialist");
  await openConversationWith(full.page, "alice");
  await expect(rows(full.page, "Do you have room for me?")).toHaveCount(1);
  const cid = await conversationId(alice.page, "dr.full");
  expect(await stack.redisCli("XLEN", `cf:c:{${cid}}:log`)).toBe("1");
  expect(await stack.redisCli("XRANGE", `cf:c:{${cid}}:log`, "-", "+")).toContain(saved[0].clientMsgId);
});

test("the specialist declines with a reason: both see the state and why, and sending is disabled", async ({
  browser,
}) => {
  const bob = await signIn(browser, "dr.bob", "specialist");
  const alice = await signIn(browser, "alice", "client");
  await writeToSpecialist(alice.page, "dr.bob", "Can you help me with my sleep?");
  await expect(rows(alice.page, "Can you help me with my sleep?")).toHaveAttribute("data-state", /sent|delivered|read/);
  // A client cannot accept or decline; an open inquiry can be closed by either party.
  await expect(alice.page.getByRole("button", { name: "Decline", exact: true })).toBeHidden();
  await expect(alice.page.getByRole("button", { name: "Close conversation" })).toBeVisible();

  await openConversationWith(bob.page, "alice");
  await bob.page.getByLabel("Reason").selectOption({ label: "Outside my expertise" });
  await bob.page.getByRole("button", { name: "Decline", exact: true }).click();
  const why = "This is outside the specialist's area of expertise.";
  await expect(bob.page.locator("#conv-state")).toHaveText(/^declined/);
  await expect(bob.page.locator("#conv-hint")).toHaveText(`You declined this inquiry. ${why}`);
  for (const name of ["Accept", "Decline", "Close conversation"]) {
    await expect(bob.page.getByRole("button", { name, exact: true })).toBeHidden();
  }
  await expect(bob.page.getByLabel("Your message")).toBeDisabled();

  await expect(alice.page.locator("#conv-state")).toHaveText(/^declined/);
  await expect(alice.page.locator("#conv-hint")).toHaveText(
    `dr.bob declined this inquiry. ${why} You can write to another specialist.`,
  );
  await expect(alice.page.getByLabel("Your message")).toBeDisabled();
  await expect(alice.page.getByRole("button", { name: "Send" })).toBeDisabled();
  await expect(alice.page.getByRole("button", { name: "Close conversation" })).toBeHidden();
  await expect(alice.page.locator("nav .conv", { hasText: "dr.bob" }).first()).toContainText("declined");
});

test("the specialist closes the conversation: a message typed meanwhile fails with the reason; sending is disabled and explained", async ({
  browser,
}) => {
  const bob = await signIn(browser, "dr.bob", "specialist");
  const alice = await signIn(browser, "alice", "client");
  await writeToSpecialist(alice.page, "dr.bob", "Hello");
  await openConversationWith(bob.page, "alice");
  await bob.page.getByRole("button", { name: "Accept" }).click();
  await expect(alice.page.locator("#conv-state")).toHaveText(/^active/);
  await expect(alice.page.getByRole("button", { name: "Close conversation" })).toBeVisible();
  const cid = await conversationId(alice.page, "dr.bob");

  // Alice's message waits for the connection while Dr Bob closes the conversation.
  await alice.context.setOffline(true);
  await expect(alice.page.locator("body")).toHaveAttribute("data-connection", /reconnecting|offline/);
  await say(alice.page, "One more thing");
  const row = rows(alice.page, "One more thing");
  await expect(row).toHaveAttribute("data-state", "pending");
  await bob.page.getByRole("button", { name: "Close conversation" }).click();
  await expect(bob.page.locator("#conv-state")).toHaveText(/^closed/);
  await expect(bob.page.getByLabel("Your message")).toBeDisabled();
  await alice.context.setOffline(false);

  await expect(row).toHaveAttribute("data-state", "failed");
  await expect(row.locator(".error")).toHaveText("Not sent: the conversation is closed");
  await expect(row.getByRole("button", { name: "Retry" })).toBeVisible();
  await expect(alice.page.locator("#conv-state")).toHaveText(/^closed/);
  await expect(alice.page.locator("#conv-hint")).toHaveText(
    "This conversation is closed. Write to the specialist again to start a new one.",
  );
  await expect(alice.page.getByLabel("Your message")).toBeDisabled();
  await expect(alice.page.getByRole("button", { name: "Send" })).toBeDisabled();
  await expect(alice.page.getByRole("button", { name: "Close conversation" })).toBeHidden();
  // Nothing was stored after the close.
  expect(await stack.redisCli("XLEN", `cf:c:{${cid}}:log`)).toBe("1");
  await expect(rows(bob.page, "One more thing")).toHaveCount(0);
});
