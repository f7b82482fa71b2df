package dev.coffer.s3sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the simulated network saw: the most recent requests (host, operation, key, outcome), up to
 * a capacity, and counters by operation and outcome that are never trimmed.
 *
 * <p>Thread-safe.
 */
public final class RequestLog {
  private final int capacity;
  private final Deque<LoggedRequest> recent = new ArrayDeque<>();
  private final Map<Operation, Map<Outcome, LongAdder>> counters = new ConcurrentHashMap<>();
  private final Map<String, Map<Operation, LongAdder>> byHost = new ConcurrentHashMap<>();

  RequestLog(int capacity) {
    this.capacity = capacity;
  }

  void add(LoggedRequest entry) {
    counters.computeIfAbsent(entry.operation(), o -> new ConcurrentHashMap<>())
        .computeIfAbsent(entry.outcome(), o -> new LongAdder()).increment();
    if (isFirst(entry.outcome())) {
      byHost.computeIfAbsent(entry.host(), h -> new ConcurrentHashMap<>())
          .computeIfAbsent(entry.operation(), o -> new LongAdder()).increment();
    }
    if (capacity > 0) {
      synchronized (recent) {
        recent.addLast(entry);
        if (recent.size() > capacity) {
          recent.removeFirst();
        }
      }
    }
  }

  /** Whether an outcome is a request's first entry (the others follow a hold). */
  private static boolean isFirst(Outcome outcome) {
    return outcome != Outcome.APPLIED_LATE && outcome != Outcome.DROPPED;
  }

  /** The most recent entries, oldest first. */
  public List<LoggedRequest> entries() {
    synchronized (recent) {
      return new ArrayList<>(recent);
    }
  }

  /** Requests sent for {@code operation}, whatever became of them. */
  public long count(Operation operation) {
    Map<Outcome, LongAdder> outcomes = counters.get(operation);
    if (outcomes == null) {
      return 0;
    }
    long n = 0;
    for (Map.Entry<Outcome, LongAdder> e : outcomes.entrySet()) {
      if (isFirst(e.getKey())) {
        n += e.getValue().sum();
      }
    }
    return n;
  }

  /** Entries of {@code operation} with {@code outcome}. */
  public long count(Operation operation, Outcome outcome) {
    Map<Outcome, LongAdder> outcomes = counters.get(operation);
    LongAdder n = outcomes == null ? null : outcomes.get(outcome);
    return n == null ? 0 : n.sum();
  }

  /** Requests sent by {@code host} for {@code operation}. */
  public long count(String host, Operation operation) {
    Map<Operation, LongAdder> ops = byHost.get(host);
    LongAdder n = ops == null ? null : ops.get(operation);
    return n == null ? 0 : n.sum();
  }

  /** Requests sent, by operation (operations never sent are absent). */
  public Map<Operation, Long> counts() {
    Map<Operation, Long> all = new EnumMap<>(Operation.class);
    for (Operation op : counters.keySet()) {
      all.put(op, count(op));
    }
    return all;
  }

  /** Requests sent, all operations. */
  public long total() {
    return counts().values().stream().mapToLong(Long::longValue).sum();
  }

  /** Forgets every entry and counter. */
  public void clear() {
    synchronized (recent) {
      recent.clear();
    }
    counters.clear();
    byHost.clear();
  }
}
