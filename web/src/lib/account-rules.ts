/**
 * The account rules as the server applies them, checked while typing so
 * problems show before a round trip. The server has the final word.
 */
import { checkUsername } from '../../../src/accounts/username';

export { USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH } from '../../../src/accounts/username';

function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Why a username cannot be registered, or '' when it can (blank is '' too: "required" is the form's to say). */
export function usernameProblem(username: string): string {
  if (!username) return '';
  const check = checkUsername(username);
  return check.ok ? '' : sentence(check.problem.replace(/"([^"]*)"/g, '“$1”'));
}

/** Why a new password cannot be used, or '' when it can. Lengths count characters (code points), as the server does. */
export function passwordProblem(password: string, min: number, max: number): string {
  if (!password) return '';
  const length = [...password].length;
  if (length < min) return `Use at least ${min} characters (${length} so far).`;
  if (length > max) return `Use at most ${max} characters.`;
  return '';
}
