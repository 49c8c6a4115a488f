import { createHash } from 'node:crypto';

/** What running a script needs of a Redis client: a connected node-redis client (`createClient()`) fits. */
export interface ScriptRunner {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** A Lua script and its SHA1, so calls send the SHA and the body only when Redis has not seen it. */
export class LuaScript {
  readonly sha: string;
  constructor(readonly body: string) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }

  /** Runs the script, loading it into Redis on first use (or after a restart emptied its script cache). */
  async run(client: ScriptRunner, keys: string[], args: string[]): Promise<unknown> {
    const options = { keys, arguments: args };
    try {
      return await client.evalSha(this.sha, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.body, options);
    }
  }
}
