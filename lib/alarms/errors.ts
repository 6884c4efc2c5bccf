// Alarm errors carry what an API needs to answer well: a kind, mapped to an
// HTTP status (400, 404, 409).

export type AlarmErrorKind = 'invalid' | 'not_found' | 'conflict';

export class AlarmError extends Error {
  constructor(
    readonly kind: AlarmErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'AlarmError';
  }
}

export const statusOf = (kind: AlarmErrorKind): number =>
  kind === 'invalid' ? 400 : kind === 'not_found' ? 404 : 409;
