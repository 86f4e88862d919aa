/**
 * RTC tokens for the media room of a call (`signalingCallEx`,
 * `signalingJoinAndAccept`). The provider is pluggable: an application
 * embedding Parley passes its own to `startNode`; otherwise, with
 * PARLEY_RTC_TOKEN_SECRET, Parley signs an HS256 JWT that the media server
 * checks with the same secret.
 */
import { SignJWT } from 'jose';

export interface RtcTokenRequest {
  account: string;
  /** The account's uid in the channel. */
  uid: number;
  /** The media room. */
  channelName: string;
  ttlSec: number;
  /** `nertcJoinRoomQueryParamMap` as the client passed it. */
  params?: string;
}

export interface RtcTokenProvider {
  token(request: RtcTokenRequest): Promise<string>;
}

/**
 * Signs `{sub: account, uid, room, params?}` with HS256 and `secret`,
 * expiring after the requested lifetime.
 */
export function hs256RtcTokens(secret: string): RtcTokenProvider {
  const key = new TextEncoder().encode(secret);
  return {
    token(r) {
      const claims: Record<string, unknown> = { uid: r.uid, room: r.channelName };
      if (r.params !== undefined) claims.params = r.params;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(r.account).setIssuedAt(now).setExpirationTime(now + r.ttlSec).sign(key);
    },
  };
}
