// The session: sign-in in the system browser, the token vault, refresh, the
// inactivity lock and sign-out. The access token lives in this object's memory
// only; the refresh token also goes to the OS keychain (ChunkedSecret).
//
// Locking and a different user: unlocking always means a full interactive
// sign-in (prompt=login). If the same subject signs in, the session resumes:
// the renderer keeps its unsaved edits and any parked request is replayed. If a
// different subject signs in, the locked user's session ends: their parked
// requests are refused (never replayed under someone else's name), their
// refresh token is revoked, and `session:changed` carries the new user, which
// tells the renderer to drop everything it holds for the previous one. A lock
// marker is kept in the keychain so restarting the app does not skip the lock;
// if the marker cannot be written, the saved sign-in is removed (or, failing
// that, revoked) instead, so a restart can only come back signed out.
import type { Policy } from '../../shared/config';
import { SessionState, type SessionState as SessionStateT } from '../../shared/ipc';
import { Me, Role } from '../../shared/api';
import type { Clock, Fetch, LogSink, SecretStore } from './deps';
import { fail, MESSAGES } from './errors';
import type { EventHub } from './events';
import { DpopKey } from './dpop';
import { LoopbackError, startLoopbackListener, type LoopbackListener } from './loopback';
import { OidcClient, ProviderUnreachableError, type AuthorizationRequest, type TokenSet } from './oidc';
import { ChunkedSecret, KeychainUnreadableError, LEGACY_REFRESH_ACCOUNT, refreshTokenAccount } from './secret-store';

/** What the OS told the shell (Electron powerMonitor: lock-screen, suspend, user-did-resign-active / session switch). */
export type WorkstationEvent = 'lock-screen' | 'suspend' | 'user-switch';

export const DEFAULT_SIGN_IN_TIMEOUT_MS = 5 * 60_000;
/** Refresh this long before the access token expires (wall-clock). */
export const REFRESH_MARGIN_MS = 60_000;
/** With the provider unreachable, the current access token is still used until this long before it expires. */
export const EXPIRY_SKEW_MS = 5_000;
/** The session's message while no new access token can be had because the provider is unreachable. */
export const PROVIDER_UNREACHABLE_MESSAGE =
  'The identity provider cannot be reached, so your sign-in cannot be renewed. Your work is kept; it is sent once the provider is back.';
/** At start with `tokenBinding: dpop`: the saved sign-in was bound to a key that ended with the last run. */
export const SIGN_IN_AFTER_RESTART_MESSAGE = 'Your sign-in is bound to this run of the console for your security, so sign in again after a restart.';
const LOCK_ACCOUNT = 'session-locked';

export interface SessionDeps {
  policy: Policy;
  fetch: Fetch;
  secrets: SecretStore;
  clock: Clock;
  log: LogSink;
  hub: EventHub;
  openExternal: (url: string) => Promise<void>;
  signInTimeoutMs?: number;
  /** Called after an interactive sign-in completes (the shell brings the window to the front). */
  onSignedIn?: () => void;
}

interface Tokens {
  accessToken: string;
  /** `DPoP`: bound to `Session.dpop`; every use needs a proof from it. */
  tokenType: 'DPoP' | 'Bearer';
  expiresAt: number;
  refreshToken: string | null;
  idToken: string | null;
}

interface Parked {
  sub: string;
  resume: (token: string) => void;
  refuse: (error: Error) => void;
}

interface PendingSignIn {
  listener: LoopbackListener;
  request: AuthorizationRequest;
  /** The key this sign-in's tokens are bound to (tokenBinding: dpop), new for every sign-in. */
  dpop: DpopKey | null;
  previous: 'signedOut' | 'locked';
}

