// The connection gate on its own: admission up to its slots, arrival order, deadlines, idempotent release.
import t from 'tap';
import { ConnectionGate, OverloadError } from '../../src/db/connection-gate.ts';

const later = (ms: number) => Date.now() + ms;

t.test('admits up to its slots at once, then in arrival order as slots are released', async (t) => {
  const gate = new ConnectionGate(2);
  const first = await gate.acquire(later(1000));
  const second = await gate.acquire(later(1000));
  const order: string[] = [];
  const third = gate.acquire(later(1000)).then((release) => (order.push('third'), release));
  const fourth = gate.acquire(later(1000)).then((release) => (order.push('fourth'), release));
  t.equal(gate.queued, 2);
  first();
  first(); // twice: the second call frees nothing more
  const releaseThird = await third;
  t.same(order, ['third']);
  t.equal(gate.queued, 1, 'one release admits one waiter');
  second();
  (await fourth)();
  releaseThird();
  t.equal(gate.queued, 0);
  // Both slots are free again: two immediate admissions.
  await gate.acquire(later(1000));
  await gate.acquire(later(1000));
});

t.test(
  'a waiter still queued at its deadline is rejected with an OverloadError and leaves the queue',
  async (t) => {
    const gate = new ConnectionGate(1);
    const held = await gate.acquire(later(1000));
    await t.rejects(gate.acquire(later(20)), OverloadError);
    t.equal(gate.queued, 0);
    await t.rejects(gate.acquire(Date.now() - 1), OverloadError, 'no time left: rejected at once');
    held();
    t.type(await gate.acquire(later(20)), 'function', 'the slot is free again');
  },
);
