// Stands in for `lockstep serve` where a test drives the chaos harness
// (ChaosCluster, Nemesis) without a real cluster: spawned the same way
// (`node fake-serve.mjs serve --id .. --api .. --peers .. --data ..`), it
// answers the membership routes the nemesis uses. Removals succeed (and the
// removed node's /readyz then says so, as a real one's does once a member
// refuses it); adds answer 503 (a joiner that never catches up), so a
// replacement is still asking when the test interferes. Every request is appended to
// <data>/../requests.log for the test to watch; <data>/../start-delay-ms
// delays its listening (a slow start); SIGTERM stops it with exit 0,
// as serve's graceful stop does.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const args = process.argv.slice(2);
const flag = (name) => args[args.indexOf(`--${name}`) + 1];
const id = flag('id');
const [host, port] = flag('api').split(':');
const members = flag('peers')
  .split(',')
  .map((p) => p.split('=')[0]);
if (!members.includes(id)) members.push(id);
mkdirSync(flag('data'), { recursive: true });
const requests = path.join(path.dirname(flag('data')), 'requests.log');
/** Shared by the fake nodes of one run: the node that takes a removal marks the removed one. */
const removedMarker = (node) => path.join(path.dirname(flag('data')), `removed-${node}`);

const server = http.createServer((req, res) => {
  appendFileSync(requests, `${id} ${req.method} ${req.url}\n`);
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/v1/cluster') {
      return send(200, { self: id, leader: 'n1', members: members.map((m) => ({ id: m, voter: true })) });
    }
    if (req.method === 'DELETE' && req.url.startsWith('/v1/cluster/members/')) {
      writeFileSync(removedMarker(req.url.slice('/v1/cluster/members/'.length)), '');
      return send(200, {});
    }
    if (req.method === 'GET' && req.url === '/readyz') {
      if (existsSync(removedMarker(id))) return send(503, { error: { code: 'no_leader', message: 'this node was removed from the cluster: send requests to another member' } });
      return send(200, { ready: true, leader: 'n1', commitIndex: 1, appliedIndex: 1 });
    }
    if (req.method === 'POST' && req.url === '/v1/cluster/members') return send(503, { error: { code: 'unavailable', message: 'not caught up' } });
    return send(404, { error: { code: 'not_found', message: req.url } });
  });
});
// A slow start (a loaded machine loading modules): <data>/../start-delay-ms, if there, before listening.
const delayFile = path.join(path.dirname(flag('data')), 'start-delay-ms');
setTimeout(() => server.listen(Number(port), host), existsSync(delayFile) ? Number(readFileSync(delayFile, 'utf8')) : 0);
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
