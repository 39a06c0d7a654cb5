import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { loadConfig, TributaryConfig } from '../../libs/shared/src/config';
import { AdminApiModule } from '../../apps/admin-api/src/admin-api.module';
import { configureAdminHttp } from '../../apps/admin-api/src/common/admin-http.setup';
import { createTestSchema, TestSchema } from './database';
import { uniqueName } from './kafka';

export interface AdminTestApp {
  app: NestExpressApplication;
  config: TributaryConfig;
  schema: TestSchema;
  /** The admin API's HTTP server, for supertest: `request(t.http)`. */
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  close(): Promise<void>;
}

/**
 * The admin API in-process on its own Postgres schema and bus topic prefix, with a config-file
 * cluster named `local` pointing at the test broker. `env` adds or overrides config variables;
 * `tokens` are admin tokens (admin.tokens) to require.
 */
export async function startAdminApi(
  label: string,
  env: Record<string, string> = {},
  tokens: string[] = [],
): Promise<AdminTestApp> {
  const schema = await createTestSchema(label);
  const config = loadConfig({
    argv: [],
    env: {
      DATABASE_URL: schema.url,
      RESTATE_INGRESS__KAFKA_CLUSTERS: '[{name="local",brokers=["PLAINTEXT://127.0.0.1:9092"]}]',
      ...env,
    },
  });
  config.database.schema = schema.name;
  config.bus.topicPrefix = uniqueName('bus');
  config.bus.partitions = 2;
  const moduleRef = await Test.createTestingModule({
    imports: [AdminApiModule.forRoot(config)],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    logger: ['error', 'warn'],
  });
  configureAdminHttp(app, config.admin.maxBodyBytes, tokens);
  await app.init();
  return {
    app,
    config,
    schema,
    http: app.getHttpServer(),
    async close() {
      await app.close();
      await schema.drop();
    },
  };
}
