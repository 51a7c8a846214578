// The address book: replicated contexts carry the proposer's view of where
// members live; what this node was told locally (--peers) must win
// (chaos FINDINGS F1: a follower that installed the leader's snapshot dialed
// around its per-link proxies).
import { describe, expect, it } from 'vitest';
import { AddressBook, encodeMemberContext } from '../../src/node/members.js';
import { nodeId } from '../../src/raft/types.js';

const n1 = nodeId('n1');
const n2 = nodeId('n2');
const n4 = nodeId('n4');

describe('the address book', () => {
  it('a snapshot context does not override a peer address given by --peers, but still teaches API URLs', () => {
    const m = new AddressBook();
    m.pinPeerUrl(n2, '127.0.0.1:20202'); // this node reaches n2 through a proxy
    m.learnContexts({ n2: encodeMemberContext({ peerUrl: '127.0.0.1:7102', apiUrl: 'http://127.0.0.1:7002' }) });
    expect(m.peerAddresses(n1).get(n2)).toBe('127.0.0.1:20202');
    expect(m.address(n2)?.apiUrl).toBe('http://127.0.0.1:7002');
  });

  it('a member this node was never told about is learned from the replicated context', () => {
    const m = new AddressBook();
    m.pinPeerUrl(n2, '127.0.0.1:7102');
    m.learnContext(n4, encodeMemberContext({ peerUrl: '127.0.0.1:7104', apiUrl: null }));
    expect(m.peerAddresses(n1).get(n4)).toBe('127.0.0.1:7104');
    expect(m.members({ voters: [n1, n2, n4], learners: [] }).find((x) => x.id === n4)).toEqual({ id: n4, peerUrl: '127.0.0.1:7104', apiUrl: null, voter: true });
  });
});
