// Types for the `http_ece` dev dependency (it ships none). Only what the tests use.
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';

  export interface EceParams {
    version?: 'aes128gcm' | 'aesgcm';
    key?: Buffer | string;
    keyid?: string;
    keymap?: Record<string, ECDH>;
    privateKey?: ECDH;
    dh?: Buffer | string;
    salt?: Buffer | string;
    authSecret?: Buffer | string;
    rs?: number;
    pad?: number;
  }

  export function decrypt(buffer: Buffer, params: EceParams): Buffer;
  export function encrypt(buffer: Buffer, params: EceParams): Buffer;

  const ece: { decrypt: typeof decrypt; encrypt: typeof encrypt };
  export default ece;
}
