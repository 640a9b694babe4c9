/** A route's own DynamoDB requests per API request (authorizer and Idempotency-Key bookkeeping apart). */
export const DYNAMO_BUDGET = 3;

const GATEWAY_FIRST_CALL =
  "a gateway container's first call authenticates in the function (the key and its last use, which other routes' authorizer does) and fills its caches: access (10 s), routing snapshots and the plan's limits (30-60 s), markers of the hour and day; a warm call makes only writes, at most 3: its admission (one by one, or a lease for the calls ahead) and its record (test/e2e/gateway-requests.test.ts)";
const GATEWAY_FIRST_LIST =
  "a gateway container's first call authenticates in the function (the key and its last use, which other routes' authorizer does) and fills its access cache (10 s); a warm list, or a retrieve of one model (looked up in that list), makes 2, the platform's models and the organization's (test/e2e/gateway-requests.test.ts)";

/** Routes allowed past the budget, each with its reason. */
export const OVER_BUDGET: Record<string, string> = {
  createChatCompletion: GATEWAY_FIRST_CALL,
  createEmbeddings: GATEWAY_FIRST_CALL,
  createImages: GATEWAY_FIRST_CALL,
  listOpenAiModels: GATEWAY_FIRST_LIST,
  getOpenAiModel: GATEWAY_FIRST_LIST,
  deleteMe:
    "account deletion ends what the account holds, never on a stale read: a first look at its memberships refuses the last owner of a team before anything is written, then the account is closed (no grant lands after it), its memberships read again beside its personal organization and that organization's subscription (one TransactGetItems: the organization is deleted as a team is, its slug released and its billing closed under the version read) and all ended with the profile in one transaction, then the profile records that Cognito stopped the account (a retry finishes a stop that failed) (6: Query, UpdateItem, Query, TransactGetItems, TransactWriteItems, UpdateItem), plus a BatchGetItem of the teams it owns at each look, a Query of the owners of each team whose recorded owner it is (the heir who takes the record), an UpdateItem claiming the subscription when Stripe bills it (cancelled there before anything is written) and a transaction per 100 more memberships; signing out everywhere is part of the profile write, none per session (test/e2e/me.test.ts)",
};
