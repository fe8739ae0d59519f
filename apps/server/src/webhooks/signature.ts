import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `Chronicle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. Signing the
 * timestamp with the body lets a receiver reject a replayed request by its age.
 */
export const SIGNATURE_HEADER = 'chronicle-signature';
export const DELIVERY_HEADER = 'chronicle-delivery';

export function sign(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** The check a receiver makes (docs/deployments.md shows the same in a standalone snippet). */
export function verifySignature(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts['t']);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !parts['v1']) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  const given = Buffer.from(parts['v1']);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
