// examples/webhook-receiver.ts as an app would use it: real deliveries from the dispatcher's
// sender, each handled once however often it arrives, and a forged one refused.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createWebhookReceiver } from '../../examples/webhook-receiver.ts';
import type { TokenmeterEvent } from '../../src/core/event.ts';
import { sendWebhook } from '../../src/events/webhook-sender.ts';
import { newWebhookSecret, signWebhook } from '../../src/events/webhook-signer.ts';

const event: TokenmeterEvent = {
  id: 'evt_0123456789abcdef0123456789abcdef',
  type: 'balance.low',
  timestamp: new Date().toISOString(),
  account: 'u-1',
  sequence: 1,
  data: { account: 'u-1', available: 9, threshold: 10 },
};

describe('examples/webhook-receiver.ts', () => {
  it('handles a delivery once however often it comes, and refuses a wrong signature with 400', async () => {
    const secret = newWebhookSecret();
    const handled: string[] = [];
    const server = createWebhookReceiver({
      secret,
      onEvent: (e) => handled.push(`${e.type} ${e.account} ${e.sequence}`),
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tokenmeter`;
    try {
      const body = JSON.stringify(event);
      const send = (headers: Record<string, string>) =>
        sendWebhook({ url, body, headers, timeoutMs: 5000, allowPrivate: true });
      const signed = { ...signWebhook(secret, event.id, new Date(), body) };
      const first = await send(signed);
      const again = await send({ ...signWebhook(secret, event.id, new Date(), body) });
      assert.deepEqual([first.delivered, again.delivered], [true, true]);
      assert.deepEqual(handled, ['balance.low u-1 1']);
      const forged = await send({ ...signWebhook(newWebhookSecret(), 'evt_other', new Date(), body) });
      assert.deepEqual([forged.delivered, forged.status], [false, 400]);
      assert.deepEqual(handled, ['balance.low u-1 1']);
    } finally {
      server.close();
    }
  });
});
