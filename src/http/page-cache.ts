// Rendered listing pages (GET /api/v1/notifications, /api/v2/notifications), kept per recipient and query
// and served again while the store's page versions say nothing they show has changed (store/page-versions.ts).
// Rendering a 40-item page reads 40 rows with their actors' and statuses' JSON: ~0.5 ms of SQLite work
// against ~5 µs for the versions (bench profile, 100,000 notifications), and clients poll the same page.
import type { FastifyReply } from 'fastify';
import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';
import type { Db } from '../store/schema.js';
import { readPageVersion } from '../store/page-versions.js';

export interface RenderedPage {
  readonly body: string;
  readonly link: string | undefined;
}

interface KeptPage {
  readonly version: string;
  readonly body: Buffer;
  readonly link: string | undefined;
}

export class PageCache {
  private readonly pages: LRUCache<string, KeptPage> | undefined;
  private readonly hits: Counter.Internal;
  private readonly misses: Counter.Internal;

  /** `maxBytes`: the bodies (and keys) kept, in all; the least recently served go first. 0 keeps none. */
  constructor(maxBytes: number, registry: Registry) {
    this.pages =
      maxBytes > 0 ? new LRUCache({ maxSize: maxBytes, sizeCalculation: (page, key) => page.body.length + key.length + 64 }) : undefined;
    const served = new Counter({
      name: 'herald_page_cache_total',
      help: 'Listing pages served from the page cache (hit) or rendered (miss)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    // Children kept, as in http/metrics.ts: inc() with a labels object hashes it on every request.
    this.hits = served.labels('hit');
    this.misses = served.labels('miss');
  }

  /** Whether pages are kept: routes then ask for the caller's page version with the token. */
  get enabled(): boolean {
    return this.pages !== undefined;
  }

  /**
   * Answers with the kept page when its version is the store's, else renders one, answers and keeps it.
   * `key` must name everything the page depends on besides the store: the recipient, the route and the query.
   * The version is the caller's as read with its token when it was (auth.ts), else read now: before the
   * page either way.
   */
  async serve(
    db: Db,
    caller: { readonly accountId: string; readonly pageVersion?: string },
    key: string,
    reply: FastifyReply,
    render: () => Promise<RenderedPage>,
  ): Promise<FastifyReply> {
    let page: RenderedPage | KeptPage;
    if (!this.pages) {
      page = await render();
    } else {
      const version = caller.pageVersion ?? (await readPageVersion(db, caller.accountId));
      const kept = this.pages.get(key);
      if (kept?.version === version) {
        page = kept;
        this.hits.inc();
      } else {
        this.misses.inc();
        const rendered = await render();
        page = { version, body: Buffer.from(rendered.body), link: rendered.link };
        this.pages.set(key, page);
      }
    }
    if (page.link) reply.header('Link', page.link);
    return reply.type('application/json; charset=utf-8').send(page.body);
  }
}