export class Session {
  private state: SessionStateT;
  private tokens: Tokens | null = null;
  /** The current sign-in's DPoP key; in memory only, never exported (dpop.ts). */
  private dpop: DpopKey | null = null;
  private lastActivity: number;
  private refreshing: Promise<string> | null = null;
  private parked: Parked[] = [];
  private pending: PendingSignIn | null = null;
  /** The keychain write of the latest lock; an unlock waits for it so the two never interleave. */
  private lockRecorded: Promise<void> = Promise.resolve();
  private readonly oidc: OidcClient;
  private readonly vault: ChunkedSecret;
  private readonly lockAfterMs: number;

  constructor(private readonly deps: SessionDeps) {
    this.oidc = new OidcClient({
      issuer: deps.policy.issuer,
      clientId: deps.policy.clientId,
      scope: deps.policy.scope,
      audience: deps.policy.apiAudience,
      fetch: deps.fetch,
    });
    this.vault = new ChunkedSecret(deps.secrets, refreshTokenAccount(deps.policy.issuer, deps.policy.clientId));
    this.lockAfterMs = deps.policy.inactivityTimeoutMinutes * 60_000;
    this.lastActivity = deps.clock.now();
    this.state = { status: 'signedOut', issuer: deps.policy.issuer, user: null, message: null, signInUrl: null, signInDeadline: null };
  }

  getState(): SessionStateT {
    return this.state;
  }

  private setState(next: Partial<SessionStateT>): SessionStateT {
    this.state = SessionState.parse({ ...this.state, ...next });
    this.deps.hub.emit('session:changed', this.state);
    return this.state;
  }

  private log(event: string, fields: Record<string, string | number | boolean | null> = {}, level: 'info' | 'warn' | 'error' = 'info') {
    this.deps.log.write(level, event, fields);
  }

  /** At start: restore the session from the keychain without the browser, or stay signed out and say why. */
  async restore(): Promise<SessionStateT> {
    let refreshToken: string | null;
    let lockedMarker: string | null = null;
    // An entry from before tokens were named by provider: whose it is cannot be known, so it goes unread.
    await new ChunkedSecret(this.deps.secrets, LEGACY_REFRESH_ACCOUNT).clear().catch(() => undefined);
    try {
      refreshToken = await this.vault.read();
      if (refreshToken) lockedMarker = await this.deps.secrets.get(LOCK_ACCOUNT);
    } catch (error) {
      this.log('session.restore.keychainUnreadable', { reason: error instanceof KeychainUnreadableError ? error.message : 'keychain error' }, 'warn');
      await this.forgetStored();
      return this.setState({
        status: 'signedOut',
        user: null,
        message: 'Your saved sign-in could not be read from the system keychain. Sign in again.',
      });
    }
    if (!refreshToken) {
      this.log('session.restore.none');
      return this.state;
    }
    if (this.deps.policy.tokenBinding === 'dpop') {
      // The saved refresh token is bound to a key that ended with the last run: useless, so revoked (not awaited: the provider may be down) and removed.
      this.log('session.restore.boundToEndedKey');
      void this.oidc.revoke(refreshToken).catch((error: unknown) => this.log('session.restore.revoke.failed', { error: (error as Error).name }, 'warn'));
      await this.forgetStored();
      return this.setState({ status: 'signedOut', user: null, message: SIGN_IN_AFTER_RESTART_MESSAGE });
    }
    const started = this.deps.clock.now();
    try {
      const set = await this.oidc.refresh(refreshToken, this.deps.clock.now());
      await this.accept(set, refreshToken);
      this.lastActivity = this.deps.clock.now();
      this.log('session.restore.ok', { ms: this.deps.clock.now() - started });
      if (lockedMarker) {
        // Restarting the app does not skip the lock; the access token waits for the unlock sign-in.
        this.tokens = this.tokens && { ...this.tokens, accessToken: '', expiresAt: 0 };
        return this.setState({ status: 'locked', message: MESSAGES.locked });
      }
      return this.setState({ status: 'signedIn', message: null });
    } catch (error) {
      if (error instanceof ProviderUnreachableError) {
        this.log('session.restore.unreachable', {}, 'warn');
        return this.setState({ status: 'signedOut', message: 'The identity provider cannot be reached. Check your connection and sign in.' });
      }
      this.log('session.restore.refused', { error: (error as Error).name }, 'warn');
      await this.forgetStored();
      return this.setState({ status: 'signedOut', user: null, message: 'Your session has ended. Sign in again.' });
    }
  }

