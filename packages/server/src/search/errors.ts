import { ApiError } from '../errors/index.js';

/**
 * A searchQuery the caller must fix: always a 400. `position` (1-based) points into the query
 * where the problem starts; `expected` says what would have been accepted there.
 */
export class SearchQueryError extends ApiError {
  readonly position: number;
  readonly expected: string | undefined;

  constructor(message: string, position: number, expected?: string) {
    super('BAD_REQUEST', `Invalid searchQuery at position ${position}: ${message}`);
    this.name = 'SearchQueryError';
    this.position = position;
    this.expected = expected;
  }
}
