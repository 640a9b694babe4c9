/** A route's own DynamoDB requests per API request (authorizer and Idempotency-Key bookkeeping apart). */
export const DYNAMO_BUDGET = 3;

const GATEWAY_FIRST_CALL =
  "a gateway container's first call authenticates in the function (the key and its last use, which other routes' authorizer does) and fills its caches: access (10 s), routing snapshots and the plan's limits (30-60 s), markers of the hour and day; a warm call makes only writes, at most 3: its admission (one by one, or a lease for the calls ahead) and its record (test/e2e/gateway-requests.test.ts)";
const GATEWAY_FIRST_LIST =
  "a gateway container's first call authenticates in the function (the key and its last use, which other routes' authorizer does) and fills its access cache (10 s); a warm list makes 2, the platform's models and the organization's (test/e2e/gateway-requests.test.ts)";

const KEY_TEST_CATALOGUE =
  "testing a key reads the platform's catalogue, as admins edited it, to choose the model (one Query of the platform's hub partition, cached for a minute as the gateway caches it): 4 on a container's first test, 3 (access, the key, the result) while the catalogue is cached";

/** Routes allowed past the budget, each with its reason. */
export const OVER_BUDGET: Record<string, string> = {
  testProviderCredential: KEY_TEST_CATALOGUE,
  testMyProviderCredential: KEY_TEST_CATALOGUE,
  testPlatformProviderCredential: KEY_TEST_CATALOGUE,
  createChatCompletion: GATEWAY_FIRST_CALL,
  createEmbeddings: GATEWAY_FIRST_CALL,
  createImages: GATEWAY_FIRST_CALL,
  listOpenAiModels: GATEWAY_FIRST_LIST,
  deleteMe: 'account deletion revokes each live session of the user (one write per session), after reading memberships',
  confirmForgotPassword:
    'a password reset signs every device out: it finds the account by its memberships, reads its sessions and revokes each live one (one write per session)',
};
