import { openSqliteDatabase } from '@chronicle/event-store';
import { describe, expect, it } from 'vitest';
import { lineageProjection } from './projection.js';
import { lineageQueries } from './queries.js';

// A diamond with a shortcut and a cycle: d@1 -> r1 -> d@2 -> r2 -> m/1, d@1 -> r2 directly,
// and r3 <-> d@3 feeding each other.
function graph() {
  const db = openSqliteDatabase(':memory:');
  lineageProjection.open(db);
  const edge = db.prepare('INSERT INTO rm_lineage_edges (src, dst, relation, role) VALUES (?, ?, ?, ?)');
  edge.run('dataset_version:d@1', 'run:r1', 'input_of', 'train');
  edge.run('run:r1', 'dataset_version:d@2', 'produced', '');
  edge.run('dataset_version:d@2', 'run:r2', 'input_of', 'train');
  edge.run('dataset_version:d@1', 'run:r2', 'input_of', 'test');
  edge.run('run:r2', 'model_version:m/1', 'trained', '');
  edge.run('run:r3', 'dataset_version:d@3', 'produced', '');
  edge.run('dataset_version:d@3', 'run:r3', 'input_of', 'validation');
  return lineageQueries(db);
}

describe('lineage walks', () => {
  it('reports each node once at its smallest depth, and every edge leaving the reached nodes, sorted', () => {
    const impact = graph().impact('dataset_version:d@1');
    expect(impact.nodes.map((n) => [n.node, n.depth])).toEqual([
      ['dataset_version:d@1', 0],
      ['run:r1', 1],
      ['run:r2', 1],
      ['dataset_version:d@2', 2],
      ['model_version:m/1', 2],
    ]);
    expect(impact.nodes[4]).toMatchObject({ kind: 'model_version', id: 'm/1' });
    expect(impact.edges.map((e) => `${e.from}>${e.to}:${e.role}`)).toEqual([
      'dataset_version:d@1>run:r1:train',
      'dataset_version:d@1>run:r2:test',
      'dataset_version:d@2>run:r2:train',
      'run:r1>dataset_version:d@2:',
      'run:r2>model_version:m/1:',
    ]);
  });

  it('walks backward the same way, and ends on a cycle', () => {
    const q = graph();
    expect(q.lineage('model_version:m/1').nodes.map((n) => [n.node, n.depth])).toEqual([
      ['model_version:m/1', 0],
      ['run:r2', 1],
      ['dataset_version:d@1', 2],
      ['dataset_version:d@2', 2],
      ['run:r1', 3],
    ]);
    const cycle = q.impact('run:r3');
    expect(cycle.nodes.map((n) => n.node)).toEqual(['run:r3', 'dataset_version:d@3']);
    expect(cycle.edges).toHaveLength(2);
    expect(() => q.impact('not-a-node')).toThrow(/a lineage node is/);
  });

  it('orders as SQLite does (UTF-8 bytes), also beside characters outside the BMP', () => {
    const db = openSqliteDatabase(':memory:');
    lineageProjection.open(db);
    const edge = db.prepare('INSERT INTO rm_lineage_edges (src, dst, relation, role) VALUES (?, ?, ?, ?)');
    // U+FF21 sorts before U+1F600 in UTF-8 and code points, after it in UTF-16 units.
    for (const name of ['dataset_version:\u{1F600}@1', 'dataset_version:\uFF21@1', 'dataset_version:b@1'])
      edge.run('run:r', name, 'produced', '');
    const sqlite = db.prepare<[], { dst: string }>("SELECT dst FROM rm_lineage_edges WHERE src = 'run:r' ORDER BY dst").all().map((r) => r.dst);
    const walked = lineageQueries(db).impact('run:r');
    expect(walked.nodes.slice(1).map((n) => n.node)).toEqual(sqlite);
    expect(walked.edges.map((e) => e.to)).toEqual(sqlite);
    expect(sqlite[1]).toBe('dataset_version:\uFF21@1');
  });
});
