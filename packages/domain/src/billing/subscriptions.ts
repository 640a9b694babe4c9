import { NotFoundError } from '../shared/errors.ts';
import { billingDb, type Subscription } from './entities.ts';

export async function getSubscription(orgId: string): Promise<Subscription> {
  const { data } = await billingDb.subscription.get({ orgId }).go({ consistent: true });
  if (!data) throw new NotFoundError('This organization has no subscription');
  return data;
}
