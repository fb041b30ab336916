// The process entry, built as dist/electron/main.js: the preload and the
// renderer are found next to the bundle (dist/electron/preload.cjs, dist/renderer).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startShell } from './main';

const here = dirname(fileURLToPath(import.meta.url));
void startShell({ preload: join(here, 'preload.cjs'), rendererRoot: join(here, '..', 'renderer') });
