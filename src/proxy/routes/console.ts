/**
 * The web console: the single-page app Vite builds into dist/ui, served at /ui with a strict
 * Content-Security-Policy. Hashed assets are cached for a year; index.html is revalidated every time, and is
 * the answer for every other path under /ui/ (the app's own routes), so that a reload or a shared link works.
 * The console calls the same API a script does, with the master key the operator signs in with: its files
 * are public (they hold no secret), the API behind them is not.
 *
 * @example
 * await consoleRoutes(app, { dir: defaultConsoleDir() });
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import { NotFoundError, ServiceUnavailableError } from "../../errors.js";

/** No inline script or style, nothing from another origin, never in a frame. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const IMMUTABLE = "public, max-age=31536000, immutable";
/** Vite names every file under assets/ after its content: a changed file gets a new name. */
const HASHED_DIR = "assets/";

export interface ConsoleOptions {
  /** The built console: a folder with index.html and assets/. */
  dir: string;
}

/** The package's root: the nearest folder above this module with a package.json (from src/ under tsx, or dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("xgate's package.json was not found above its modules");
    dir = parent;
  }
  return dir;
}

/** Where `npm run build` puts the console: dist/ui at the package's root. */
export function defaultConsoleDir(): string {
  return join(packageRoot(), "dist", "ui");
}

/** Every file of the built console by its path under /ui/ (`assets/index-3f2a.js`); undefined when it is not built. */
async function builtFiles(dir: string): Promise<Set<string> | undefined> {
  if (!existsSync(join(dir, "index.html"))) return undefined;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = new Set<string>();
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const relative = join(entry.parentPath, entry.name).slice(dir.length + 1);
    files.add(relative.split(sep).join("/"));
  }
  return files;
}

function notBuilt(dir: string): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `The web console is not built (no index.html in ${dir}): run \`npm run build\` in the xgate package, then restart the proxy.`,
    { code: "console_not_built" },
  );
}

function sendIndex(reply: FastifyReply): FastifyReply {
  return reply.header("cache-control", "no-cache").sendFile("index.html");
}

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const files = await builtFiles(options.dir);
  await app.register(async (scope) => {
    scope.addHook("onRequest", async (_request, reply) => {
      reply.header("content-security-policy", CONSOLE_CSP);
      reply.header("x-content-type-options", "nosniff");
      reply.header("referrer-policy", "no-referrer");
    });
    if (files === undefined) {
      const refuse = async (): Promise<never> => {
        throw notBuilt(options.dir);
      };
      scope.get("/ui", { config: { public: true } }, refuse);
      scope.get("/ui/*", { config: { public: true } }, refuse);
      return;
    }
    await scope.register(fastifyStatic, { root: options.dir, serve: false, cacheControl: false });
    scope.get("/", { config: { public: true } }, async (_request, reply) => reply.redirect("/ui/"));
    scope.get("/ui", { config: { public: true } }, async (_request, reply) => sendIndex(reply));
    scope.get<{ Params: { "*": string } }>("/ui/*", { config: { public: true } }, async (request, reply) => {
      const path = request.params["*"];
      if (files.has(path) && path !== "index.html") {
        return reply.header("cache-control", path.startsWith(HASHED_DIR) ? IMMUTABLE : "no-cache").sendFile(path);
      }
      // A missing asset is a 404, not the page: a browser must not run HTML as a script.
      if (path.startsWith(HASHED_DIR)) {
        throw new NotFoundError(`The console has no file ${HASHED_DIR}${path.slice(HASHED_DIR.length)}: reload the page to get the current build.`, {
          code: "not_found",
        });
      }
      return sendIndex(reply);
    });
  });
}
