import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rankAgents } from '../../core/rendezvous.ts';

describe('rendezvous ranking', () => {
  it('gives every agent the same order for the same tick, whatever order it lists agents in', () => {
    const agents = ['a', 'b', 'c', 'd', 'e'];
    assert.deepEqual(rankAgents('job@1000', agents), rankAgents('job@1000', [...agents].reverse()));
  });

  it('spreads first preference evenly: within ±20 % over 5 agents and 10,000 ticks', () => {
    const agents = ['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5'];
    const firsts = new Map<string, number>();
    for (let tick = 0; tick < 10_000; tick++) {
      const first = rankAgents(`backup@${1_700_000_000_000 + tick * 1000}`, agents)[0] as string;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    for (const agent of agents) {
      const share = (firsts.get(agent) ?? 0) / 2_000;
      assert.ok(share > 0.8 && share < 1.2, `${agent} is first ${firsts.get(agent)} times`);
    }
  });

  it("moves only the departed agent's ticks when an agent leaves", () => {
    const before = ['a', 'b', 'c', 'd'];
    const after = ['a', 'b', 'c'];
    for (let tick = 0; tick < 1_000; tick++) {
      const first = rankAgents(`j@${tick}`, before)[0];
      if (first !== 'd') assert.equal(rankAgents(`j@${tick}`, after)[0], first);
    }
  });
});
