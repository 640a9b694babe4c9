import { exportUsage as route } from '@platform/api/routes/billing/usage';
import { httpHandler, reply } from '@platform/http/handler';
import { lazy } from '@platform/domain/shared/lazy';

const loadLogs = lazy(() => import('@platform/domain/usage/logs'));

export const handler = httpHandler(route, async ({ access, query }) => {
  const { exportUsage } = await loadLogs();
  const { csv, nextCursor } = await exportUsage(access.orgId, query);
  return reply(undefined, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="usage-${access.orgId}.csv"`,
      ...(nextCursor ? { 'x-next-cursor': nextCursor } : {}),
    },
    raw: csv,
  });
});
