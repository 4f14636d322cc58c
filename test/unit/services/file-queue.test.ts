// The order in which scan workers take files: every file once, a window at a time, small ones from one end.
import assert from 'node:assert/strict';
import test from 'node:test';
import { FileQueue } from '../../../src/services/scan';

test('the file queue hands out every file once, window by window, smallest first to one worker and largest first to the others', () => {
  // Three windows of 100 bytes: [0..3], [4..6], [7..9].
  const sizes = [10, 60, 20, 30, 50, 40, 70, 5, 1, 300];
  const queue = new FileQueue(sizes, 2, 100);
  const taken: number[][] = [];
  for (let turn = 0; ; turn++) {
    const batch = queue.take(turn % 2 === 0);
    if (batch.length === 0) break;
    taken.push(batch);
  }
  assert.deepEqual(
    taken.flat().sort((a, b) => a - b),
    sizes.map((_, i) => i),
    'each file exactly once',
  );
  assert.deepEqual(taken, [[0, 2], [1, 3], [5, 4], [6], [8, 7], [9]]);
  assert.deepEqual(new FileQueue([], 16).take(true), []);
});
