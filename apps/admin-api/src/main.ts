import { Logger } from '@nestjs/common';
import { bootstrapApp, loadConfigOrExit } from '@tributary/shared';
import { AdminApiModule } from './admin-api.module';
import { configureAdminHttp } from './common/admin-http.setup';
import { describeAdminExposure } from './common/auth';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.argv, process.env);
  const { bindAddress, maxBodyBytes, tokens } = config.admin;
  await bootstrapApp(AdminApiModule.forRoot(config), {
    name: 'admin-api',
    config,
    bindAddress,
    configure: (app) => configureAdminHttp(app, maxBodyBytes, tokens),
  });
  const exposure = describeAdminExposure(bindAddress, tokens);
  new Logger('admin-api')[exposure.level](exposure.message);
}

main().catch((err: unknown) => {
  console.error('admin-api failed to start:', err);
  process.exit(1);
});
