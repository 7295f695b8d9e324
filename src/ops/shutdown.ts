/**
 * How long to keep serving after `signal` before closing (see `shutdownDelayMs` in `src/config.ts`): the
 * delay on SIGTERM (what orchestrators and deploys send) when the process serves HTTP; none on SIGINT
 * (Ctrl-C at a terminal means now), and none for a process without HTTP routes.
 */
export function drainMs(signal: string, servesHttp: boolean, delayMs: number): number {
  return signal === 'SIGTERM' && servesHttp ? delayMs : 0;
}
