import { bootstrapApp, loadConfigOrExit } from '@tributary/shared';
import { ConsumerWorkerModule } from './consumer-worker.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.argv, process.env);
  await bootstrapApp(ConsumerWorkerModule.forRoot(config), {
    name: 'consumer-worker',
    config,
    bindAddress: config.worker.bindAddress,
  });
}

main().catch((err: unknown) => {
  console.error('consumer-worker failed to start:', err);
  process.exit(1);
});
