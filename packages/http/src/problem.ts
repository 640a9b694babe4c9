import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DomainError, ValidationError, type FieldError } from '@platform/domain/shared/errors';

/** RFC 9457 problem details, the one error shape of the API. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

export const PROBLEM_BASE = 'https://docs.platform.dev/problems/';

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: problem.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify(problem),
  };
}

/**
 * Errors that are the client's fault although a library threw them: a cursor ElectroDB cannot
 * parse, or one DynamoDB refuses as the start of this query (another list's cursor).
 */
function clientFault(error: unknown): DomainError | undefined {
  const e = error as {
    isElectroError?: boolean;
    code?: number;
    name?: string;
    message?: string;
  };
  const badCursor =
    (e.isElectroError && e.code === 4001) ||
    (e.name === 'ValidationException' && /exclusive ?start ?key|starting key/i.test(e.message ?? ''));
  if (badCursor)
    return new ValidationError('The cursor does not continue this list', [
      { path: 'query.cursor', message: 'Use a nextCursor of this list' },
    ]);
  return undefined;
}

/** Maps any thrown value to a problem; unknown errors become a 500 without internals. */
export function toProblem(thrown: unknown, instance?: string): { problem: Problem; headers: Record<string, string> } {
  const error = clientFault(thrown) ?? thrown;
  if (error instanceof DomainError) {
    return {
      problem: {
        type: PROBLEM_BASE + error.type,
        title: error.title,
        status: error.status,
        detail: error.message,
        instance,
        ...(error.fieldErrors?.length ? { errors: error.fieldErrors } : {}),
      },
      headers: error.headers,
    };
  }
  return {
    problem: {
      type: PROBLEM_BASE + 'internal',
      title: 'Something went wrong on our side',
      status: 500,
      detail: 'The error was logged; retrying later may help.',
      instance,
    },
    headers: {},
  };
}
