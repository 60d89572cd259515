// The page: what the person sees and does, for both roles. State lives in plain objects; the
// DOM is updated from it. Text from the network is only ever put in the page as text
// (textContent), never parsed as HTML.

import {
  type ClientError,
  type ConnectionState,
  ConfideClient,
  ConversationAction,
  DeclineReason,
  PresenceState,
  type SendUpdate,
} from "./client.js";
import {
  type Conversation as WireConversation,
  ConversationState,
  type Message as WireMessage,
  type Presence as WirePresence,
  Role,
  type SafetyNotice,
  type Specialist,
} from "./gen/confide/v1/confide_pb.js";
import {
  availabilityText,
  type Conv,
  declineChoices,
  declineText,
  isOpen,
  mergeConversation,
  type Msg,
  type Pane,
  presenceText,
  replyTimeText,
  retentionText,
  stateText,
  type Thread,
  whenText,
} from "./model.js";
import { byId, el, fillMessageRow, utf8Bytes } from "./view.js";

const HISTORY_PAGE = 50;
const BANNER_DELAY_MS = 2000; // drops shorter than this show no banner
const NOTICE_MS = 6000;
const TYPING_SHOWN_MS = 6000;
const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const DIRECTORY_PAGE = 20;

export class App {
  private client: ConfideClient | null = null;
  private me = "";
  private role: Role = Role.ROLE_UNSPECIFIED;
  private maxBodyBytes = 8192;
  private conn: ConnectionState = "idle";
  private convs = new Map<string, Conv>();
  private threads = new Map<string, Thread>();
  private pane: Pane | null = null;
  private typing = new Map<string, { user: string; until: number }>();
  private typingSentAt = 0;
  private typingStop: number | undefined;
  private typingFor = "";
  private bannerTimer: number | undefined;
  private noticeTimer: number | undefined;
  private wantAway = false;
  private messageRows = new Map<string, HTMLLIElement>();
  private renderedPaneKey = "";
  private listRefresh: number | undefined;
  private safety: SafetyNotice | undefined;
  /// The server's retention (days; 0: messages are kept), said in the conversation view.
  private retentionDays = 0;
  private specialists: Specialist[] = [];
  private specialistsNext = "";
  private specialistsLoaded = false;

  private readonly ui = {
    who: byId<HTMLParagraphElement>("who"),
    banner: byId<HTMLDivElement>("banner"),
    login: byId<HTMLParagraphElement>("login-required"),
    notice: byId<HTMLDivElement>("notice"),
    announcer: byId<HTMLDivElement>("announcer"),
    signOut: byId<HTMLButtonElement>("sign-out"),
    myPresenceLabel: byId<HTMLLabelElement>("my-presence-label"),
    myPresence: byId<HTMLSelectElement>("my-presence"),
    directory: byId<HTMLElement>("directory-section"),
    directoryFilter: byId<HTMLFormElement>("directory-filter"),
    filterSpecialty: byId<HTMLInputElement>("filter-specialty"),
    filterLanguage: byId<HTMLInputElement>("filter-language"),
    filterAccepting: byId<HTMLInputElement>("filter-accepting"),
    specialists: byId<HTMLUListElement>("specialists"),
    specialistsEmpty: byId<HTMLParagraphElement>("specialists-empty"),
    moreSpecialists: byId<HTMLButtonElement>("more-specialists"),
    newInquiry: byId<HTMLFormElement>("new-inquiry"),
    specialistId: byId<HTMLInputElement>("specialist-id"),
    topic: byId<HTMLInputElement>("inquiry-topic"),
    free: byId<HTMLInputElement>("free-consultation"),
    freeLabel: byId<HTMLLabelElement>("free-consultation-label"),
    safetyForm: byId<HTMLParagraphElement>("safety-form"),
    safetyPane: byId<HTMLParagraphElement>("safety-pane"),
    retentionPane: byId<HTMLParagraphElement>("retention-pane"),
    convTopic: byId<HTMLParagraphElement>("conv-topic"),
    declineReasonLabel: byId<HTMLLabelElement>("decline-reason-label"),
    declineReason: byId<HTMLSelectElement>("decline-reason"),
    openSpecialist: byId<HTMLButtonElement>("open-specialist"),
    inquiriesSection: byId<HTMLElement>("inquiries-section"),
    inquiries: byId<HTMLUListElement>("inquiries"),
    inquiriesEmpty: byId<HTMLParagraphElement>("inquiries-empty"),
    conversations: byId<HTMLUListElement>("conversations"),
    conversationsEmpty: byId<HTMLParagraphElement>("conversations-empty"),
    back: byId<HTMLButtonElement>("back"),
    title: byId<HTMLHeadingElement>("conv-title"),
    otherPresence: byId<HTMLSpanElement>("other-presence"),
    convState: byId<HTMLSpanElement>("conv-state"),
    accept: byId<HTMLButtonElement>("accept"),
    decline: byId<HTMLButtonElement>("decline"),
    close: byId<HTMLButtonElement>("close-conv"),
    hint: byId<HTMLParagraphElement>("conv-hint"),
    loadOlder: byId<HTMLButtonElement>("load-older"),
    log: byId<HTMLDivElement>("message-log"),
    messages: byId<HTMLOListElement>("messages"),
    typing: byId<HTMLParagraphElement>("typing"),
    composer: byId<HTMLFormElement>("composer"),
    input: byId<HTMLTextAreaElement>("composer-input"),
    send: byId<HTMLButtonElement>("send"),
    composerError: byId<HTMLParagraphElement>("composer-error"),
  };

