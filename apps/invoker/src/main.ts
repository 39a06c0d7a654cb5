import { bootstrapApp, loadConfigOrExit } from '@tributary/shared';
import { InvokerModule } from './invoker.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.argv, process.env);
  await bootstrapApp(InvokerModule.forRoot(config), {
    name: 'invoker',
    config,
    bindAddress: config.invoker.bindAddress,
  });
}

main().catch((err: unknown) => {
  console.error('invoker failed to start:', err);
  process.exit(1);
});
