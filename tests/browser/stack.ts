// A real stack for one test: a redis-server (own data directory, append-only file, unix socket:
// no port to race for) and a confide-server on a free port serving the built web client
// (clients/web/dist). Tokens are minted with the server's development key (HS256).
//
// Children run under `setpriv --pdeathsig KILL`, so they die with the test runner even if it
// is killed. Every wait is for an event (a line on stdout, an answered PING), bounded in time.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const repoRoot = resolve(__dirname, "..", "..");
export const serverBinary = resolve(
  repoRoot,
  process.env.CONFIDE_SERVER ?? "build/dev/server/app/confide-server",
);
export const adminBinary = resolve(
  repoRoot,
  process.env.CONFIDE_ADMIN ?? join(dirname(serverBinary), "..", "admin", "confide-admin"),
);
export const webRoot = resolve(repoRoot, process.env.CONFIDE_WEB_ROOT ?? "clients/web/dist");

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/// Waits for `line` (a regular expression) on the child's stdout; rejects if it exits first.
function waitForLine(child: ChildProcess, line: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`no ${line} within ${timeoutMs} ms: ${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = seen.match(line);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolvePromise(m);
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before ${line}: ${seen}`));
    });
  });
}

export interface ServerNode {
  child: ChildProcess;
  port: number;
  baseURL: string;
}

export interface StackOptions {
  /// Extra confide-server flags.
  serverArgs?: string[];
  /// Specialists listed in the directory at start, each with confide-admin's entry options
  /// (default: dr.bob, offering a free 30-minute consultation).
  specialists?: Record<string, string[]>;
}

export class Stack {
  readonly dir = mkdtempSync(join(tmpdir(), "confide-browser-"));
  readonly secret = randomBytes(32).toString("hex");
  readonly redisSocket = join(this.dir, "redis.sock");
  private redis: ChildProcess | null = null;
  private server: ServerNode | null = null;
  private nodes: ServerNode[] = [];
  private serverLog = "";
  port = 0;

  constructor(private opts: StackOptions = {}) {}

  get baseURL(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await this.startRedis();
    const specialists = this.opts.specialists ?? { "dr.bob": ["--free-consultation-minutes", "30"] };
    for (const [id, args] of Object.entries(specialists)) {
      await this.listSpecialist(id, ...args);
    }
    await this.startServer();
  }

  /// Lists a specialist in the directory, as an operator does (confide-admin).
  async listSpecialist(id: string, ...args: string[]): Promise<void> {
    const name = args.includes("--name") ? [] : ["--name", id];
    await this.admin("directory", "add", id, ...name, ...args);
  }

  /// Runs confide-admin on this stack's Redis, as an operator does (e.g. `directory update`).
  async admin(...args: string[]): Promise<void> {
    await run(adminBinary, ["--redis", `unix:${this.redisSocket}`, ...args]);
  }

  async startRedis(): Promise<void> {
    this.redis = spawn(
      "setpriv",
      [
        "--pdeathsig", "KILL", "--",
        "redis-server", "--port", "0", "--unixsocket", this.redisSocket, "--unixsocketperm", "700",
        "--dir", this.dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        "--maxmemory-policy", "noeviction", "--logfile", join(this.dir, "redis.log"),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const { stdout } = await run("redis-cli", ["-s", this.redisSocket, "ping"]);
        if (stdout.trim() === "PONG") {
          return;
        }
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) {
        throw new Error("redis-server did not answer PING within 10 s");
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /// kill -9: what a crash looks like. The append-only file keeps what was acknowledged.
  async killRedis(): Promise<void> {
    await this.kill(this.redis);
    this.redis = null;
  }

  async redisCli(...args: string[]): Promise<string> {
    const { stdout } = await run("redis-cli", ["-s", this.redisSocket, ...args]);
    return stdout.trim();
  }

  /// Starts the main server (on `port`, the last one by default, so that a restarted server
  /// keeps the pages' origin).
  async startServer(): Promise<void> {
    this.server = await this.spawnServer(this.port);
    this.port = this.server.port;
  }

  /// kill -9 of the main server: connections drop without a close frame.
  async killServer(): Promise<void> {
    await this.kill(this.server?.child ?? null);
    this.server = null;
  }

  /// Another server node on the same Redis, on a port of its own (its own origin).
  async startNode(): Promise<ServerNode> {
    const node = await this.spawnServer(0);
    this.nodes.push(node);
    return node;
  }

  /// The key file that seals what people write (docs/privacy.md): one per stack, shared by
  /// its nodes, made on first use (chmod 600).
  private dataKeyFile(): string {
    const path = join(this.dir, "data.keys");
    if (!this.keysWritten) {
      const hex = () => randomBytes(32).toString("hex");
      writeFileSync(path, `kek browser ${hex()}\ncurrent browser\nfingerprint ${hex()}\n`, {
        mode: 0o600,
      });
      this.keysWritten = true;
    }
    return path;
  }

  private keysWritten = false;

  private async spawnServer(port: number): Promise<ServerNode> {
    const args = [
      "--pdeathsig", "KILL", "--",
      serverBinary,
      "--listen", `127.0.0.1:${port}`,
      "--redis", `unix:${this.redisSocket}`,
      "--web-root", webRoot,
      "--io-threads", "1",
      "--presence-grace-ms", "1500",
      "--token-leeway-s", "0",
      "--redis-timeout-ms", "1000",
      "--data-key-file", this.dataKeyFile(),
      ...(this.opts.serverArgs ?? []),
    ];
    const child = spawn("setpriv", args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CONFIDE_TOKEN_KEY: `dev:HS256:text:${this.secret}` },
    });
    child.stderr?.on("data", (d: Buffer) => {
      this.serverLog += d.toString();
    });
    const m = await waitForLine(child, /listening on 127\.0\.0\.1:(\d+)/, 15_000);
    return { child, port: Number(m[1]), baseURL: `http://127.0.0.1:${m[1]}` };
  }

  /// The server's log so far (stderr).
  log(): string {
    return this.serverLog;
  }

  /// A development token for `user`, valid for `ttlSeconds` (negative: already expired).
  token(user: string, role: "client" | "specialist", ttlSeconds = 3600): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "dev" }));
    const payload = b64url(
      JSON.stringify({ sub: user, role, iat: now - 60 + Math.min(ttlSeconds, 0), exp: now + ttlSeconds }),
    );
    const signature = createHmac("sha256", this.secret).update(`${header}.${payload}`).digest("base64url");
    return `${header}.${payload}.${signature}`;
  }

  /// The page's address with the token in the fragment (never sent to the server).
  url(token: string): string {
    return `${this.baseURL}/#token=${token}`;
  }

  async stop(): Promise<void> {
    await this.kill(this.server?.child ?? null);
    for (const node of this.nodes) {
      await this.kill(node.child);
    }
    await this.kill(this.redis);
    this.server = this.redis = null;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private kill(child: ChildProcess | null): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise((r) => {
      child.once("exit", () => r());
      child.kill("SIGKILL");
    });
  }
}
