/**
 * What the start-up lines say about the listening address: a URL a person
 * can open, and who guest sign-in lets in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { browsableUrl, guestSignInNotice } from '../src/http/listen-address.js';

const at = (address: string, port = 8080): AddressInfo => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });

test('a wildcard address becomes localhost; any other address is itself, IPv6 in brackets', () => {
  assert.equal(browsableUrl(at('0.0.0.0')), 'http://localhost:8080');
  assert.equal(browsableUrl(at('::')), 'http://localhost:8080');
  assert.equal(browsableUrl(at('127.0.0.1', 9000)), 'http://127.0.0.1:9000');
  assert.equal(browsableUrl(at('::1')), 'http://[::1]:8080');
  assert.equal(browsableUrl(at('192.168.1.20')), 'http://192.168.1.20:8080');
});

test('guest sign-in: a warning naming who can join, unless only this machine can connect', () => {
  const off = 'start with --no-guest-sign-in to turn it off';
  for (const loopback of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
    assert.deepEqual(guestSignInNotice(at(loopback)), {
      level: 'info',
      message: `guest sign-in is on: anyone on this machine can join the chat without an account; ${off}`,
    });
  }
  for (const wildcard of ['0.0.0.0', '::']) {
    assert.deepEqual(guestSignInNotice(at(wildcard)), {
      level: 'warn',
      message: `guest sign-in is on: anyone who can reach this machine on port 8080 (every network interface) can join the chat without an account; ${off}`,
    });
  }
  assert.deepEqual(guestSignInNotice(at('192.168.1.20')), {
    level: 'warn',
    message: `guest sign-in is on: anyone who can reach http://192.168.1.20:8080 can join the chat without an account; ${off}`,
  });
});
