// GET /v1/cluster/snapshot: a backup of the replicated state (admin), for
// `lockstep snapshot save FILE` and `lockstep serve --restore-from FILE`.
//
// Consistent point: the leader confirms its leadership (ReadIndex barrier)
// and has applied everything committed before the request arrived, then
// copies the state in one synchronous step, so the backup holds every
// change acknowledged to any client before the request, and no half-applied
// command. A follower forwards the request to the leader like any
// linearizable read.

import type { FastifyPluginAsync } from 'fastify';
import { encodeBackup } from '../../node/backup.js';
import type { ServerContext } from '../context.js';
import { errorResponses } from '../schemas.js';
import { leaderOnly } from '../forward.js';
import { linearizablePoint } from '../route-helpers.js';

export const BACKUP_CONTENT_TYPE = 'application/vnd.lockstep.snapshot';

export const snapshotRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.get('/v1/cluster/snapshot', {
    config: { access: { kind: 'admin' }, audit: 'cluster.snapshot' },
    schema: {
      tags: ['cluster'],
      summary: `A consistent backup of the replicated state (binary, ${BACKUP_CONTENT_TYPE}): taken by the leader after a ReadIndex barrier, so it holds every change acknowledged before the request. The file starts with the line LOCKSTEP-SNAPSHOT and a JSON header line (index, term, clusterId, takenBy, takenAtMs, dataBytes, dataCrc32), then the state. \`lockstep serve --restore-from FILE\` starts a new cluster from it. Admin only.`,
      response: errorResponses,
    },
  }, async (request, reply) => leaderOnly(ctx, request, reply, { waitMs: 0, overHttp: true }, async () => {
    await linearizablePoint(ctx, request, 'a consistent snapshot');
    // Read together, in one synchronous step: the state and the index it reflects.
    const status = ctx.node.status();
    const data = ctx.machine.snapshot();
    const backup = encodeBackup(
      { clusterId: status.clusterId, takenBy: status.id as string, takenAtMs: ctx.clock.wallMs(), index: status.appliedIndex as number, term: status.term as number },
      data,
    );
    return {
      status: 200,
      body: Buffer.from(backup.buffer, backup.byteOffset, backup.byteLength),
      index: status.appliedIndex as number,
      headers: {
        'content-type': BACKUP_CONTENT_TYPE,
        'content-disposition': `attachment; filename="lockstep-${status.clusterId}-${status.appliedIndex}.snapshot"`,
      },
    };
  }));
};
