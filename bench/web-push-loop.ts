// The delivery baseline, in a process of its own like Herald's: web-push's sendNotification in a plain
// loop, `CONCURRENCY` at a time, to the same receiver. Prints the seconds it took.
import webpush from 'web-push';

const [endpoint, p256dh, auth, countText, concurrencyText] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const vapid = webpush.generateVAPIDKeys();
const payload = JSON.stringify({
  access_token: 'x'.repeat(43),
  preferred_locale: 'en',
  notification_id: 1,
  notification_type: 'follow',
  icon: 'https://social.example/avatar.png',
  title: 'Alice is now following you',
  body: 'Hello, I post about things',
});
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next++ < count) {
      await webpush.sendNotification({ endpoint, keys: { p256dh, auth } }, payload, {
        vapidDetails: { subject: 'mailto:bench@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        contentEncoding: 'aes128gcm',
        TTL: 172800,
      });
    }
  }),
);
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000 }));
