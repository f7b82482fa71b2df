package dev.coffer.store.s3.check;

import dev.coffer.store.s3.check.Op.End;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws a history from a seed: which host does what, to which blob or ref, and at which of its
 * requests a host dies. Nothing here looks at the store, so a history is the same on every run of
 * its seed and can be cut by the shrinker without changing the steps that remain.
 */
final class History {
  private History() {}

  /**
   * How many of an {@code fsck --repair}'s requests another host's operation may run before: the
   * most one makes on the checker's pool of blobs (16 to 40 at 12 blobs: the listing, a read of
   * each record, then record by record its tags, the marks it gives back and the links it
   * repairs), so that the other lands anywhere in it, between two reads, two give-backs or two
   * repairs, and after it when drawn past its last request. Any other operation has it before one
   * of its first four requests, between its reads and its conditional writes.
   */
  static final int FSCK_REQUESTS = 40;

  /**
   * One step: an operation and, if {@code dieAt} is positive, the death of its host at the
   * operation's {@code dieAt}-th request (which S3 applies, its answer lost, if
   * {@code fatalApplied}).
   */
  record Step(Op op, int dieAt, boolean fatalApplied, Op nested, int nestAt) {
    @Override
    public String toString() {
      return op + (dieAt > 0 ? "  [host dies at request " + dieAt
          + (fatalApplied ? ", applied" : ", not applied") + "]" : "")
          + (nested != null ? "  [before its request " + nestAt + ": " + nested + "]" : "");
    }
  }

  /**
   * Whether {@code op} may run nested in another, or have one nested in it: not a raced put,
   * which has another host's operations in its middle already, at a point of its own.
   */
  static boolean nestable(Op op) {
    return !(op instanceof Op.Ingest) && !(op instanceof Op.Advance)
        && !(op instanceof Op.Abort) && !(op instanceof Op.RacedPut);
  }

  /** {@code config.ops()} steps drawn from {@code config.seed()}. */
  static List<Step> draw(CheckConfig config) {
    SplittableRandom r = new SplittableRandom(config.seed());
    List<Step> steps = new ArrayList<>(config.ops());
    for (int i = 0; i < config.ops(); i++) {
      Op op = op(r, config);
      int dieAt = 0;
      boolean applied = false;
      if (op.host() >= 0 && config.deaths() > 0 && r.nextDouble() < config.deaths()) {
        dieAt = 1 + r.nextInt(12);
        applied = r.nextBoolean();
      }
      Op nested = null;
      int nestAt = 0;
      if (config.interleave() > 0 && r.nextDouble() < config.interleave() && dieAt == 0
          && nestable(op)) {
        for (int tries = 0; tries < 8 && nested == null; tries++) {
          Op other = op(r, config);
          if (nestable(other) && other.host() != op.host()) {
            nested = other;
          }
        }
        nestAt = 1 + r.nextInt(op instanceof Op.Fsck ? FSCK_REQUESTS : 4);
      }
      steps.add(new Step(op, dieAt, applied, nested, nested == null ? 0 : nestAt));
    }
    return steps;
  }

  /**
   * {@code n} targets drawn from the pool: with so few contents, a target is often listed twice
   * or linked already by an earlier step.
   */
  private static List<Integer> targets(SplittableRandom r, CheckConfig c, int n) {
    List<Integer> to = new ArrayList<>(n);
    for (int k = 0; k < n; k++) {
      to.add(r.nextInt(c.blobs()));
    }
    return to;
  }

  private static Op op(SplittableRandom r, CheckConfig c) {
    int host = r.nextInt(c.hosts());
    int blob = r.nextInt(c.blobs());
    int roll = r.nextInt(110);
    if (roll < 22) {
      boolean takeRef = roll >= 12;
      int label = r.nextInt(3);
      if (r.nextInt(2) == 0) { // half of the puts are of files, a fifth of those changed
        return new Op.PutFile(host, blob, takeRef, label, r.nextInt(5) == 0);
      }
      return new Op.Put(host, blob, takeRef, label);
    } else if (roll < 40) {
      End end = End.values()[r.nextInt(End.values().length)];
      return new Op.Ingest(host, r.nextInt(c.refs()), blob, 30 + r.nextInt(80), end,
          r.nextInt(4) == 0);
    } else if (roll < 50) {
      return new Op.Ref(host, blob);
    } else if (roll < 62) {
      return new Op.Deref(host, blob);
    } else if (roll < 68) {
      return new Op.Link(host, blob, r.nextInt(c.blobs()));
    } else if (roll < 72) {
      return new Op.Unlink(host, blob, r.nextInt(c.blobs()));
    } else if (roll < 80) {
      return new Op.Label(host, blob, r.nextInt(3), r.nextInt(3));
    } else if (roll < 84) {
      return new Op.Delete(host, blob);
    } else if (roll < 86) {
      return new Op.Abort(host, r.nextInt(c.refs()));
    } else if (roll < 88) {
      return new Op.Gc(host);
    } else if (roll < 89) {
      return new Op.Fsck(host);
    } else if (roll >= 108) { // a put that marks, another host's delete between it and its link
      int other = c.hosts() == 1 ? host : (host + 1 + r.nextInt(c.hosts() - 1)) % c.hosts();
      return new Op.RacedPut(host, targets(r, c, 1 + r.nextInt(4)), blob, other, r.nextInt(4),
          r.nextBoolean());
    } else if (roll >= 106) {
      return new Op.TreeLink(host, targets(r, c, 1 + r.nextInt(6)), blob);
    } else if (roll >= 104) { // Trees.put links with linkNew now: half of the former tree links
      List<Integer> to = targets(r, c, 1 + r.nextInt(6));
      // A third plain; a third a tree's put, its files created with their marks, then linked; a
      // third that put stopped before its link (the mark at creation, PROTO-13).
      int kind = r.nextInt(3);
      return kind == 0 ? new Op.LinkNew(host, to, blob)
          : Op.LinkNew.markedPut(host, to, blob, kind == 1);
    } else if (roll >= 100) {
      return new Op.LinkAll(host, targets(r, c, 1 + r.nextInt(4)), blob);
    }
    // Mostly seconds; now and then past the deletion grace and the purge timeout.
    long millis = r.nextInt(10) == 0 ? 60_000L + r.nextInt(240_000) : 1 + r.nextInt(5_000);
    return new Op.Advance(millis);
  }
}
