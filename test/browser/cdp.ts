// A minimal Chrome DevTools Protocol client for the browser tests: starts headless Chromium with
// --remote-debugging-pipe (messages are JSON ended by a NUL byte, written to its fd 3 and read from
// its fd 4), so it needs no WebSocket (Node 20 has none built in) and no npm package (puppeteer-core
// would add a dependency and a pinned protocol version for the handful of commands used here).
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";

type Params = Record<string, unknown>;
interface Message {
  id?: number;
  method?: string;
  params?: Params;
  result?: Params;
  error?: { message: string };
  sessionId?: string;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { ok: (r: Params) => void; fail: (e: Error) => void }>();
  private readonly listeners: ((m: Message) => void)[] = [];
  private readonly out: Writable;
  private exited: string | null = null;

  private constructor(readonly proc: ChildProcess) {
    this.out = proc.stdio[3] as Writable;
    let buf = "";
    (proc.stdio[4] as Readable).on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      for (let end = buf.indexOf("\0"); end >= 0; end = buf.indexOf("\0")) {
        const m = JSON.parse(buf.slice(0, end)) as Message;
        buf = buf.slice(end + 1);
        const p = m.id !== undefined ? this.pending.get(m.id) : undefined;
        if (p) {
          this.pending.delete(m.id!);
          if (m.error) p.fail(new Error(m.error.message));
          else p.ok(m.result ?? {});
        } else for (const l of this.listeners) l(m);
      }
    });
    proc.on("exit", (code) => {
      this.exited = `chromium exited (code ${code})`;
      for (const p of this.pending.values()) p.fail(new Error(this.exited));
      this.pending.clear();
    });
  }

  /** Starts Chromium (headless, a throw-away profile in `profile`). */
  static launch(executable: string, profile: string): Browser {
    const args = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // A page opened over the protocol counts as hidden: without these its renderer gets a lower
      // priority and its timers are throttled, which slows a training worker several times.
      "--disable-renderer-backgrounding",
      "--disable-background-timer-throttling",
      "--disable-backgrounding-occluded-windows",
      "--window-size=1200,900",
      "--remote-debugging-pipe",
      `--user-data-dir=${profile}`,
      "about:blank",
    ];
    return new Browser(spawn(executable, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] }));
  }

  /** Sends a command (to a page's session when sessionId is given) and resolves to its result. */
  send(method: string, params: Params = {}, sessionId?: string): Promise<Params> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    this.out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
    return new Promise((ok, fail) => this.pending.set(id, { ok, fail }));
  }

  /** Calls fn with every event (a message without an id). */
  on(fn: (m: Message) => void): void {
    this.listeners.push(fn);
  }

  /** A new page: its session id, with Runtime, Log and Page events on and its workers attached. */
  async newPage(): Promise<string> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const s = sessionId as string;
    for (const m of ["Runtime.enable", "Log.enable", "Page.enable"]) await this.send(m, {}, s);
    // Workers get sessions of their own; their console and exceptions are then reported too.
    await this.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, s);
    return s;
  }

  /** Evaluates expression in the page (awaiting a promise) and returns its value. */
  async evaluate<T>(sessionId: string, expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true }, sessionId);
    const ex = r["exceptionDetails"] as { exception?: { description?: string }; text?: string } | undefined;
    if (ex) throw new Error(`in the page: ${ex.exception?.description ?? ex.text}`);
    return (r["result"] as { value: T }).value;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((ok) => this.proc.once("exit", ok));
    this.send("Browser.close").catch(() => {});
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }
}

/** Errors among the events: console.error/assert calls, uncaught exceptions, error log entries. */
export function errorOf(m: Message): string | null {
  const p = m.params ?? {};
  if (m.method === "Runtime.consoleAPICalled" && (p["type"] === "error" || p["type"] === "assert"))
    return `console.${p["type"]}: ${JSON.stringify((p["args"] as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description))}`;
  if (m.method === "Runtime.exceptionThrown") {
    const d = p["exceptionDetails"] as { text?: string; exception?: { description?: string } };
    return `uncaught: ${d.exception?.description ?? d.text}`;
  }
  if (m.method === "Log.entryAdded") {
    const e = p["entry"] as { level?: string; text?: string; url?: string };
    if (e.level === "error") return `log: ${e.text} ${e.url ?? ""}`;
  }
  return null;
}
