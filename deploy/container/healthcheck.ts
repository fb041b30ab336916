// The image's HEALTHCHECK: GET /healthz on the API's own port, with node (the image has no shell
// and no curl). It asks the process in its own container over loopback, so the certificate (made
// out to the Service's name) is not checked: the answer decides only whether to restart it.
import { request } from 'node:https';
import { request as plainRequest } from 'node:http';

const port = Number(process.env.CIMS_API_PORT ?? 4801);
const secure = Boolean(process.env.TLS_CERT_FILE);
const options = { host: '127.0.0.1', port, path: '/healthz', method: 'GET', timeout: 3000 };
const req = secure ? request({ ...options, rejectUnauthorized: false }) : plainRequest(options);
req.on('response', (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (err) => {
  console.error(`healthcheck: ${err.message}`);
  process.exit(1);
});
req.end();
