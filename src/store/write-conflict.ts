/**
 * A guarded write matched no row: the row moved since it was read, or the database refused
 * an overdraft. The transaction rolls back; with a row lock held this signals a bug.
 */
export class WriteConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteConflictError';
  }
}
