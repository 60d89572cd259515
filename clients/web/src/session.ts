// Sign-in: the platform hands the page its access token. In development it comes in the URL
// fragment (#token=…), which browsers never send to a server; the page moves it to
// sessionStorage (this tab only, gone when the tab closes) and removes it from the address bar,
// so it is neither bookmarked nor shared with a copied link. Tokens are never logged.

export interface TokenSource {
  hash: string;
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  clearHash(): void;
}

const TOKEN_KEY = "confide.token";

/// The token of this tab: from the fragment (then kept), or the one kept before; "" if none.
export function takeToken(src: TokenSource): string {
  const params = new URLSearchParams(src.hash.replace(/^#/, ""));
  const fromHash = params.get("token");
  if (fromHash !== null) {
    src.clearHash();
    try {
      src.storage?.setItem(TOKEN_KEY, fromHash);
    } catch {
      /* storage refused: the token lives in memory for this page only */
    }
    return fromHash.trim();
  }
  try {
    return src.storage?.getItem(TOKEN_KEY)?.trim() ?? "";
  } catch {
    return "";
  }
}

export function forgetToken(src: TokenSource): void {
  try {
    src.storage?.removeItem(TOKEN_KEY);
  } catch {
    /* nothing kept */
  }
}

/// The `sub` claim of a JWT, unverified: only to name this user's outbox in storage before the
/// server confirms who they are. "" when the token is not a readable JWT.
export function subjectOf(token: string): string {
  const part = token.split(".")[1];
  if (!part) {
    return "";
  }
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === "string" ? sub : "";
  } catch {
    return "";
  }
}

/// This browser's device id (the server keeps a delivery cursor per device).
export function deviceId(storage: Pick<Storage, "getItem" | "setItem"> | null, random: () => string): string {
  const key = "confide.device";
  try {
    const existing = storage?.getItem(key);
    if (existing && /^[A-Za-z0-9._:-]{1,128}$/.test(existing)) {
      return existing;
    }
    const id = `web-${random()}`;
    storage?.setItem(key, id);
    return id;
  } catch {
    return `web-${random()}`;
  }
}
