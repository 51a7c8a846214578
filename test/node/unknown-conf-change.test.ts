// A committed configuration change this version cannot use is a no-op with an
// error logged, in the core and the node alike; never a throw (issue 10: one
// entry of an unknown kind made all three nodes exit, at every restart).
import { describe, expect, it } from 'vitest';
import { AddressBook, decodeMemberContext, encodeMemberContext } from '../../src/node/members.js';
import { applyConfChange, isKnownConfChange, membershipFrom } from '../../src/raft/membership.js';
import { nodeId, type ConfChange } from '../../src/raft/types.js';
import { Network } from '../raft/network.js';

const bogus = { kind: 'promoteEveryone', node: nodeId('z') } as unknown as ConfChange;

describe('a configuration change of an unknown kind', () => {
  it('is a no-op in the core and known as unknown to the node', () => {
    const m = membershipFrom({ voters: [nodeId('a')], learners: [] });
    expect(applyConfChange(m, { ...bogus, context: new Uint8Array([1]) })).toBe(m);
    expect(isKnownConfChange(bogus)).toBe(false);
  });

  it('committed in a 3-node cluster, every node goes on with the same configuration and the cluster commits', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('x');
    net.node('a').proposeConfChange(bogus);
    net.process();
    net.propose('y');
    for (const id of ['a', 'b', 'c']) {
      expect(net.node(id).status().conf).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
      expect(net.node(id).status().appliedConf).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
      expect(net.appliedData(id)).toEqual(['x', 'y']);
    }
  });
});

describe('a member context that cannot be used', () => {
  it('is ignored: a peer address that does not parse would make the transport throw', () => {
    expect(decodeMemberContext(encodeMemberContext({ peerUrl: 'not an address', apiUrl: 'http://x:1' }))).toBeNull();
    expect(decodeMemberContext(encodeMemberContext({ peerUrl: '127.0.0.1:7000', apiUrl: 'javascript:alert(1)' }))).toEqual({ peerUrl: '127.0.0.1:7000', apiUrl: null });
    const book = new AddressBook();
    book.learnContext(nodeId('b'), encodeMemberContext({ peerUrl: 'nope', apiUrl: null }));
    expect(book.peerAddresses(nodeId('a')).size).toBe(0);
  });
});
