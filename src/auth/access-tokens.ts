/**
 * The access tokens this server issues: JWTs signed with its own key, naming the client (`sub`),
 * the scopes granted and the client's Group, valid for a few minutes. Verifying one is the only
 * thing a request needs to be authenticated; each token is verified once, then remembered until it
 * expires (a Map lookup instead of a signature check on every request).
 */
import crypto from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { SecurityContext } from '../interactions/types';
import type { SigningKey } from './signing-key';

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

/** Why a token was refused, for the WWW-Authenticate error_description. */
export class InvalidToken extends Error {}

/** Verified tokens remembered; beyond this many the oldest are forgotten (and verified again if seen). */
const CACHE_SIZE = 10_000;
/** Leeway for clock differences between server processes sharing a key, in seconds. */
const CLOCK_TOLERANCE = 5;

interface Verified {
  principal: string;
  scopes: string[];
  group?: string;
  /** Epoch seconds. */
  exp: number;
  /** The FHIR base URL it was verified for: a cached token is good for that audience only. */
  audience: string;
}

export class AccessTokens {
  private readonly verified = new Map<string, Verified>();

  constructor(
    private readonly key: SigningKey,
    private readonly lifetimeSeconds: number,
    /** Epoch milliseconds; a parameter so that expiry of a remembered token can be tested without waiting. */
    private readonly clock: () => number = Date.now,
  ) {}

  /** `audience` is the FHIR base URL the token is good for; the issuer is the same server. */
  async issue(clientId: string, scopes: string[], group: string | undefined, audience: string): Promise<IssuedToken> {
    const claims: Record<string, unknown> = { scope: scopes.join(' ') };
    if (group) claims.group = group;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid, typ: 'at+jwt' })
      .setIssuer(audience)
      .setAudience(audience)
      .setSubject(clientId)
      .setIssuedAt(Math.floor(this.clock() / 1000))
      .setExpirationTime(Math.floor(this.clock() / 1000) + this.lifetimeSeconds)
      .setJti(crypto.randomUUID())
      .sign(this.key.privateKey);
    return { token, expiresIn: this.lifetimeSeconds };
  }

  /** The caller a token names; throws InvalidToken when it is forged, expired or meant for another server. */
  async verify(token: string, audience: string): Promise<Omit<SecurityContext, 'address'>> {
    const now = Math.floor(this.clock() / 1000);
    let entry = this.verified.get(token);
    if (entry && entry.exp + CLOCK_TOLERANCE <= now) {
      this.verified.delete(token);
      throw new InvalidToken('The access token has expired');
    }
    if (!entry) {
      entry = await this.check(token, audience);
      if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, entry);
    }
    if (entry.audience !== audience) throw new InvalidToken('The access token\'s "aud" claim is not valid for this server');
    const context: Omit<SecurityContext, 'address'> = { principal: entry.principal, scopes: entry.scopes };
    if (entry.group) context.group = entry.group;
    return context;
  }

  private async check(token: string, audience: string): Promise<Verified> {
    try {
      const { payload } = await jwtVerify(token, this.key.publicKey, {
        algorithms: [this.key.alg],
        issuer: audience,
        audience,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat', 'scope'],
        clockTolerance: CLOCK_TOLERANCE,
        currentDate: new Date(this.clock()),
      });
      if (typeof payload.sub !== 'string' || typeof payload.scope !== 'string' || typeof payload.exp !== 'number') {
        throw new InvalidToken('The access token lacks its client or scopes');
      }
      if (payload.group !== undefined && typeof payload.group !== 'string') throw new InvalidToken('The access token has a malformed group');
      return {
        principal: payload.sub,
        scopes: payload.scope.split(' ').filter(Boolean),
        group: payload.group as string | undefined,
        exp: payload.exp,
        audience,
      };
    } catch (error) {
      throw new InvalidToken(describe(error));
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof InvalidToken) return error.message;
  if (error instanceof errors.JWTExpired) return 'The access token has expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The access token signature is not valid';
  if (error instanceof errors.JWTClaimValidationFailed) return `The access token's "${error.claim}" claim is not valid for this server`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The access token is signed with an algorithm this server does not use';
  return 'The access token is malformed or not signed by this server';
}