  private readonly rowActions = {
    retry: (id: string) => this.client?.retry(id),
    discard: (id: string) => {
      this.client?.discard(id);
      this.render();
    },
  };

  constructor(private onSignOut: () => void) {
    this.pane = this.loadPane();
    for (const c of declineChoices) {
      const o = el("option", { text: c.label });
      o.value = String(c.reason);
      this.ui.declineReason.append(o);
    }
    this.bindControls();
    this.render();
  }

  /// Attaches the protocol client (created by main.ts) and starts it.
  attach(client: ConfideClient): void {
    this.client = client;
    this.render();
    client.start();
  }

  // ---- client events -----------------------------------------------------------------------

  onState(state: ConnectionState, _detail: string): void {
    this.conn = state;
    if (state === "connecting" || state === "reconnecting") {
      if (this.bannerTimer === undefined && this.ui.banner.hidden) {
        this.bannerTimer = window.setTimeout(() => {
          this.bannerTimer = undefined;
          if (this.conn === "connecting" || this.conn === "reconnecting") {
            this.ui.banner.hidden = false;
          }
        }, BANNER_DELAY_MS);
      }
    } else {
      window.clearTimeout(this.bannerTimer);
      this.bannerTimer = undefined;
      const bannerWasShown = !this.ui.banner.hidden;
      this.ui.banner.hidden = true;
      if (state === "connected" && bannerWasShown) {
        this.announce("Connected again.");
      }
    }
    if (state === "connected") {
      void this.refreshAll();
    }
    this.render();
  }

  onAuthenticated(
    userId: string,
    role: Role,
    maxBodyBytes: number,
    safety?: SafetyNotice,
    retentionDays?: number,
  ): void {
    this.me = userId;
    this.role = role;
    this.maxBodyBytes = maxBodyBytes;
    this.safety = safety;
    this.retentionDays = retentionDays ?? 0;
  }

  onSynced(reset: boolean): void {
    if (reset) {
      this.threads.clear();
      void this.refreshAll();
    }
  }

  onMessage(m: WireMessage): void {
    const msg: Msg = {
      seq: Number(m.seq),
      senderId: m.senderId,
      clientMsgId: m.clientMsgId,
      body: m.body,
      timeMs: Number(m.serverTimeMs),
    };
    const conv = this.convs.get(m.conversationId);
    const thread = this.threadOf(m.conversationId);
    const isNew = !thread.messages.has(msg.seq);
    thread.messages.set(msg.seq, msg);
    if (!conv) {
      this.scheduleListRefresh();
      this.render();
      return;
    }
    if (msg.seq > conv.lastSeq) {
      conv.lastSeq = msg.seq;
      conv.lastBody = msg.body;
      conv.updatedMs = Math.max(conv.updatedMs, msg.timeMs);
      if (isNew && msg.senderId !== this.me && msg.seq > conv.readSeq) {
        conv.unread++;
      }
    }
    if (msg.senderId !== this.me) {
      this.typing.delete(m.conversationId);
    }
    this.render();
  }

  onConversation(c: WireConversation): void {
    const before = this.convs.get(c.id);
    const conv = this.upsert(c, true);
    if (!before) {
      this.scheduleListRefresh(); // for its unread count, last message and presence
    }
    if (!before && this.role === Role.SPECIALIST && conv.state === ConversationState.INQUIRY) {
      this.announce(`New inquiry from ${conv.clientId}.`);
    } else if (before && before.state !== conv.state) {
      this.announce(`Conversation with ${this.otherOf(conv)} is now ${stateText(conv.state)}.`);
    }
    this.render();
  }

