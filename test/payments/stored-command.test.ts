import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storedCommand } from '../../src/ledger/payments/stored-command.ts';

describe('storedCommand', () => {
  it('reads dispute commands kept pending before disputes were merged by status', () => {
    const opened = { type: 'dispute_opened', paymentIntent: 'pi_1', disputeId: 'dp_1', amount: 500 };
    assert.deepEqual(storedCommand(JSON.stringify(opened)), {
      type: 'dispute_changed',
      paymentIntent: 'pi_1',
      disputeId: 'dp_1',
      status: 'open',
      amount: 500,
    });
    const won = { type: 'dispute_closed', paymentIntent: 'pi_1', disputeId: 'dp_1', won: true };
    assert.equal(storedCommand(JSON.stringify(won)).type, 'dispute_changed');
    const lost = storedCommand(JSON.stringify({ ...won, won: false }));
    assert.ok(lost.type === 'dispute_changed' && lost.status === 'lost');
  });

  it('reads an invoice kept pending before billing reasons were read as a renewal, as it was then', () => {
    const old = { type: 'invoice_paid', invoiceId: 'in_1', subscriptionId: 'sub_1', periodStart: 1, periodEnd: 2 };
    const c = storedCommand(JSON.stringify(old));
    assert.ok(c.type === 'invoice_paid' && c.billingReason === 'subscription_cycle' && c.paymentIntent === null);
  });
});
