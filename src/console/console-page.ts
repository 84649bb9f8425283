// The operator console's page (SPEC §14), served by Herald itself at /admin/: the HTML, its stylesheet,
// icon and ES modules from ./page/, under a Content-Security-Policy that allows nothing but this origin.
// The page holds no data; it reads the admin JSON with the token the operator signs in with.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/** Beside this module: src/console/page/ when run from source, dist/console/page/ once built. */
const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

/** No inline script or style, no other origin, never framed (the page is an admin's). */
export const CONSOLE_CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Asset names are plain (no path): nothing outside the page's folder can be named. */
const ASSET_NAME = /^[a-z][a-z0-9-]*\.(js|css|svg)$/;
const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

export interface ConsolePageOptions {
  /** Where the page's files are; beside this module unless given. */
  readonly pageDir?: string;
}

export const consolePage: FastifyPluginAsync<ConsolePageOptions> = async (app, options) => {
  const dir = options.pageDir ?? PAGE_DIR;
  // Files do not change while Herald runs; each is read (or compiled) once, on its first request.
  const loaded = new Map<string, Promise<string | undefined>>();
  const load = (name: string): Promise<string | undefined> => {
    let file = loaded.get(name);
    if (!file) {
      file = loadAsset(dir, name);
      loaded.set(name, file);
      file.catch(() => loaded.delete(name));
    }
    return file;
  };
  const send = (reply: FastifyReply, type: string, body: string) =>
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .type(TYPES[type])
      .send(body);

  // Relative, so that a proxy serving Herald under a prefix keeps it.
  app.get('/admin', (_request, reply) => reply.redirect('admin/', 302));
  app.get('/admin/', async (_request, reply) => send(reply, 'html', (await load('index.html')) ?? ''));
  app.get<{ Params: { asset: string } }>('/admin/:asset', async (request, reply) => {
    const name = request.params.asset;
    const body = ASSET_NAME.test(name) ? await load(name) : undefined;
    if (body === undefined) return reply.callNotFound();
    return send(reply, name.slice(name.lastIndexOf('.') + 1), body);
  });
};

async function loadAsset(dir: string, name: string): Promise<string | undefined> {
  const built = await readIfPresent(dir + name);
  if (built !== undefined) return name.endsWith('.js') ? withoutSourceMapLink(built) : built;
  if (!name.endsWith('.js')) return undefined;
  const source = await readIfPresent(dir + name.replace(/\.js$/, '.ts'));
  return source === undefined ? undefined : transpileFromSource(source, name.replace(/\.js$/, '.ts'));
}

/** The built script points at a map of files the server does not serve; a browser would ask for it in vain. */
function withoutSourceMapLink(script: string): string {
  return script.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

/**
 * Run from source (vitest, tsx), there is no compiled page: its TypeScript is compiled here with the
 * project's own compiler, as tsx does for the server. `npm run build` compiles it ahead of time, so a
 * production install (without dev dependencies) never gets here.
 */
async function transpileFromSource(source: string, fileName: string): Promise<string> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    throw new Error(`the console page is not built (${fileName.replace(/\.ts$/, '.js')} is missing): run npm run build`);
  }
  const options = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, removeComments: false };
  return ts.transpileModule(source, { compilerOptions: options, fileName }).outputText;
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