  onReceipt(r: { conversationId: string; userId: string; kind: number; upToSeq: bigint }): void {
    const conv = this.convs.get(r.conversationId);
    if (!conv) {
      return;
    }
    const seq = Number(r.upToSeq);
    const read = r.kind === 2;
    if (r.userId === this.me) {
      // Read on another of this user's devices.
      if (read && seq > conv.readSeq) {
        conv.readSeq = seq;
        conv.unread = seq >= conv.lastSeq ? 0 : conv.unread;
      }
    } else {
      conv.otherDeliveredSeq = Math.max(conv.otherDeliveredSeq, seq);
      if (read) {
        conv.otherReadSeq = Math.max(conv.otherReadSeq, seq);
      }
    }
    this.render();
  }

  onPresence(p: WirePresence): void {
    for (const conv of this.convs.values()) {
      if (this.otherOf(conv) === p.userId) {
        conv.presence = { state: p.state, connectionLost: p.connectionLost };
      }
    }
    this.render();
  }

  onTyping(t: { conversationId: string; userId: string; typing: boolean }): void {
    if (t.userId === this.me) {
      return;
    }
    if (t.typing) {
      this.typing.set(t.conversationId, { user: t.userId, until: Date.now() + TYPING_SHOWN_MS });
      window.setTimeout(() => this.render(), TYPING_SHOWN_MS + 50);
    } else {
      this.typing.delete(t.conversationId);
    }
    this.render();
  }

  onSendUpdate(u: SendUpdate): void {
    if (u.state === "sent") {
      const thread = this.threadOf(u.conversationId);
      thread.messages.set(u.seq, {
        seq: u.seq,
        senderId: this.me,
        clientMsgId: u.clientMsgId,
        body: u.body,
        timeMs: u.serverTimeMs,
      });
      let conv = this.convs.get(u.conversationId);
      if (!conv && u.kind === "inquiry") {
        conv = this.stubConversation(u.conversationId, u.target, u.serverTimeMs);
        this.scheduleListRefresh();
      }
      if (conv && u.seq > conv.lastSeq) {
        conv.lastSeq = u.seq;
        conv.lastBody = u.body;
        conv.updatedMs = Math.max(conv.updatedMs, u.serverTimeMs);
      }
      if (this.pane?.kind === "draft" && u.kind === "inquiry" && this.pane.specialist === u.target) {
        this.pane = { kind: "conversation", id: u.conversationId };
        this.savePane();
      }
      if (u.waited) {
        this.showNotice("Your message has been sent");
      }
      if (u.safetyNotice) {
        this.safety = u.safetyNotice;
        this.announce(`${u.safetyNotice.text} ${u.safetyNotice.crisisLine}`);
      }
    } else if (u.state === "failed") {
      this.announce(`Message not sent: ${u.error ?? "refused"}.`);
    }
    this.render();
  }

  // ---- data --------------------------------------------------------------------------------

  private threadOf(id: string): Thread {
    let t = this.threads.get(id);
    if (!t) {
      t = { messages: new Map(), more: false, loaded: false, loading: false };
      this.threads.set(id, t);
    }
    return t;
  }

  private otherOf(c: Conv): string {
    return this.role === Role.SPECIALIST ? c.clientId : c.specialistId;
  }

  private stubConversation(id: string, specialist: string, timeMs: number): Conv {
    const conv: Conv = {
      id,
      clientId: this.me,
      specialistId: specialist,
      state: ConversationState.INQUIRY,
      free: false,
      createdMs: timeMs,
      updatedMs: timeMs,
      lastSeq: 0,
      lastBody: "",
      unread: 0,
      readSeq: 0,
      otherReadSeq: 0,
      otherDeliveredSeq: 0,
      expiresMs: 0,
      declineReason: DeclineReason.DECLINE_REASON_UNSPECIFIED,
      topic: "",
    };
    this.convs.set(id, conv);
    return conv;
  }

  /// `snapshot`: a conversation event from the stream (see mergeConversation).
  private upsert(c: WireConversation, snapshot = false): Conv {
    const conv = mergeConversation(this.convs.get(c.id), c, snapshot);
    this.threadOf(c.id);
    this.convs.set(c.id, conv);
    return conv;
  }

  private scheduleListRefresh(): void {
    if (this.listRefresh === undefined) {
      this.listRefresh = window.setTimeout(() => {
        this.listRefresh = undefined;
        void this.refreshList();
      }, 50);
    }
  }

  private async refreshAll(): Promise<void> {
    await this.refreshList();
    if (this.role === Role.CLIENT && !this.specialistsLoaded) {
      await this.searchSpecialists(false);
    }
    if (this.wantAway) {
      this.client?.setPresence(PresenceState.AWAY).catch(() => undefined);
    }
    if (this.pane?.kind === "conversation") {
      await this.loadHistory(this.pane.id, false);
    }
  }

