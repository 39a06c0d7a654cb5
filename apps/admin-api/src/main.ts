import { bootstrapApp, loadConfigOrExit } from '@tributary/shared';
import { AdminApiModule } from './admin-api.module';
import { configureAdminHttp } from './common/admin-http.setup';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.argv, process.env);
  await bootstrapApp(AdminApiModule.forRoot(config), {
    name: 'admin-api',
    bindAddress: config.admin.bindAddress,
    configure: (app) => configureAdminHttp(app, config.admin.maxBodyBytes),
  });
}

main().catch((err: unknown) => {
  console.error('admin-api failed to start:', err);
  process.exit(1);
});
