// `herald vapid generate`: a key pair for HERALD_VAPID_PUBLIC_KEY / HERALD_VAPID_PRIVATE_KEY (SPEC §8.3).
// generateVapidKeys keeps the private scalar at its full 32 bytes, the form every push library reads.
import { generateVapidKeys } from '../push/keys.js';

export function vapidGenerate(): number {
  const keys = generateVapidKeys();
  console.log(`HERALD_VAPID_PUBLIC_KEY=${keys.publicKey}`);
  console.log(`HERALD_VAPID_PRIVATE_KEY=${keys.privateKey}`);
  return 0;
}
