// Mocha root hooks: stop the real servers the run started, whatever happened.
import { stopAllServices } from './services';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopAllServices();
  },
};
