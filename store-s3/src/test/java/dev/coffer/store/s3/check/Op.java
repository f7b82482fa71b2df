package dev.coffer.store.s3.check;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One step of a history: an operation one host performs on its store, or time passing. Steps are
 * plain data drawn from the seed alone (never from what earlier steps did), so a history can be
 * replayed, cut and printed. Blobs and refs are indices into the run's pools of contents and refs.
 */
sealed interface Op {

  /** The host that performs it, or -1 for a step of no host. */
  int host();

  /** How an ingest step ends. */
  enum End { PAUSE, COMMIT, COMMIT_AND_REF }

  /** {@code put} (no reference) or {@code putAndRef} of content {@code blob}, with a label. */
  record Put(int host, int blob, boolean takeRef, int label) implements Op {
    @Override
    public String toString() {
      return "h" + host + (takeRef ? " putAndRef b" : " put b") + blob + " label=" + label;
    }
  }

  /**
   * {@code putFile} (no reference) or {@code putFileAndRef} of content {@code blob} from a file,
   * with a label: its bytes go straight to the digest key. With {@code changed} the file no
   * longer holds that content (it changed after it was hashed): one byte differs, or one is added
   * to empty content, and nothing may be published.
   */
  record PutFile(int host, int blob, boolean takeRef, int label, boolean changed) implements Op {
    @Override
    public String toString() {
      return "h" + host + (takeRef ? " putFileAndRef b" : " putFile b") + blob + " label="
          + label + (changed ? " (file changed)" : "");
    }
  }

  /**
   * Opens a writer on {@code ref} (resuming its ingest if there is one, else starting one of
   * content {@code blob}), writes up to {@code percent} % more of the content, then pauses
   * (closes without commit) or commits, with or without a reference; {@code describe} passes
   * the content's size and digest to {@code writer()}.
   */
  record Ingest(int host, int ref, int blob, int percent, End end, boolean describe)
      implements Op {
    @Override
    public String toString() {
      return "h" + host + " ingest r" + ref + " (b" + blob + ") +" + percent + "% " + end
          + (describe ? " described" : "");
    }
  }

  /** {@code ref}. */
  record Ref(int host, int blob) implements Op {
    @Override
    public String toString() {
      return "h" + host + " ref b" + blob;
    }
  }

  /** {@code deref}. */
  record Deref(int host, int blob) implements Op {
    @Override
    public String toString() {
      return "h" + host + " deref b" + blob;
    }
  }

  /** {@code link(to, from)}. */
  record Link(int host, int to, int from) implements Op {
    @Override
    public String toString() {
      return "h" + host + " link b" + to + " from b" + from;
    }
  }

  /**
   * {@code linkAll(to, from)}: the targets in order, a target sometimes listed twice or linked
   * already; the references the links take are the targets' own (as for {@link Link}).
   */
  record LinkAll(int host, List<Integer> to, int from) implements Op {
    public LinkAll {
      to = List.copyOf(to);
    }

    @Override
    public String toString() {
      return "h" + host + " linkAll " + blobs(to) + " from b" + from;
    }
  }

  /**
   * The trees' pattern ({@code Trees.put}, TREE-3): read {@code from}'s links, take one reference
   * on each distinct target it does not link to yet, hand them to links by one {@code linkAll},
   * and if anything fails give back each reference no link of {@code from} took.
   */
  record TreeLink(int host, List<Integer> to, int from) implements Op {
    public TreeLink {
      to = List.copyOf(to);
    }

    @Override
    public String toString() {
      return "h" + host + " tree-link " + blobs(to) + " from b" + from;
    }
  }

  /**
   * {@code linkNew(to, from)} (PROTO-13): each target {@code from} does not link to yet gains one
   * reference held by a new link; a target listed twice counts once, one linked already is left
   * alone, and the caller's references are neither used nor changed.
   */
  record LinkNew(int host, List<Integer> to, int from, boolean put, boolean link) implements Op {
    public LinkNew {
      to = List.copyOf(to);
    }

    /** A plain {@code linkNew(to, from)}. */
    LinkNew(int host, List<Integer> to, int from) {
      this(host, to, from, false, true);
    }

    /**
     * A put that marks (a tree's put, the mark at creation, PROTO-13): {@code newLinks(from)},
     * each distinct target's content put through it (AlreadyExists ignored), then, with
     * {@code link}, its link of {@code to}; without, the caller stops before its link, as one
     * killed there, and the marks its puts made are gc's past the bound.
     */
    static LinkNew markedPut(int host, List<Integer> to, int from, boolean link) {
      return new LinkNew(host, to, from, true, link);
    }

    @Override
    public String toString() {
      if (put) {
        return "h" + host + " put-marked " + blobs(to) + " for b" + from
            + (link ? " then linkNew" : " (killed before its linkNew)");
      }
      return "h" + host + " linkNew " + blobs(to) + " from b" + from;
    }
  }

  /**
   * A put that marks raced by another host between its puts and its link (PROTO-13, PROTO-14):
   * {@code newLinks(from)} and each distinct target's content put through it, as
   * {@link LinkNew#markedPut}; then host {@code other} deletes one target, the {@code pick}-th
   * (modulo their number) of those the puts create, or of all the targets if they create none,
   * and with {@code reput} stores its content anew (no reference); then the put's link of
   * {@code to}; and where that is NotFound or Aborted, as a tree's put does ({@code
   * LinkPipeline}), each target stored again without the operation (AlreadyExists ignored) and
   * all linked by a plain {@code linkNew}.
   */
  record RacedPut(int host, List<Integer> to, int from, int other, int pick, boolean reput)
      implements Op {
    public RacedPut {
      to = List.copyOf(to);
    }

    @Override
    public String toString() {
      return "h" + host + " put-marked " + blobs(to) + " for b" + from + ", h" + other
          + " deleting its created file #" + pick + (reput ? " and storing it anew" : "")
          + ", then linkNew (again plainly if refused)";
    }
  }

  private static String blobs(List<Integer> to) {
    return to.stream().map(b -> "b" + b).collect(Collectors.joining(",", "[", "]"));
  }

  /** {@code unlink(to, from)}. */
  record Unlink(int host, int to, int from) implements Op {
    @Override
    public String toString() {
      return "h" + host + " unlink b" + to + " from b" + from;
    }
  }

  /** {@code update} of one label: value 0 removes it. */
  record Label(int host, int blob, int key, int value) implements Op {
    @Override
    public String toString() {
      return "h" + host + " label b" + blob + " k" + key + "=" + (value == 0 ? "(remove)" : value);
    }
  }

  /** {@code delete}. */
  record Delete(int host, int blob) implements Op {
    @Override
    public String toString() {
      return "h" + host + " delete b" + blob;
    }
  }

  /** {@code abort} of an ingest. */
  record Abort(int host, int ref) implements Op {
    @Override
    public String toString() {
      return "h" + host + " abort r" + ref;
    }
  }

  /** {@code gc}, leaving ingests alone (the model does not age them). */
  record Gc(int host) implements Op {
    @Override
    public String toString() {
      return "h" + host + " gc";
    }
  }

  /** {@code fsck --repair}. */
  record Fsck(int host) implements Op {
    @Override
    public String toString() {
      return "h" + host + " fsck --repair";
    }
  }

  /** The simulated clock moves on. */
  record Advance(long millis) implements Op {
    @Override
    public int host() {
      return -1;
    }

    @Override
    public String toString() {
      return "advance " + millis + " ms";
    }
  }
}
