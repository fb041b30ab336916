// `node copy-secret.js SRC DEST`: copies a private key to DEST with mode 0600, owned by the user
// running it. Kubernetes mounts secret files owned by root (group-readable with fsGroup); the API
// refuses a signing key that anyone but its owner may read, so an init container copies it into a
// memory-backed volume first.
import { copyFileSync, chmodSync } from 'node:fs';

const [src, dest] = process.argv.slice(2);
if (!src || !dest) {
  console.error('usage: node copy-secret.js SRC DEST');
  process.exit(2);
}
copyFileSync(src, dest);
chmodSync(dest, 0o600);