  /** Starts an interactive sign-in; resolves at once with the `signingIn` state. Completion arrives as `session:changed`. */
  async signIn(): Promise<SessionStateT> {
    if (this.state.status === 'signingIn' || this.state.status === 'signedIn') return this.state;
    const previous = this.state.status === 'locked' ? 'locked' : 'signedOut';
    const timeoutMs = this.deps.signInTimeoutMs ?? DEFAULT_SIGN_IN_TIMEOUT_MS;
    let listener: LoopbackListener | null = null;
    let request: AuthorizationRequest;
    let dpop: DpopKey | null = null;
    try {
      const attempt = OidcClient.newAttempt();
      // A new key for every sign-in: nothing bound to an earlier one carries over.
      if (this.deps.policy.tokenBinding === 'dpop') dpop = await DpopKey.generate();
      // Listening before the browser opens (RFC 8252 7.3), on a port the OS picks.
      listener = await startLoopbackListener({ expectedState: attempt.state, timeoutMs });
      // Unlocking is a fresh authentication, never a silent SSO reuse.
      request = await this.oidc.authorizationRequest(attempt, listener.redirectUri, previous === 'locked' ? { prompt: 'login' } : {}, dpop ?? undefined);
    } catch (error) {
      listener?.cancel();
      const unreachable = error instanceof ProviderUnreachableError;
      this.log('signIn.start.failed', { error: (error as Error).name }, 'warn');
      return this.setState({
        status: previous,
        message: unreachable ? 'The identity provider cannot be reached. Check your connection and try again.' : 'Sign-in could not start. Try again.',
      });
    }
    const deadline = new Date(this.deps.clock.now() + timeoutMs).toISOString();
    this.pending = { listener, request, previous, dpop };
    this.log('signIn.listening', { timeoutMs });
    this.setState({ status: 'signingIn', message: null, signInUrl: request.url, signInDeadline: deadline });
    void this.complete(this.pending);
    try {
      await this.deps.openExternal(request.url);
      this.log('signIn.browserOpened');
    } catch (error) {
      this.log('signIn.browserFailed', { error: (error as Error).name }, 'warn');
      if (this.pending?.listener === listener) {
        this.setState({ message: 'The browser did not open. Copy the sign-in link and open it in your browser.' });
      }
    }
    return this.state;
  }

  private async complete(pending: PendingSignIn): Promise<void> {
    let callback: URL;
    try {
      callback = await pending.listener.callback;
    } catch (error) {
      if (this.pending !== pending) return;
      this.pending = null;
      const reason = error instanceof LoopbackError ? error.reason : 'unknown';
      this.log('signIn.ended', { reason }, 'warn');
      const message =
        reason === 'cancelled'
          ? null
          : reason === 'timeout'
            ? 'Sign-in timed out. Try again.'
            : 'The identity provider did not sign you in. Try again.';
      this.setState({ status: pending.previous, message, signInUrl: null, signInDeadline: null });
      return;
    }
    try {
      const set = await this.oidc.exchange(pending.request, callback, this.deps.clock.now(), pending.dpop ?? undefined);
      if (this.pending !== pending) return;
      this.pending = null;
      const previousSub = this.state.user?.sub ?? this.parked[0]?.sub ?? null;
      const user = userFrom(set.claims);
      await this.lockRecorded;
      if (previousSub && previousSub !== user.sub) await this.endPreviousUser();
      this.dpop = pending.dpop;
      await this.accept(set, null);
      await this.deleteLockMarker();
      this.lastActivity = this.deps.clock.now();
      this.log('signIn.ok', { sameUser: previousSub === user.sub });
      this.setState({ status: 'signedIn', message: this.persistWarning, signInUrl: null, signInDeadline: null });
      this.releaseParked();
      this.deps.onSignedIn?.();
    } catch (error) {
      if (this.pending === pending) this.pending = null;
      this.log('signIn.exchange.failed', { error: (error as Error).name }, 'warn');
      this.setState({
        status: pending.previous,
        message: 'Sign-in could not be completed. Try again.',
        signInUrl: null,
        signInDeadline: null,
      });
    }
  }

