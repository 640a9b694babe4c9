import { defineRoute } from '@platform/http/route';
import { orgParams } from '@platform/domain/identity/schemas/common';
import { dailyUsagePage, dailyUsageQuery, usageExportQuery, usagePage, usageQuery } from '@platform/domain/usage/schemas';

/** Usage of an organization: its logs, daily aggregates for charts, and a CSV export. */
const tag = 'Billing';

export const listUsage = defineRoute({
  id: 'listUsage',
  method: 'GET',
  path: '/v1/orgs/{orgId}/usage',
  handler: 'billing/list-usage',
  auth: 'principal',
  permission: 'usage:read',
  tag,
  summary: 'Usage logs, newest first, by user, API client, agent type, model and date range',
  schemas: { params: orgParams, query: usageQuery, response: usagePage },
});
export const getDailyUsage = defineRoute({
  id: 'getDailyUsage',
  method: 'GET',
  path: '/v1/orgs/{orgId}/usage/daily',
  handler: 'billing/get-daily-usage',
  auth: 'principal',
  permission: 'usage:read',
  tag,
  summary: 'Daily totals (tokens, cost, credits, calls, errors) of the organization, a user or a model, or per user or model',
  schemas: { params: orgParams, query: dailyUsageQuery, response: dailyUsagePage },
});
export const exportUsage = defineRoute({
  id: 'exportUsage',
  method: 'GET',
  path: '/v1/orgs/{orgId}/usage/export.csv',
  produces: 'text/csv',
  handler: 'billing/export-usage',
  auth: 'principal',
  permission: 'usage:read',
  tag,
  summary: 'Usage logs as CSV (text/csv), up to 1000 rows a file; the x-next-cursor header asks for the next file',
  responseHeaders: {
    'x-next-cursor':
      'The `cursor` that asks for the next file, sent until the logs are read to the end: a file may hold fewer rows than `limit`, even none (the header alone), while it is sent; absent on the last file',
  },
  schemas: { params: orgParams, query: usageExportQuery },
});
