import { generateVapidKeyPair } from '../services/secrets.js';

export function vapidGenerate(): number {
  const keys = generateVapidKeyPair();
  console.log(`HERALD_VAPID_PUBLIC_KEY=${keys.publicKey}`);
  console.log(`HERALD_VAPID_PRIVATE_KEY=${keys.privateKey}`);
  return 0;
}
