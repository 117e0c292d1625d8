import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { TokenmeterEvent } from '../../src/core/event.ts';
import { sendWebhook } from '../../src/events/webhook-sender.ts';
import { newWebhookSecret, signWebhook } from '../../src/events/webhook-signer.ts';
import { verifyWebhook, WebhookVerificationError } from '../../src/sdk/index.ts';

const EVENT: TokenmeterEvent<'purchase.completed'> = {
  id: 'evt_0123456789abcdef0123456789abcdef',
  type: 'purchase.completed',
  timestamp: '2026-01-01T00:00:00.000Z',
  account: 'alice',
  sequence: 7,
  data: { account: 'alice', payment_id: 'pay_1', package: 'starter', tokens: 500, amount: 900, currency: 'usd' },
};
const BODY = JSON.stringify(EVENT);

function signedNow(secret: string, body = BODY, at = new Date()) {
  return signWebhook(secret, EVENT.id, at, body);
}

describe('verifyWebhook', () => {
  describe('happy', () => {
    it('returns the event signed by signWebhook, typed so that `type` narrows `data`', () => {
      const secret = newWebhookSecret();
      const event = verifyWebhook(BODY, signedNow(secret), secret);
      // Compiles only because checking `type` narrows `data` to purchase.completed's fields.
      const tokens = event.type === 'purchase.completed' ? event.data.tokens : null;
      assert.equal(tokens, 500);
      assert.deepEqual(event, EVENT);
    });

    it('what signWebhook signs verifies with the standardwebhooks library directly', () => {
      const secret = newWebhookSecret();
      assert.deepEqual(new Webhook(secret).verify(BODY, signedNow(secret)), EVENT);
    });

    it('newWebhookSecret gives whsec_ and the base64 of 24 random bytes, different each time', () => {
      const secret = newWebhookSecret();
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
      assert.equal(Buffer.from(secret.slice('whsec_'.length), 'base64').length, 24);
      assert.notEqual(newWebhookSecret(), secret);
    });

    it('signWebhook sets webhook-id to the event id and webhook-timestamp to whole seconds', () => {
      const headers = signWebhook(newWebhookSecret(), EVENT.id, new Date(1_767_225_600_999), BODY);
      assert.equal(headers['webhook-id'], EVENT.id);
      assert.equal(headers['webhook-timestamp'], '1767225600');
      assert.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/);
    });

    it('accepts the headers as a Fetch Headers object, and the body as bytes', () => {
      const secret = newWebhookSecret();
      const headers = new Headers(signedNow(secret));
      assert.deepEqual(verifyWebhook(new TextEncoder().encode(BODY), headers, secret), EVENT);
    });

    it('accepts a Node headers object with array values and other headers around it', () => {
      const secret = newWebhookSecret();
      const old = newWebhookSecret();
      const current = signedNow(secret);
      // During a secret rotation two signatures arrive; either may be the one that matches.
      const headers = {
        host: 'app.example.com',
        'content-type': 'application/json',
        'webhook-id': [current['webhook-id']],
        'webhook-timestamp': current['webhook-timestamp'],
        'webhook-signature': [signedNow(old)['webhook-signature'], current['webhook-signature']],
        'x-absent': undefined,
      };
      assert.deepEqual(verifyWebhook(BODY, headers, secret), EVENT);
    });

    it('accepts header names in any case in a plain object', () => {
      const secret = newWebhookSecret();
      const signed = signedNow(secret);
      const headers = {
        'Webhook-Id': signed['webhook-id'],
        'WEBHOOK-TIMESTAMP': signed['webhook-timestamp'],
        'Webhook-Signature': signed['webhook-signature'],
      };
      assert.deepEqual(verifyWebhook(BODY, headers, secret), EVENT);
    });

    it('verifies a real delivery: sendWebhook to a node:http receiver that checks req.headers', async () => {
      const secret = newWebhookSecret();
      const verified: Array<TokenmeterEvent | Error> = [];
      const server = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        try {
          verified.push(verifyWebhook(Buffer.concat(chunks), req.headers, secret));
          res.writeHead(204).end();
        } catch (err) {
          verified.push(err as Error);
          res.writeHead(400).end();
        }
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        const result = await sendWebhook({
          url,
          body: BODY,
          headers: signedNow(secret),
          timeoutMs: 10_000,
          allowPrivate: true,
        });
        assert.deepEqual(result, { delivered: true, status: 204, error: null });
        assert.deepEqual(verified, [EVENT]);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  });

  describe('security', () => {
    it('a tampered body throws', () => {
      const secret = newWebhookSecret();
      const tampered = BODY.replace('"tokens":500', '"tokens":5000');
      assert.notEqual(tampered, BODY);
      assert.throws(() => verifyWebhook(tampered, signedNow(secret), secret), WebhookVerificationError);
    });

    it('a signature made with another secret throws', () => {
      const secret = newWebhookSecret();
      assert.throws(() => verifyWebhook(BODY, signedNow(newWebhookSecret()), secret), WebhookVerificationError);
    });

    it('a stale timestamp throws, even with a valid signature for it (a replay)', () => {
      const secret = newWebhookSecret();
      const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
      assert.throws(
        () => verifyWebhook(BODY, signedNow(secret, BODY, tenMinutesAgo), secret),
        (err: unknown) => err instanceof WebhookVerificationError && /too old/.test(err.message),
      );
    });

    it('a signature moved to another event id throws', () => {
      const secret = newWebhookSecret();
      const headers = { ...signedNow(secret), 'webhook-id': 'evt_ffffffffffffffffffffffffffffffff' };
      assert.throws(() => verifyWebhook(BODY, headers, secret), WebhookVerificationError);
    });

    it('missing signature headers throw', () => {
      const secret = newWebhookSecret();
      const { 'webhook-signature': _dropped, ...headers } = signedNow(secret);
      assert.throws(() => verifyWebhook(BODY, headers, secret), WebhookVerificationError);
      assert.throws(() => verifyWebhook(BODY, new Headers(), secret), WebhookVerificationError);
    });

    it('two different webhook-id values throw rather than choosing one', () => {
      const secret = newWebhookSecret();
      const signed = signedNow(secret);
      const headers = { ...signed, 'webhook-id': [signed['webhook-id'], 'evt_other'] };
      assert.throws(() => verifyWebhook(BODY, headers, secret), WebhookVerificationError);
    });
  });

  describe('error', () => {
    // Correctly signed, so only the shape check can refuse them.
    for (const [what, body] of [
      ['not JSON', 'hello'],
      ['an array', '[1,2]'],
      ['an unknown type', JSON.stringify({ ...EVENT, type: 'balance.exploded' })],
      ['no id', JSON.stringify({ ...EVENT, id: undefined })],
      ['a bad timestamp', JSON.stringify({ ...EVENT, timestamp: 'yesterday' })],
      ['no account', JSON.stringify({ ...EVENT, account: 7 })],
      ['a fractional sequence', JSON.stringify({ ...EVENT, sequence: 1.5 })],
      ['a zero sequence', JSON.stringify({ ...EVENT, sequence: 0 })],
      ['data that is not an object', JSON.stringify({ ...EVENT, data: 'x' })],
      ['an empty body', ''],
    ] as const) {
      it(`a signed body with ${what} throws WebhookVerificationError`, () => {
        const secret = newWebhookSecret();
        assert.throws(() => verifyWebhook(body, signedNow(secret, body), secret), WebhookVerificationError);
      });
    }
  });
});
