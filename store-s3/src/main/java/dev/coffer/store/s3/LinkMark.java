package dev.coffer.store.s3;

/**
 * A marked reference in a target's index record (TREE-3): one reference of the record's count,
 * taken by operation {@code op} of {@code linkNew} for a link from {@code from} at incarnation
 * {@code fromIncarnation}, at {@code at} (ns since the epoch, the taker's clock). It is consumed
 * once: removed when the link is made (the reference stays, held by the link), with the count
 * less one when that link is released, or with the count less one once {@code from} can no
 * longer make the link ({@link LinkMarks}).
 */
record LinkMark(String op, String from, long fromIncarnation, long at) {

  /**
   * In the record of a {@code linkNew}'s source: the link of operation {@code op} is refused
   * from {@code at} (ns since the epoch) on, so a mark of {@code op} can be dropped.
   */
  record Fence(String op, long at) {}
}
