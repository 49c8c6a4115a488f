/**
 * What the start-up lines say about the listening address: a URL a person
 * can open, and who can join.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { browsableUrl, joinNotice } from '../src/http/listen-address.js';

const at = (address: string, port = 8080): AddressInfo => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });

test('a wildcard address becomes localhost; any other address is itself, IPv6 in brackets', () => {
  assert.equal(browsableUrl(at('0.0.0.0')), 'http://localhost:8080');
  assert.equal(browsableUrl(at('::')), 'http://localhost:8080');
  assert.equal(browsableUrl(at('127.0.0.1', 9000)), 'http://127.0.0.1:9000');
  assert.equal(browsableUrl(at('::1')), 'http://[::1]:8080');
  assert.equal(browsableUrl(at('192.168.1.20')), 'http://192.168.1.20:8080');
});

test('who can join: a warning naming who, unless only this machine can connect or an admin must invite them', () => {
  const guests = 'set authMode to open or invite to require accounts';
  for (const loopback of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
    assert.deepEqual(joinNotice('guest', at(loopback), false), {
      level: 'info',
      message: `guest sign-in is on: anyone on this machine can join the chat without an account; ${guests}`,
    });
    assert.deepEqual(joinNotice('open', at(loopback), true), {
      level: 'info',
      message: 'sign-up is open: anyone on this machine can create an account (the first account becomes the admin); set authMode to invite to require invitations',
    });
  }
  for (const wildcard of ['0.0.0.0', '::']) {
    assert.deepEqual(joinNotice('guest', at(wildcard), false), {
      level: 'warn',
      message: `guest sign-in is on: anyone who can reach this machine on port 8080 (every network interface) can join the chat without an account; ${guests}`,
    });
  }
  assert.deepEqual(joinNotice('open', at('192.168.1.20'), false), {
    level: 'warn',
    message: 'sign-up is open: anyone who can reach http://192.168.1.20:8080 can create an account; set authMode to invite to require invitations',
  });
  assert.deepEqual(joinNotice('invite', at('0.0.0.0'), true), {
    level: 'info',
    message: 'sign-up needs an invitation from an admin; no account exists yet: create the first admin with "parley admin create USER"',
  });
  assert.deepEqual(joinNotice('invite', at('0.0.0.0'), false), { level: 'info', message: 'sign-up needs an invitation from an admin' });
  assert.equal(joinNotice('token', at('0.0.0.0'), true), undefined, 'the backend that mints tokens decides');
});
