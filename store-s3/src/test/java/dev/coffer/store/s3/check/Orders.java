package dev.coffer.store.s3.check;

import dev.coffer.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Every order in which an operation and another host's operation run in its middle may take
 * effect (INV-8). The model's operations are sequences of record changes, each atomic on S3: a
 * {@code linkAll}'s reads, its change of {@code from}'s record and each drop; a tree link's read of
 * {@code from}, each reference, its {@code linkAll} and its give-back; a blob's removal and each
 * release of its cascade (one compare-and-swap per target in the store); an {@code unlink}'s
 * removal of its link and its release; an {@code fsck --repair}'s read of each record, then each
 * mark it gives back and each repair of a dangling link. The other operation, whole, may fall
 * before the first,
 * between any two, or after the last; each such point is one order. The orders are enumerated in
 * a fixed sequence (the other first, then ever later), so a run is as deterministic as its seed.
 */
final class Orders {
  private Orders() {}

  /** One order: where the other ran, the model after both, and the two answers. */
  record Order(int point, Model after, Class<? extends StoreException> answer,
      Class<? extends StoreException> otherAnswer) {}

  /** An operation of the model: its answer, the model changed as the store would be. */
  interface Operation extends Function<Model, Class<? extends StoreException>> {}

  /**
   * Runs the other operation, once, when the operation in progress reaches the chosen point:
   * point 0 is before it, point n just after its n-th record change.
   */
  static final class Pause {
    private final int point;
    private final Operation other;
    private int reached;
    private boolean ran;
    private Class<? extends StoreException> answer;

    Pause(int point, Operation other) {
      this.point = point;
      this.other = other;
    }

    /** Called by {@code model} between two record changes (and before the first). */
    void reached(Model model) {
      if (ran || reached++ != point) {
        return;
      }
      ran = true; // the other runs whole: its own points are not this one's
      answer = other.apply(model);
    }
  }

  /**
   * Every order of {@code op} and {@code other} run from {@code before} (which is not changed):
   * if {@code inTheMiddle}, the other at each point of {@code op}, then after it; if not (the
   * other began once {@code op} had ended), only {@code op} then the other.
   */
  static List<Order> of(Model before, Operation op, Operation other, boolean inTheMiddle) {
    List<Order> orders = new ArrayList<>();
    for (int point = inTheMiddle ? 0 : Integer.MAX_VALUE; ; point++) {
      Model m = before.copy();
      Pause pause = new Pause(point, other);
      m.pause = pause;
      pause.reached(m);
      Class<? extends StoreException> answer = op.apply(m);
      m.pause = null;
      boolean inside = pause.ran;
      if (!pause.ran) {
        pause.ran = true;
        pause.answer = other.apply(m);
      }
      orders.add(new Order(inside ? point : -1, m, answer, pause.answer));
      if (!inside) {
        return orders; // the other after op's last change: every point is tried
      }
    }
  }
}
