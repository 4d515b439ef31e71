import { groupedLoader } from '../common/loaders';
import type { ChildScope } from '../db/child-rows';
import { findLines } from './bursar-export.repository';

export function createBursarLoaders(on: ChildScope) {
  return {
    // A page of batches with their lines (or files) reads every batch's lines in one statement, within the owner scope (R5.2).
    bursarLinesByBatch: groupedLoader((seqs) => findLines(on.db, on.institutionId, on.scope, seqs), (l) => l.batchSeq),
  };
}