  private persistWarning: string | null = null;

  /** Takes a new token set: keeps the access token in memory and the (rotated) refresh token in the keychain. */
  private async accept(set: TokenSet, previousRefresh: string | null): Promise<void> {
    const refreshToken = set.refreshToken ?? previousRefresh;
    this.tokens = {
      accessToken: set.accessToken,
      tokenType: set.tokenType,
      expiresAt: set.expiresAt,
      refreshToken,
      idToken: set.idToken ?? this.tokens?.idToken ?? null,
    };
    const user = userFrom(set.claims);
    this.state = { ...this.state, user };
    this.persistWarning = null;
    if (set.refreshToken && set.refreshToken !== previousRefresh) {
      try {
        await this.vault.write(set.refreshToken);
      } catch (error) {
        // Never fall back to plain text: this session works, the next start asks to sign in.
        this.log('vault.write.failed', { error: (error as Error).name }, 'warn');
        this.persistWarning = 'Your sign-in could not be saved in the system keychain; you will be asked to sign in next time.';
        await this.vault.clear().catch(() => undefined);
      }
    }
  }

  async cancelSignIn(): Promise<SessionStateT> {
    this.pending?.listener.cancel();
    // complete() moves the state back once the listener settles.
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    return this.state;
  }

  async signOut(): Promise<SessionStateT> {
    this.pending?.listener.cancel();
    this.pending = null;
    const tokens = this.tokens;
    this.tokens = null;
    this.dpop = null;
    this.refusePark(fail('unauthenticated', MESSAGES.unauthenticated));
    const refreshToken = tokens?.refreshToken ?? (await this.vault.read().catch(() => null));
    if (refreshToken) {
      try {
        await this.oidc.revoke(refreshToken);
        this.log('signOut.revoked');
      } catch (error) {
        this.log('signOut.revoke.failed', { error: (error as Error).name }, 'warn');
      }
    }
    await this.forgetStored();
    const state = this.setState({ status: 'signedOut', user: null, message: null, signInUrl: null, signInDeadline: null });
    try {
      const endSession = await this.oidc.endSessionUrl(tokens?.idToken ?? undefined);
      if (endSession) await this.deps.openExternal(endSession);
    } catch (error) {
      this.log('signOut.endSession.failed', { error: (error as Error).name }, 'warn');
    }
    return state;
  }

  /** The renderer (or the shell) reports user activity. */
  activity(): void {
    // Check first: activity reported after a long sleep must not wipe out idle time that already ran out.
    this.checkLock();
    if (this.state.status === 'signedIn') this.lastActivity = this.deps.clock.now();
  }

  /** Locks when the idle time is over. Called before every request, on a timer, on resume and on focus. */
  checkLock(): void {
    if (this.state.status !== 'signedIn') return;
    if (this.deps.clock.now() - this.lastActivity < this.lockAfterMs) return;
    this.lock({ idleMinutes: this.deps.policy.inactivityTimeoutMinutes });
  }

  /**
   * The workstation's screen locked, it is going to sleep or another user took the seat: lock at once,
   * as for inactivity (the renderer keeps its drafts). IT can turn it off (policy lockOnScreenLock).
   */
  lockWithWorkstation(reason: WorkstationEvent): void {
    if (!this.deps.policy.lockOnScreenLock || this.state.status !== 'signedIn') return;
    this.lock({ workstation: reason });
  }

