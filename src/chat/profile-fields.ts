/**
 * Profile fields as people type them in the web app (display name, color,
 * email for a Gravatar), checked into what the chat stores and shows.
 */
import { createHash } from 'node:crypto';
import { HttpError } from '../http/app-errors.js';
import { cleanDisplayName, isHexColor } from './profile.js';
import { MAX_DISPLAY_NAME_LENGTH } from './protocol.js';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL_LENGTH = 254;

/**
 * A display name as typed: cleaned (see `cleanDisplayName`); undefined when
 * absent or blank, so the caller picks the default.
 * @throws HttpError 400 with a message for the user.
 */
export function displayNameField(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'The name must be a string');
  const cleaned = cleanDisplayName(value);
  if ('problem' in cleaned) {
    throw new HttpError(
      400,
      cleaned.problem === 'too-long' ? `Your name is longer than ${MAX_DISPLAY_NAME_LENGTH} characters` : 'Your name cannot contain control characters',
    );
  }
  return cleaned.name === '' ? undefined : cleaned.name;
}

/** A `#rrggbb` color, or undefined when absent. @throws HttpError 400 otherwise. */
export function colorField(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isHexColor(value)) throw new HttpError(400, 'color must be a color like #3a7bd5');
  return value.toLowerCase();
}

/**
 * The Gravatar hash of an optional email: undefined when absent, `""` when
 * the email is blank (no avatar). The email itself goes no further than
 * this function: neither stored, logged nor sent anywhere.
 * @throws HttpError 400 when it does not look like an email address.
 */
export function gravatarField(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'email must be a string');
  const email = value.trim().toLowerCase();
  if (email === '') return '';
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_PATTERN.test(email)) {
    throw new HttpError(400, 'That email address does not look right; check it or leave it empty');
  }
  return createHash('md5').update(email).digest('hex');
}
