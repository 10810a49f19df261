// The host seam: the few things the core needs from Node (environment variables, a require for the
// native addon, Buffer's size limit) reached at run time through `process.getBuiltinModule`, never
// through a static `import ... from "node:*"`. The same modules therefore run in Node and, bundled
// for a browser (src/browser.ts), in a page or a worker, where each answer is "not here".
// Node-only features (files, the CLI, worker_threads, MPI) keep their static node: imports in their
// own modules, which the browser entry does not reach.

/** The slice of Node's `process` the seam reads; absent in a browser. */
interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

const proc: NodeProcess | undefined = (globalThis as { process?: NodeProcess }).process;

/** True under Node (also in its worker threads); false in a browser page or web worker. */
export const isNode: boolean = typeof proc?.versions?.node === "string";

/** An environment variable, or undefined (always, in a browser). */
export function env(name: string): string | undefined {
  return isNode ? proc?.env?.[name] : undefined;
}

/** A Node built-in module ("node:module", "node:buffer"...), or null outside Node. */
export function builtin<T>(id: string): T | null {
  return isNode && typeof proc?.getBuiltinModule === "function" ? ((proc.getBuiltinModule(id) as T) ?? null) : null;
}

/** A CommonJS require resolving from the module at `url` (import.meta.url), or null outside Node. */
export function nodeRequire(url: string): ((id: string) => unknown) | null {
  const m = builtin<{ createRequire(url: string): (id: string) => unknown }>("node:module");
  return m ? m.createRequire(url) : null;
}
