import { defineRoute } from '@platform/http/route';
import { orgParams } from '@platform/domain/identity/schemas/common';
import {
  adjustmentBody,
  balanceResponse,
  creditTransactionResponse,
  creditTransactionsPage,
  creditTransactionsQuery,
} from '@platform/domain/billing/schemas';

/** Credits of an organization: balance, ledger, admin adjustments. */
const tag = 'Billing';

export const getCredits = defineRoute({
  id: 'getCredits',
  method: 'GET',
  path: '/v1/orgs/{orgId}/credits',
  handler: 'billing/get-credits',
  auth: 'principal',
  permission: 'billing:read',
  tag,
  summary: 'The credit balance: available and reserved',
  schemas: { params: orgParams, response: balanceResponse },
});
export const listCreditTransactions = defineRoute({
  id: 'listCreditTransactions',
  method: 'GET',
  path: '/v1/orgs/{orgId}/credits/transactions',
  handler: 'billing/list-credit-transactions',
  auth: 'principal',
  permission: 'billing:read',
  tag,
  summary: 'The credit ledger, newest first, by type and date range',
  schemas: { params: orgParams, query: creditTransactionsQuery, response: creditTransactionsPage },
});
export const adjustCredits = defineRoute({
  id: 'adjustCredits',
  method: 'POST',
  path: '/v1/admin/orgs/{orgId}/credits/adjustments',
  handler: 'billing/adjust-credits',
  auth: 'admin',
  tag,
  summary: 'Platform admins: add or take credits, with a reason (send an Idempotency-Key to make retries safe)',
  successStatus: 201,
  idempotent: true,
  errors: [402],
  schemas: { params: orgParams, body: adjustmentBody, response: creditTransactionResponse },
});
