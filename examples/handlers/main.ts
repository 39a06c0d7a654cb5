// `npm run example`: the example handlers on :9080 (env PORT overrides). With env
// TRIBUTARY_SIGNING_KEY set, requests not signed by the invoker with that key get a 401.
import { startExampleEndpoint } from './example.endpoint';

async function main(): Promise<void> {
  const endpoint = await startExampleEndpoint();
  const signing = process.env.TRIBUTARY_SIGNING_KEY ? 'on' : 'off';
  console.log(`example handlers on ${endpoint.url} (request signing ${signing})`);
  console.log(
    `register them: curl -X POST localhost:9070/deployments -H 'content-type: application/json' -d '{"uri":"${endpoint.url}"}'`,
  );
  const stop = () => {
    endpoint.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error('example handlers failed to start:', err);
  process.exit(1);
});
