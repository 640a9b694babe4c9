import { startLocalCloud } from '@platform/local/cloud';
await startLocalCloud({ port: 0 });
throw new Error('boom');