  private lock(why: Record<string, string | number>): void {
    if (this.tokens) this.tokens = { ...this.tokens, accessToken: '', expiresAt: 0 };
    this.log('session.locked', why);
    // Locked in memory first and whatever the keychain says: the marker only carries the lock across a restart.
    this.setState({ status: 'locked', message: MESSAGES.locked });
    this.lockRecorded = this.recordLock();
  }

  /**
   * Writes the lock marker. If the keychain refuses it, a restart must not skip
   * the lock: the saved sign-in goes instead (a restart is then signed out), and
   * if even that fails the refresh token is revoked, so it cannot restore a session.
   */
  private async recordLock(): Promise<void> {
    try {
      await this.deps.secrets.set(LOCK_ACCOUNT, '1');
      return;
    } catch (error) {
      this.log('session.lock.notRecorded', { error: (error as Error).name }, 'error');
    }
    try {
      await this.vault.clear();
      this.log('session.lock.savedSignInRemoved', {}, 'warn');
      return;
    } catch (error) {
      this.log('session.lock.savedSignInNotRemoved', { error: (error as Error).name }, 'error');
    }
    const refreshToken = this.tokens?.refreshToken;
    if (!refreshToken) return;
    try {
      await this.oidc.revoke(refreshToken);
      this.log('session.lock.refreshRevoked', {}, 'warn');
    } catch (error) {
      this.log('session.lock.revoke.failed', { error: (error as Error).name }, 'error');
    }
  }

  private async deleteLockMarker(): Promise<void> {
    try {
      await this.deps.secrets.delete(LOCK_ACCOUNT);
    } catch (error) {
      // Safe side: a marker left behind makes the next start locked, not unlocked.
      this.log('session.lockMarker.delete.failed', { error: (error as Error).name }, 'warn');
    }
  }

  /** On resume from sleep or window focus: timers may have stalled, so check the lock and refresh by wall-clock. */
  async wake(): Promise<void> {
    this.checkLock();
    if (this.state.status === 'signedIn' && this.tokens && this.refreshDue()) {
      // Not awaited: a refused refresh parks its caller until the next sign-in.
      void this.accessToken().catch(() => undefined);
    }
  }

  /** The key the current access token is bound to, for the API client's proofs; null for a bearer token. */
  proofKey(): DpopKey | null {
    return this.tokens?.tokenType === 'DPoP' ? this.dpop : null;
  }

  private refreshDue(): boolean {
    return !this.tokens || this.deps.clock.now() >= this.tokens.expiresAt - REFRESH_MARGIN_MS;
  }

