/** A route's own DynamoDB requests per API request (authorizer and Idempotency-Key bookkeeping apart). */
export const DYNAMO_BUDGET = 3;

/** Routes allowed past the budget, each with its reason. */
export const OVER_BUDGET: Record<string, string> = {
  deleteMe: 'account deletion revokes each live session of the user (one write per session), after reading memberships',
};
