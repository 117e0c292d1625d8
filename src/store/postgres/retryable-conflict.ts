import { WriteConflictError } from '../write-conflict.ts';

/**
 * A write met a row another transaction committed first (the same account created, the same
 * idempotency key or reference recorded, a hold closed). The statement used ON CONFLICT DO
 * NOTHING or a guard, so PostgreSQL did not abort anything; the store rolls back and re-runs
 * the whole operation, which then sees the winner's row and replays or refuses as it should.
 */
export class RetryableConflictError extends WriteConflictError {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableConflictError';
  }
}