  private async refreshList(): Promise<void> {
    if (!this.client) {
      return;
    }
    try {
      const list = await this.client.listConversations(200);
      for (const c of list) {
        this.upsert(c);
      }
    } catch {
      return; // not connected: the next connection refreshes
    }
    this.render();
  }

  /// The directory with the filters of the form: the first page, or (`more`) the next one.
  private async searchSpecialists(more: boolean): Promise<void> {
    if (!this.client) {
      return;
    }
    try {
      const page = await this.client.listSpecialists({
        specialty: this.ui.filterSpecialty.value.trim(),
        language: this.ui.filterLanguage.value.trim(),
        acceptingOnly: this.ui.filterAccepting.checked,
        limit: DIRECTORY_PAGE,
        pageToken: more ? this.specialistsNext : "",
      });
      this.specialists = more ? [...this.specialists, ...page.specialists] : page.specialists;
      this.specialistsNext = page.nextPageToken;
      this.specialistsLoaded = true;
    } catch (e) {
      this.showNotice(`Could not load the directory: ${(e as ClientError).message}`);
      return;
    }
    this.renderDirectory();
  }

  /// Newest page (older = false: merged into what is there) or the page before the oldest.
  private async loadHistory(id: string, older: boolean): Promise<void> {
    const thread = this.threadOf(id);
    if (!this.client || thread.loading) {
      return;
    }
    const seqs = [...thread.messages.keys()];
    const before = older && seqs.length ? Math.min(...seqs) : 0;
    thread.loading = true;
    try {
      const page = await this.client.history(id, before, HISTORY_PAGE);
      for (const m of page.messages) {
        const seq = Number(m.seq);
        thread.messages.set(seq, {
          seq,
          senderId: m.senderId,
          clientMsgId: m.clientMsgId,
          body: m.body,
          timeMs: Number(m.serverTimeMs),
        });
      }
      if (older || !thread.loaded) {
        thread.more = page.more;
      }
      thread.loaded = true;
    } catch {
      /* retried on the next connection */
    } finally {
      thread.loading = false;
    }
    this.render();
  }

  // ---- actions -----------------------------------------------------------------------------

