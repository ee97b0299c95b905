/**
 * A mocha root hook: the run says, first thing, which storage engine the suite exercises, so that a
 * green run on the embedded engine is never mistaken for a run on MongoDB.
 */
import { TEST_MONGODB_URI } from './mongodb';

export const mochaHooks = {
  beforeAll(): void {
    const host = TEST_MONGODB_URI ? new URL(TEST_MONGODB_URI).host : undefined;
    console.log(
      host
        ? `Storage under test: MongoDB at ${host} (a fresh database per test server, dropped after)`
        : 'Storage under test: the embedded engine. MongoDB skipped: MONGODB_URI is not set (MONGODB_URI=… npm test runs the whole suite on MongoDB)',
    );
  },
};
