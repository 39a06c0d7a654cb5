import * as t from '@tributary/sdk';
import { logInvocation } from './invocation.logger';

interface SignupRequest {
  email: string;
}

/** `run` happens once per key (the user id); `status` can be asked any time, in parallel. */
export const signup = t.workflow({
  name: 'Signup',
  handlers: {
    run: async (ctx: t.WorkflowContext, request: SignupRequest) => {
      logInvocation(ctx, 'Signup/run', { key: ctx.key });
      if (typeof request?.email !== 'string') {
        throw new t.TerminalError('run expects {"email": "..."}', { errorCode: 400 });
      }
      ctx.set('email', request.email);
      ctx.set('status', 'welcome-sent');
      return { user: ctx.key, status: 'welcome-sent' };
    },
    status: t.handlers.workflow.shared(async (ctx: t.WorkflowSharedContext) => {
      logInvocation(ctx, 'Signup/status', { key: ctx.key });
      return (await ctx.get<string>('status')) ?? 'not-started';
    }),
  },
});
