/**
 * Checks of the token key settings that need more than one value or the
 * filesystem: the public key file is read and every key parsed at start-up,
 * and a JWKS URL must be `https` unless it stays on this machine or plain
 * HTTP is explicitly allowed.
 */
import { resolve } from 'node:path';
import { isPemText, PublicKeyError, readPublicKeys } from '../auth/public-keys.js';
import { isLoopback } from '../http/listen-address.js';
import { ConfigError } from './config-error.js';
import type { ScalarKey } from './fields.js';
import type { Config } from './types.js';
import { note } from './validate.js';

type TokenKeySettings = Pick<Config, 'tokenPublicKey' | 'tokenJwksUrl' | 'tokenJwksAllowHttp'>;

/**
 * Makes a `tokenPublicKey` path absolute (against `cwd`) and checks that its
 * keys parse; checks the scheme of `tokenJwksUrl`.
 *
 * @throws ConfigError naming the key, for a key file that cannot be read, a
 * PEM that does not parse or is of an unusable type, or an `http` JWKS URL
 * on a non-loopback host without `tokenJwksAllowHttp`.
 */
export function resolveTokenKeys(config: { -readonly [K in keyof TokenKeySettings]: TokenKeySettings[K] }, sources: Partial<Record<ScalarKey, string>>, cwd: string): void {
  const keyValue = config.tokenPublicKey;
  if (keyValue.trim() === '') config.tokenPublicKey = '';
  else {
    if (!isPemText(keyValue)) config.tokenPublicKey = resolve(cwd, keyValue.trim());
    try {
      readPublicKeys(config.tokenPublicKey);
    } catch (error) {
      if (!(error instanceof PublicKeyError)) throw error;
      throw new ConfigError(`tokenPublicKey ${error.message}${note(sources.tokenPublicKey)}`, { key: 'tokenPublicKey', source: sources.tokenPublicKey });
    }
  }
  if (config.tokenJwksUrl !== '') {
    const url = new URL(config.tokenJwksUrl);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const local = host === 'localhost' || isLoopback(host);
    if (url.protocol === 'http:' && !local && !config.tokenJwksAllowHttp) {
      throw new ConfigError(
        `tokenJwksUrl must be https (anyone on the path could swap the keys), or set tokenJwksAllowHttp${note(sources.tokenJwksUrl)}`,
        { key: 'tokenJwksUrl', source: sources.tokenJwksUrl },
      );
    }
  }
}