  private bindControls(): void {
    const ui = this.ui;
    ui.newInquiry.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const specialist = ui.specialistId.value.trim();
      if (!ui.specialistId.checkValidity() || !specialist) {
        ui.specialistId.reportValidity();
        return;
      }
      const open = [...this.convs.values()].find((c) => c.specialistId === specialist && isOpen(c));
      this.select(
        open
          ? { kind: "conversation", id: open.id }
          : { kind: "draft", specialist, free: ui.free.checked, topic: ui.topic.value.trim() },
      );
      ui.input.focus();
    });
    ui.directoryFilter.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!ui.directoryFilter.checkValidity()) {
        ui.directoryFilter.reportValidity();
        return;
      }
      void this.searchSpecialists(false);
    });
    ui.moreSpecialists.addEventListener("click", () => void this.searchSpecialists(true));
    ui.composer.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.sendFromComposer();
    });
    ui.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.sendFromComposer();
      }
    });
    ui.input.addEventListener("input", () => this.typed());
    ui.back.addEventListener("click", () => {
      const id = this.pane?.kind === "conversation" ? this.pane.id : "";
      this.select(null);
      const item = id ? document.querySelector<HTMLButtonElement>(`[data-conversation="${CSS.escape(id)}"]`) : null;
      item?.focus();
    });
    ui.loadOlder.addEventListener("click", () => {
      if (this.pane?.kind === "conversation") {
        void this.loadHistory(this.pane.id, true);
      }
    });
    ui.accept.addEventListener("click", () => this.act(ConversationAction.ACCEPT));
    ui.decline.addEventListener("click", () => this.act(ConversationAction.DECLINE));
    ui.close.addEventListener("click", () => this.act(ConversationAction.CLOSE));
    ui.myPresence.addEventListener("change", () => {
      this.wantAway = ui.myPresence.value === "away";
      this.client
        ?.setPresence(this.wantAway ? PresenceState.AWAY : PresenceState.ONLINE)
        .catch(() => undefined);
    });
    ui.signOut.addEventListener("click", () => {
      this.pane = null;
      this.savePane();
      void this.client?.signOut().catch(() => undefined).finally(() => this.onSignOut());
    });
    document.addEventListener("visibilitychange", () => this.render());
  }

  // The open conversation survives a reload of the tab (with what is pending in it), even
  // before the server answers.
  private loadPane(): Pane | null {
    try {
      const p = JSON.parse(sessionStorage.getItem("confide.pane") ?? "null") as Pane | null;
      if (p && p.kind === "conversation" && typeof p.id === "string") {
        return { kind: "conversation", id: p.id };
      }
      if (p && p.kind === "draft" && typeof p.specialist === "string") {
        return {
          kind: "draft",
          specialist: p.specialist,
          free: p.free === true,
          topic: typeof p.topic === "string" ? p.topic : "",
        };
      }
    } catch {
      /* nothing kept */
    }
    return null;
  }

  private savePane(): void {
    try {
      sessionStorage.setItem("confide.pane", JSON.stringify(this.pane));
    } catch {
      /* storage refused */
    }
  }

  private select(pane: Pane | null): void {
    this.pane = pane;
    this.savePane();
    this.ui.composerError.textContent = "";
    if (pane?.kind === "conversation") {
      const thread = this.threadOf(pane.id);
      if (!thread.loaded) {
        void this.loadHistory(pane.id, false);
      }
    }
    this.render();
  }

  private act(action: ConversationAction): void {
    if (this.pane?.kind !== "conversation" || !this.client) {
      return;
    }
    const id = this.pane.id;
    const reason =
      action === ConversationAction.DECLINE
        ? (Number(this.ui.declineReason.value) as DeclineReason)
        : DeclineReason.DECLINE_REASON_UNSPECIFIED;
    this.client
      .updateConversation(id, action, reason)
      .then((c) => {
        this.upsert(c);
        this.render();
      })
      .catch((e: ClientError) => {
        this.ui.composerError.textContent = `Could not do that: ${e.message}`;
      });
  }

  private typed(): void {
    const id = this.pane?.kind === "conversation" ? this.pane.id : "";
    if (!id || !this.client || this.conn !== "connected") {
      return;
    }
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_RESEND_MS || this.typingFor !== id) {
      this.typingSentAt = now;
      this.typingFor = id;
      this.client.setTyping(id, true).catch(() => undefined);
    }
    window.clearTimeout(this.typingStop);
    this.typingStop = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    window.clearTimeout(this.typingStop);
    if (this.typingFor && this.typingSentAt) {
      this.client?.setTyping(this.typingFor, false).catch(() => undefined);
    }
    this.typingSentAt = 0;
  }

  private sendFromComposer(): void {
    const ui = this.ui;
    if (!this.client || !this.pane || this.conn === "unauthenticated" || ui.input.disabled) {
      return;
    }
    const body = ui.input.value.trim();
    if (!body) {
      return;
    }
    const bytes = utf8Bytes(body);
    if (bytes > this.maxBodyBytes) {
      ui.composerError.textContent = `This message is too long (${bytes} of ${this.maxBodyBytes} bytes). Please shorten it or send it in parts.`;
      return;
    }
    ui.composerError.textContent = "";
    const clientMsgId = `web-${crypto.randomUUID()}`;
    if (this.pane.kind === "draft") {
      this.client.enqueue({
        clientMsgId,
        kind: "inquiry",
        target: this.pane.specialist,
        body,
        freeConsultation: this.pane.free,
        topic: this.pane.topic,
      });
    } else {
      // Messages still queued as an inquiry to this specialist go first; behind them, this one
      // joins their queue (start_inquiry continues the open conversation), keeping the order.
      const conv = this.convs.get(this.pane.id);
      const behindInquiry =
        conv !== undefined &&
        this.client.pendingItems().some((i) => i.kind === "inquiry" && i.state === "pending" && i.target === conv.specialistId);
      this.client.enqueue({
        clientMsgId,
        kind: behindInquiry ? "inquiry" : "message",
        target: behindInquiry && conv ? conv.specialistId : this.pane.id,
        body,
        freeConsultation: false,
      });
    }
    this.stopTyping();
    ui.input.value = "";
    this.render();
  }

  // ---- feedback ----------------------------------------------------------------------------

  private showNotice(text: string): void {
    this.ui.notice.textContent = text;
    window.clearTimeout(this.noticeTimer);
    this.noticeTimer = window.setTimeout(() => {
      this.ui.notice.textContent = "";
    }, NOTICE_MS);
  }

  private announce(text: string): void {
    // A change of text is what screen readers announce; clear first so a repeat is heard too.
    this.ui.announcer.textContent = "";
    window.setTimeout(() => {
      this.ui.announcer.textContent = text;
    }, 50);
  }

  // ---- rendering ---------------------------------------------------------------------------

  private render(): void {
    const ui = this.ui;
    const loggedOut =
      this.conn === "unauthenticated" || this.conn === "signed_out" || this.conn === "signed_out_idle";
    const isClient = this.role === Role.CLIENT;
    const isSpecialist = this.role === Role.SPECIALIST;

    ui.login.hidden = !loggedOut;
    ui.who.textContent =
      this.conn === "signed_out_idle"
        ? "Signed out after inactivity"
        : this.me
          ? `Signed in as ${this.me} (${isSpecialist ? "specialist" : "client"})${this.conn === "connected" ? "" : " — not connected"}`
          : loggedOut
            ? "Not signed in"
            : "Connecting…";
    ui.signOut.hidden = !this.me || loggedOut;
    ui.myPresenceLabel.hidden = !this.me || loggedOut;
    ui.newInquiry.hidden = !isClient;
    ui.directory.hidden = !isClient;
    ui.safetyForm.hidden = !(isClient && this.safety);
    ui.safetyForm.textContent = this.safety ? `${this.safety.text} ${this.safety.crisisLine}` : "";
    ui.inquiriesSection.hidden = !isSpecialist;
    for (const control of [ui.specialistId, ui.free, ui.openSpecialist]) {
      control.disabled = loggedOut;
    }

    this.renderLists();
    this.renderDirectory();
    this.renderPane(loggedOut);
    document.body.classList.toggle("show-conversation", this.pane !== null);
    document.body.dataset.connection = this.conn;
  }

  private renderLists(): void {
    const ui = this.ui;
    const all = [...this.convs.values()];
    const inquiries =
      this.role === Role.SPECIALIST
        ? all.filter((c) => c.state === ConversationState.INQUIRY).sort((a, b) => b.createdMs - a.createdMs)
        : [];
    const rest = all
      .filter((c) => !inquiries.includes(c))
      .sort((a, b) => b.updatedMs - a.updatedMs || b.createdMs - a.createdMs);
    this.fillList(ui.inquiries, inquiries);
    ui.inquiriesEmpty.hidden = inquiries.length > 0;
    this.fillList(ui.conversations, rest);
    ui.conversationsEmpty.hidden = rest.length > 0;
  }

  private renderDirectory(): void {
    const ui = this.ui;
    const now = Date.now();
    const items = this.specialists.map((s) => {
      const av = s.presence?.availability;
      const card = el("article", { className: "specialist" });
      card.dataset.specialist = s.id;
      card.append(el("h3", { text: s.displayName }));
      const facts = [s.specialties.join(", "), s.languages.join(", ")].filter((t) => t).join(" · ");
      if (facts) {
        card.append(el("p", { className: "facts", text: facts }));
      }
      const where = availabilityText(av, now);
      if (where) {
        card.append(el("p", { className: `availability ${where.startsWith("away") ? "away" : ""}`, text: where }));
      }
      const replies = replyTimeText(av);
      if (replies) {
        card.append(el("p", { className: "replies", text: replies }));
      }
      if (!s.acceptingNewClients) {
        card.append(el("p", { className: "tag", text: "not accepting new clients" }));
      }
      if (s.freeConsultationMinutes > 0) {
        card.append(el("p", { className: "tag", text: `free ${s.freeConsultationMinutes}-minute initial consultation` }));
      }
      if (s.bio) {
        card.append(el("p", { className: "bio", text: s.bio }));
      }
      if (s.acceptingNewClients) {
        const write = el("button", { text: `Write to ${s.displayName}` });
        write.type = "button";
        write.addEventListener("click", () => {
          ui.specialistId.value = s.id;
          ui.free.checked = false;
          ui.free.disabled = s.freeConsultationMinutes === 0;
          ui.freeLabel.textContent =
            s.freeConsultationMinutes > 0
              ? `Request the free ${s.freeConsultationMinutes}-minute initial consultation`
              : "No free initial consultation offered";
          ui.topic.focus();
        });
        card.append(write);
      }
      return el("li", {}, card);
    });
    ui.specialists.replaceChildren(...items);
    ui.specialistsEmpty.hidden = !this.specialistsLoaded || this.specialists.length > 0;
    ui.moreSpecialists.hidden = !this.specialistsNext;
  }

  private fillList(list: HTMLUListElement, convs: Conv[]): void {
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.conversation : undefined;
    const items = convs.map((c) => {
      const selected = this.pane?.kind === "conversation" && this.pane.id === c.id;
      const button = el("button", { className: "conv" });
      button.type = "button";
      button.dataset.conversation = c.id;
      if (selected) {
        button.setAttribute("aria-current", "true");
      }
      const presence = presenceText(c.presence);
      const name = el("span", { className: "conv-name", text: this.otherOf(c) });
      const meta = el(
        "span",
        { className: "conv-meta" },
        el("span", { className: `state state-${stateText(c.state)}`, text: stateText(c.state) }),
      );
      if (c.free) {
        meta.append(el("span", { className: "tag", text: "free consultation" }));
      }
      if (presence) {
        meta.append(el("span", { className: `presence presence-${presence.replace(" ", "-")}`, text: presence }));
      }
      button.append(name, meta);
      if (c.lastBody) {
        button.append(el("span", { className: "conv-preview", text: c.lastBody }));
      }
      if (c.unread > 0) {
        const badge = el("span", { className: "unread", text: String(c.unread) });
        badge.setAttribute("aria-label", `${c.unread} unread`);
        button.append(badge);
      }
      button.addEventListener("click", () => {
        this.select({ kind: "conversation", id: c.id });
        this.ui.input.focus();
      });
      return el("li", {}, button);
    });
    list.replaceChildren(...items);
    if (focused) {
      list.querySelector<HTMLButtonElement>(`[data-conversation="${CSS.escape(focused)}"]`)?.focus();
    }
  }

  private renderPane(loggedOut: boolean): void {
    const ui = this.ui;
    const pane = this.pane;
    const conv = pane?.kind === "conversation" ? this.convs.get(pane.id) : undefined;
    const key = pane ? (pane.kind === "conversation" ? `c/${pane.id}` : `s/${pane.specialist}`) : "";
    if (key !== this.renderedPaneKey) {
      this.renderedPaneKey = key;
      this.messageRows.clear();
      ui.messages.replaceChildren();
    }

    if (!pane) {
      ui.title.textContent = "No conversation open";
      ui.otherPresence.textContent = "";
      ui.convState.textContent = "";
      ui.hint.hidden = false;
      ui.hint.textContent =
        this.role === Role.CLIENT
          ? "Write to a specialist, or choose a conversation."
          : "Choose a conversation.";
      for (const b of [ui.accept, ui.decline, ui.close, ui.loadOlder, ui.declineReasonLabel]) {
        b.hidden = true;
      }
      ui.safetyPane.hidden = ui.convTopic.hidden = ui.retentionPane.hidden = true;
      ui.typing.textContent = "";
      ui.input.disabled = ui.send.disabled = true;
      return;
    }

    const other = pane.kind === "draft" ? pane.specialist : conv ? this.otherOf(conv) : "…";
    ui.title.textContent = other;
    const now = Date.now();
    const away = conv && this.role === Role.CLIENT ? availabilityText(conv.availability, now) : "";
    ui.otherPresence.textContent = [conv ? presenceText(conv.presence) : "", away, replyTimeText(conv?.availability)]
      .filter((t) => t)
      .join(" · ");
    const topic = pane.kind === "draft" ? pane.topic ?? "" : conv?.topic ?? "";
    ui.convTopic.hidden = !topic;
    ui.convTopic.textContent = topic ? `Topic: ${topic}` : "";
    // The safety notice stays in view while the client waits for an answer.
    const waiting = pane.kind === "draft" || conv?.state === ConversationState.INQUIRY;
    ui.safetyPane.hidden = !(this.role === Role.CLIENT && this.safety && waiting);
    ui.safetyPane.textContent = this.safety ? `${this.safety.text} ${this.safety.crisisLine}` : "";
    ui.retentionPane.hidden = this.retentionDays === 0;
    ui.retentionPane.textContent = retentionText(this.retentionDays);
    ui.convState.textContent = conv
      ? stateText(conv.state) + (conv.free ? " · free initial consultation" : "")
      : pane.kind === "draft"
        ? pane.free
          ? "new conversation · free initial consultation requested"
          : "new conversation"
        : "";
    const connected = this.conn === "connected";
    const inquiry = conv?.state === ConversationState.INQUIRY;
    ui.accept.hidden = ui.decline.hidden = ui.declineReasonLabel.hidden = !(this.role === Role.SPECIALIST && inquiry);
    ui.close.hidden = !(conv && isOpen(conv));
    for (const b of [ui.accept, ui.decline, ui.close]) {
      b.disabled = !connected;
    }

    const writable = pane.kind === "draft" || (conv !== undefined && isOpen(conv));
    ui.input.disabled = ui.send.disabled = loggedOut || !writable;
    const hint = this.workflowHint(conv, now);
    ui.hint.hidden = !hint;
    ui.hint.textContent = hint;

    const thread = pane.kind === "conversation" ? this.threadOf(pane.id) : undefined;
    ui.loadOlder.hidden = !thread?.more;
    ui.loadOlder.disabled = !connected;

    const typing = pane.kind === "conversation" ? this.typing.get(pane.id) : undefined;
    ui.typing.textContent = typing && typing.until > Date.now() ? `${typing.user} is typing…` : "";

    this.renderMessages(pane, conv, thread);
    if (pane.kind === "conversation" && conv) {
      this.markReadIfSeen(conv, thread);
    }
  }

  /// What the conversation's state means for this person now: an expiry ahead, an expiry or a
  /// decline behind (with where to go next).
  private workflowHint(conv: Conv | undefined, now: number): string {
    if (!conv) {
      return "";
    }
    const client = this.role === Role.CLIENT;
    switch (conv.state) {
      case ConversationState.INQUIRY:
        if (conv.expiresMs <= 0) {
          return "";
        }
        return client
          ? `Waiting for ${conv.specialistId} to answer. Without an answer by ${whenText(conv.expiresMs, now)}, this inquiry expires and you can write to someone else.`
          : `Unanswered, this inquiry expires ${whenText(conv.expiresMs, now)}.`;
      case ConversationState.ERASED:
        return "This conversation was erased at someone's request: nothing of it can be read any more.";
      case ConversationState.EXPIRED:
        return client
          ? `${conv.specialistId} did not answer in time, so this inquiry has expired. You can write to another specialist, or to ${conv.specialistId} again.`
          : "This inquiry expired without an answer.";
      case ConversationState.DECLINED: {
        const why = declineText(conv.declineReason);
        return client
          ? `${conv.specialistId} declined this inquiry.${why ? ` ${why}` : ""} You can write to another specialist.`
          : `You declined this inquiry.${why ? ` ${why}` : ""}`;
      }
      case ConversationState.CLOSED:
        return "This conversation is closed." + (client ? " Write to the specialist again to start a new one." : "");
      default:
        return "";
    }
  }

  private renderMessages(pane: Pane, conv: Conv | undefined, thread: Thread | undefined): void {
    const rows: { key: string; render: (li: HTMLLIElement) => void }[] = [];
    const stored = thread ? [...thread.messages.values()].sort((a, b) => a.seq - b.seq) : [];
    const sentIds = new Set(stored.map((m) => m.clientMsgId));
    for (const m of stored) {
      const own = m.senderId === this.me;
      const key = own && m.clientMsgId ? `i/${m.clientMsgId}` : `m/${m.seq}`;
      let state = "";
      if (own && conv) {
        state = m.seq <= conv.otherReadSeq ? "read" : m.seq <= conv.otherDeliveredSeq ? "delivered" : "sent";
      } else if (own) {
        state = "sent";
      }
      rows.push({ key, render: (li) => fillMessageRow(li, own, m.body, m.timeMs, state, m.senderId, undefined, this.rowActions) });
    }
    const pending = (this.client?.pendingItems() ?? []).filter((i) => {
      if (sentIds.has(i.clientMsgId)) {
        return false;
      }
      if (pane.kind === "draft") {
        return i.kind === "inquiry" && i.target === pane.specialist;
      }
      return (
        (i.kind === "message" && i.target === pane.id) ||
        (i.kind === "inquiry" && conv !== undefined && isOpen(conv) && i.target === conv.specialistId)
      );
    });
    for (const i of pending) {
      rows.push({
        key: `i/${i.clientMsgId}`,
        render: (li) => fillMessageRow(li, true, i.body, 0, i.state, this.me, i, this.rowActions),
      });
    }

    const list = this.ui.messages;
    const scroller = this.ui.log;
    const wanted = new Set(rows.map((r) => r.key));
    for (const [key, li] of this.messageRows) {
      if (!wanted.has(key)) {
        li.remove();
        this.messageRows.delete(key);
      }
    }
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    let previous: HTMLLIElement | null = null;
    for (const row of rows) {
      let li = this.messageRows.get(row.key);
      if (!li) {
        li = el("li");
        this.messageRows.set(row.key, li);
      }
      row.render(li);
      const expected: ChildNode | null = previous ? previous.nextSibling : list.firstChild;
      if (expected !== li) {
        list.insertBefore(li, expected);
      }
      previous = li;
    }
    if (atBottom) {
      scroller.scrollTop = scroller.scrollHeight;
    }
  }

  private markReadIfSeen(conv: Conv, thread: Thread | undefined): void {
    if (!thread || document.visibilityState !== "visible" || this.conn !== "connected") {
      return;
    }
    let last = 0;
    for (const m of thread.messages.values()) {
      if (m.senderId !== this.me && m.seq > last) {
        last = m.seq;
      }
    }
    if (last > conv.readSeq) {
      conv.readSeq = last;
      conv.unread = 0;
      // A mark that fails is not repeated: the next message marks everything up to it, and the
      // list reloaded on the next connection shows the server's count.
      this.client?.markRead(conv.id, last).catch(() => undefined);
      this.renderLists();
    }
  }
}
