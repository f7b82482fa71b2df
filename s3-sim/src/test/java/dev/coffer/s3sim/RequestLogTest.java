package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The request log: recent entries up to a capacity, counters that are never trimmed. */
class RequestLogTest {

  private static LoggedRequest entry(long seq, String host, Operation op, Outcome outcome) {
    return new LoggedRequest(seq, host, op, "b", "k" + seq, outcome, 200, null);
  }

  @Test
  void keepsTheMostRecentEntriesAndCountsEverything() {
    RequestLog log = new RequestLog(2);
    log.add(entry(1, "h1", Operation.PUT_OBJECT, Outcome.ANSWERED));
    log.add(entry(2, "h2", Operation.PUT_OBJECT, Outcome.HELD));
    log.add(entry(3, "h1", Operation.GET_OBJECT, Outcome.ANSWER_LOST));
    log.add(entry(2, "h2", Operation.PUT_OBJECT, Outcome.APPLIED_LATE));
    assertThat(log.entries()).extracting(LoggedRequest::sequence).containsExactly(3L, 2L);
    // A held request applied later is one request sent, logged twice.
    assertThat(log.count(Operation.PUT_OBJECT)).isEqualTo(2);
    assertThat(log.count(Operation.PUT_OBJECT, Outcome.APPLIED_LATE)).isEqualTo(1);
    assertThat(log.count(Operation.GET_OBJECT)).isEqualTo(1);
    assertThat(log.count("h1", Operation.PUT_OBJECT)).isEqualTo(1);
    assertThat(log.count("h2", Operation.GET_OBJECT)).isZero();
    assertThat(log.total()).isEqualTo(3);
    assertThat(log.counts()).containsEntry(Operation.PUT_OBJECT, 2L)
        .containsEntry(Operation.GET_OBJECT, 1L).hasSize(2);
    log.clear();
    assertThat(log.entries()).isEmpty();
    assertThat(log.total()).isZero();
  }

  @Test
  void aZeroCapacityLogOnlyCounts() {
    RequestLog log = new RequestLog(0);
    log.add(entry(1, "h", Operation.LIST_PARTS, Outcome.ANSWERED));
    assertThat(log.entries()).isEmpty();
    assertThat(log.count(Operation.LIST_PARTS)).isEqualTo(1);
  }

  @Test
  void entriesReadAsOneLine() {
    assertThat(new LoggedRequest(7, "h1", Operation.DELETE_OBJECT, "b", "k", Outcome.ANSWERED,
        412, "PreconditionFailed").toString())
        .isEqualTo("#7 h1 DeleteObject b/k -> ANSWERED 412 PreconditionFailed");
  }
}
