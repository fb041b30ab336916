// The console's DPoP key (RFC 9449): one ES256 key pair per sign-in, made with
// WebCrypto in the main process. The private key is not extractable: it cannot
// be exported, so it is never written to disk, logged or sent to the renderer;
// it lives as long as this process and this sign-in. The identity provider
// binds the access and refresh tokens to it (openid-client signs the token
// requests' proofs with the same pair), and every API call carries a proof
// made here. Server nonces (use_dpop_nonce) are remembered per origin.
import { createHash, randomUUID, webcrypto } from 'node:crypto';

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface ProofRequest {
  method: string;
  /** The request URL; query and fragment are left out of `htu` (RFC 9449 4.2). */
  url: string;
  /** Hashed into `ath` for calls with an access token. */
  accessToken?: string;
}

export class DpopKey {
  private readonly nonces = new Map<string, string>();

  private constructor(
    /** For openid-client's DPoP handle (token requests). */
    readonly keyPair: CryptoKeyPair,
    private readonly publicJwk: { crv: string; kty: string; x: string; y: string },
    /** RFC 7638 thumbprint: the `cnf.jkt` of tokens bound to this key. */
    readonly thumbprint: string,
  ) {}

  static async generate(): Promise<DpopKey> {
    const keyPair = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = await webcrypto.subtle.exportKey('jwk', keyPair.publicKey);
    // RFC 7638: the required members in lexicographic order (crv, kty, x, y), no whitespace.
    const publicJwk = { crv: String(jwk.crv), kty: String(jwk.kty), x: String(jwk.x), y: String(jwk.y) };
    const thumbprint = createHash('sha256').update(JSON.stringify(publicJwk)).digest('base64url');
    return new DpopKey(keyPair, publicJwk, thumbprint);
  }

  /** A proof for one request; carries the origin's latest nonce if it gave one. */
  async proof({ method, url, accessToken }: ProofRequest, now = Date.now()): Promise<string> {
    const target = new URL(url);
    const nonce = this.nonces.get(target.origin);
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: this.publicJwk };
    const payload = {
      jti: randomUUID(),
      htm: method,
      htu: `${target.origin}${target.pathname}`,
      iat: Math.floor(now / 1000),
      ...(accessToken !== undefined ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
    };
    const input = `${b64(header)}.${b64(payload)}`;
    // WebCrypto's ECDSA signature is r || s, the form JWS uses (RFC 7518 3.4).
    const signature = await webcrypto.subtle.sign(SIGN, this.keyPair.privateKey, new TextEncoder().encode(input));
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  }

  /**
   * Remembers a nonce the server sent (`DPoP-Nonce`, RFC 9449 8.2, 9). True when the answer asks
   * for the request to be repeated with it (401 with `error="use_dpop_nonce"`).
   */
  noteNonce(url: string, response: Pick<Response, 'status' | 'headers'>): boolean {
    const nonce = response.headers.get('dpop-nonce');
    if (nonce && /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/.test(nonce)) this.nonces.set(new URL(url).origin, nonce);
    return (
      response.status === 401 && nonce !== null && /^DPoP\b.*error="use_dpop_nonce"/i.test(response.headers.get('www-authenticate') ?? '')
    );
  }
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
