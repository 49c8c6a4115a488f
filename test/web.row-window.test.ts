/** The message list's window of rendered rows: which rows are in the page as the list changes and the reader scrolls. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rebaseWindow, slideEarlier, slideLater, windowAround, windowAtEnd } from '../web/src/lib/row-window.js';

const keys = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);

test('a conversation opens on its last rows, never more than the window holds', () => {
  assert.deepEqual(windowAtEnd(2000, 160), { start: 1840, end: 2000 });
  assert.deepEqual(windowAtEnd(30, 160), { start: 0, end: 30 });
  assert.deepEqual(windowAtEnd(0, 160), { start: 0, end: 0 });
});

test('jumping centres the window on the row, within the list', () => {
  assert.deepEqual(windowAround(500, 2000, 160), { start: 420, end: 580 });
  assert.deepEqual(windowAround(10, 2000, 160), { start: 0, end: 160 });
  assert.deepEqual(windowAround(1995, 2000, 160), { start: 1840, end: 2000 });
  assert.deepEqual(windowAround(5, 40, 160), { start: 0, end: 40 });
});

test('sliding keeps the window at its size and stops at the ends', () => {
  assert.deepEqual(slideEarlier({ start: 1840, end: 2000 }, 50, 160), { start: 1790, end: 1950 });
  assert.deepEqual(slideEarlier({ start: 20, end: 180 }, 50, 160), { start: 0, end: 160 });
  assert.deepEqual(slideLater({ start: 1790, end: 1950 }, 2000, 50, 160), { start: 1840, end: 2000 });
  assert.deepEqual(slideLater({ start: 1840, end: 2000 }, 2000, 50, 160), { start: 1840, end: 2000 });
});

test('an older page prepended: the window keeps its rows and grows to its size with the new ones', () => {
  // 50 loaded, all shown; 50 older arrive before them.
  assert.deepEqual(rebaseWindow({ start: 0, end: 50 }, keys(50, 100), keys(0, 100), 160), { start: 0, end: 100 });
  // A full window at the end: its rows move up by 100; it stays full and at the end.
  assert.deepEqual(rebaseWindow({ start: 40, end: 200 }, keys(100, 300), keys(0, 300), 160), { start: 140, end: 300 });
});

test('a message appended: a window at the end takes it in (dropping its first row); one further up stays put', () => {
  assert.deepEqual(rebaseWindow({ start: 40, end: 200 }, keys(0, 200), keys(0, 201), 160), { start: 41, end: 201 });
  assert.deepEqual(rebaseWindow({ start: 10, end: 170 }, keys(0, 200), keys(0, 201), 160), { start: 10, end: 170 });
});

test('rows that disappear (a divider) are followed by the next row still there', () => {
  const before = ['day-1', ...keys(1, 10)];
  const after = keys(1, 10);
  assert.deepEqual(rebaseWindow({ start: 0, end: 10 }, before, after, 160), { start: 0, end: 9 });
  // Nothing of the window is left: start over at the end.
  assert.deepEqual(rebaseWindow({ start: 0, end: 3 }, keys(0, 3), keys(5, 400), 160), { start: 235, end: 395 });
});