  /**
   * A valid access token for an API call. Refreshes by wall-clock time (or when
   * `force`, after a 401), one refresh at a time. A refused refresh signs out and
   * parks the caller until the same user signs in again.
   */
  async accessToken(refusedToken?: string): Promise<string> {
    this.checkLock();
    if (this.state.status === 'locked') throw fail('locked', MESSAGES.locked);
    if (this.state.status !== 'signedIn' || !this.tokens) throw fail('unauthenticated', MESSAGES.unauthenticated);
    if (this.refreshing) return this.refreshing;
    // After a 401: if another caller already replaced the refused token, use the new one.
    const force = refusedToken !== undefined && refusedToken === this.tokens.accessToken;
    if (!force && !this.refreshDue()) return this.tokens.accessToken;
    this.refreshing = this.refresh(!force).finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** `mayKeepCurrent`: if the provider is unreachable, go on with the current token while it is valid (never after a 401 refused it). */
  private async refresh(mayKeepCurrent = false): Promise<string> {
    const tokens = this.tokens;
    if (!tokens?.refreshToken) return this.park('no refresh token');
    const started = this.deps.clock.now();
    try {
      const set = await this.oidc.refresh(tokens.refreshToken, this.deps.clock.now(), this.dpop ?? undefined);
      await this.accept(set, tokens.refreshToken);
      this.log('token.refreshed', { ms: this.deps.clock.now() - started, rotated: Boolean(set.refreshToken) });
      if (this.state.message === PROVIDER_UNREACHABLE_MESSAGE) this.setState({ message: null });
      return this.tokens!.accessToken;
    } catch (error) {
      if (error instanceof ProviderUnreachableError) {
        // The refresh is early (REFRESH_MARGIN_MS): the token in hand still works until it expires.
        const current = this.tokens;
        if (mayKeepCurrent && current === tokens && current.accessToken && this.deps.clock.now() < current.expiresAt - EXPIRY_SKEW_MS) {
          this.log('token.refresh.deferred', { validForMs: current.expiresAt - this.deps.clock.now() }, 'warn');
          return current.accessToken;
        }
        this.log('token.refresh.unreachable', {}, 'warn');
        // Still signed in (the refresh token is good): the renderer keeps its drafts, the next call tries again.
        if (this.state.status === 'signedIn') this.setState({ message: PROVIDER_UNREACHABLE_MESSAGE });
        throw fail('unavailable', 'The identity provider cannot be reached. Check your connection and try again.');
      }
      this.log('token.refresh.refused', { error: (error as Error).name }, 'warn');
      return this.park('refused');
    }
  }

  /** Signs out (keeping who it was) and waits for the same user to sign in again; then the caller goes on with a fresh token. */
  private async park(why: string): Promise<string> {
    const sub = this.state.user?.sub ?? '';
    this.tokens = null;
    await this.forgetStored();
    this.log('session.expired', { why });
    this.setState({ status: 'signedOut', message: 'Your session has ended. Sign in again; your work is kept and will be sent after you sign in.' });
    return new Promise<string>((resume, refuse) => this.parked.push({ sub, resume, refuse }));
  }

  private releaseParked(): void {
    const waiting = this.parked;
    this.parked = [];
    const sub = this.state.user?.sub;
    for (const p of waiting) {
      if (p.sub === sub && this.tokens) p.resume(this.tokens.accessToken);
      else p.refuse(fail('unauthenticated', 'A different user signed in; the previous user\'s unsent change was discarded.'));
    }
  }

  private refusePark(error: Error): void {
    const waiting = this.parked;
    this.parked = [];
    for (const p of waiting) p.refuse(error);
  }

  /** A different user unlocks: the locked user's session ends for good. */
  private async endPreviousUser(): Promise<void> {
    const previous = this.tokens?.refreshToken;
    this.tokens = null;
    this.refusePark(fail('unauthenticated', 'A different user signed in; the previous user\'s unsent change was discarded.'));
    if (previous) {
      try {
        await this.oidc.revoke(previous);
        this.log('session.previousUser.revoked');
      } catch (error) {
        // The token stays valid at the provider until it expires; the helpdesk needs to know.
        this.log('session.previousUser.revoke.failed', { error: (error as Error).name }, 'warn');
      }
    }
    await this.forgetStored();
  }

  private async forgetStored(): Promise<void> {
    try {
      await this.vault.clear();
    } catch (error) {
      this.log('vault.clear.failed', { error: (error as Error).name }, 'warn');
    }
    await this.deleteLockMarker();
  }

  /** Stops the sign-in listener (app quit). Tokens are not revoked: the session survives a restart. */
  dispose(): void {
    this.pending?.listener.cancel();
    this.pending = null;
  }
}

export function userFrom(claims: Record<string, unknown>): Me {
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  const name =
    typeof claims.name === 'string' ? claims.name : typeof claims.preferred_username === 'string' ? claims.preferred_username : sub;
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is Role => Role.safeParse(r).success) : [];
  return Me.parse({ sub, name, roles });
}
