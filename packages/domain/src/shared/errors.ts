/**
 * Domain errors, typed once here and mapped once to HTTP (problem+json) by the HTTP kit.
 * A domain service throws these; it never knows about status codes beyond `status`.
 */
export interface FieldError {
  path: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly type: string;
  abstract readonly title: string;
  readonly headers: Record<string, string> = {};
  constructor(
    message: string,
    readonly fieldErrors?: FieldError[],
    /** What the logs get beside the message (`cause`), when the client is told less. */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly type = 'validation-error';
  readonly title = 'Your request is not valid';
}

export class UnauthenticatedError extends DomainError {
  readonly status = 401;
  readonly type = 'unauthenticated';
  readonly title = 'Authentication is required';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly type = 'forbidden';
  readonly title = 'You are not allowed to do this';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly type = 'not-found';
  readonly title = 'Not found';
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly type = 'conflict';
  readonly title = 'Conflict with the current state';
}

export class GoneError extends DomainError {
  readonly status = 410;
  readonly type = 'gone';
  readonly title = 'No longer available';
}

export class PreconditionFailedError extends DomainError {
  readonly status = 412;
  readonly type = 'precondition-failed';
  readonly title = 'The resource changed since you read it';
}

export class UnprocessableError extends DomainError {
  readonly status = 422;
  readonly type = 'unprocessable';
  readonly title = 'The request cannot be carried out';
}

export class TooManyRequestsError extends DomainError {
  readonly status = 429;
  readonly type = 'too-many-requests';
  readonly title = 'Too many requests';
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.headers['retry-after'] = String(retryAfterSeconds);
  }
}

export class PaymentRequiredError extends DomainError {
  readonly status = 402;
  readonly type = 'insufficient-credits';
  readonly title = 'Not enough credits';
}

/** A provider behind the gateway did not answer in time, after retries and fallbacks. */
export class GatewayTimeoutError extends DomainError {
  readonly status = 504;
  readonly type = 'upstream-timeout';
  readonly title = 'The model provider did not answer in time';
}

/** A paid plan needs a payment first: the detail says where to get one (checkout). */
export class PaymentMethodRequiredError extends DomainError {
  readonly status = 402;
  readonly type = 'payment-required';
  readonly title = 'A payment is required';
}

/** The payment provider (or another service we call) failed or refused. */
export class UpstreamError extends DomainError {
  readonly status = 502;
  readonly type = 'upstream-error';
  readonly title = 'A service we depend on failed';
}
