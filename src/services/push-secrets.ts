// The secrets behind push subscriptions: the key that seals each subscription's access token at rest
// (SPEC §8.5) and the key that signs Unsubscribe-URL tokens (SPEC §8.6). Both derive from one random
// secret kept in the store's settings table, so every process of a PostgreSQL deployment shares it,
// like the VAPID pair; a file in one machine's data directory would not be seen by the others.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { initSetting } from '../store/settings.js';
import type { Db } from '../store/schema.js';
import { createUnsubscribeTokens, type UnsubscribeTokens } from './push-unsubscribe-token.js';

const SETTING = 'push_secret';
const SEALED_PREFIX = 'v1';

export interface TokenCipher {
  /** AES-256-GCM; `context` is bound as associated data, so a sealed value only opens for its own row. */
  seal(plain: string, context: string): string;
  /** Throws when the value was tampered with, sealed for another context or with another key. */
  open(sealed: string, context: string): string;
}

export interface PushSecrets {
  readonly tokenCipher: TokenCipher;
  readonly unsubscribeTokens: UnsubscribeTokens;
}

/** Reads the deployment's push secret, creating it once (two processes starting together agree). */
export async function loadPushSecrets(db: Db): Promise<PushSecrets> {
  const secret = await initSetting(db, SETTING, randomBytes(32).toString('base64url'));
  return createPushSecrets(Buffer.from(secret, 'base64url'));
}

/** Independent keys per use (RFC 5869 §3.2 "info"), so neither use can be turned against the other. */
export function createPushSecrets(secret: Buffer): PushSecrets {
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
  return {
    tokenCipher: createTokenCipher(derive('herald push access token v1')),
    unsubscribeTokens: createUnsubscribeTokens(derive('herald unsubscribe url v1')),
  };
}

/** Opened tokens kept at most; a full cache is emptied (a deployment's subscriptions cycle through it). */
const OPENED_CACHE_SIZE = 10_000;

export function createTokenCipher(key: Buffer): TokenCipher {
  // Every push opens its subscription's token, and a sealed value always opens to the same token (GCM
  // checks it, the key is fixed): remembering the answers took 5% of the serving process's main thread
  // off the delivery benchmark's peak (`tsx bench/only.ts delivery` with --cpu-prof, `open` self time).
  const opened = new Map<string, string>();
  const open = (sealed: string, context: string): string => {
    const cacheKey = `${context}\n${sealed}`;
    let plain = opened.get(cacheKey);
    if (plain === undefined) {
      plain = openSealed(key, sealed, context);
      if (opened.size >= OPENED_CACHE_SIZE) opened.clear();
      opened.set(cacheKey, plain);
    }
    return plain;
  };
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [SEALED_PREFIX, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open,
  };
}

function openSealed(key: Buffer, sealed: string, context: string): string {
  const [prefix, iv, body, tag] = sealed.split('.');
  if (prefix !== SEALED_PREFIX || iv === undefined || body === undefined || tag === undefined) {
    throw new Error('sealed access token has an unknown format');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/** The associated data a subscription's token is sealed with: the token row it belongs to. */
export const tokenContext = (tokenId: number): string => `push-subscription-token:${tokenId}`;
