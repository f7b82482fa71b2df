package dev.coffer.cli;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one process asked of S3, read from its {@code coffer.s3.*} meters: requests by operation
 * and HTTP status, bytes sent and received, and their estimated cost.
 *
 * @param requests request counts by operation, then status (sorted)
 * @param bytesSent request body bytes
 * @param bytesReceived response body bytes
 */
record RequestUsage(Map<String, Map<String, Long>> requests, long bytesSent, long bytesReceived) {

  /** The classes S3 prices requests by. */
  enum RequestClass {
    WRITE("PUT/COPY/POST/LIST"),
    READ("GET/HEAD"),
    FREE("DELETE");

    final String label;

    RequestClass(String label) {
      this.label = label;
    }

    /**
     * The class of an S3 operation (the SDK's name): deletes and multipart aborts are free;
     * writes, copies, uploads, multipart creation and completion, and listings are the first
     * class; the rest (GET, HEAD, tagging reads) the second.
     */
    static RequestClass of(String operation) {
      if (operation.startsWith("Delete") || operation.startsWith("Abort")) {
        return FREE;
      }
      for (String prefix : new String[] {"Put", "Copy", "Upload", "Create", "Complete", "List",
          "Post", "Restore", "Select"}) {
        if (operation.startsWith(prefix)) {
          return WRITE;
        }
      }
      return READ;
    }
  }

  /** The usage counted in {@code registry} so far. */
  static RequestUsage of(MeterRegistry registry) {
    Map<String, Map<String, Long>> requests = new TreeMap<>();
    for (Counter c : registry.find("coffer.s3.requests").counters()) {
      requests.computeIfAbsent(c.getId().getTag("operation"), o -> new TreeMap<>())
          .merge(c.getId().getTag("status"), (long) c.count(), Long::sum);
    }
    long sent = 0;
    long received = 0;
    for (Counter c : registry.find("coffer.s3.bytes").counters()) {
      if ("out".equals(c.getId().getTag("direction"))) {
        sent += (long) c.count();
      } else {
        received += (long) c.count();
      }
    }
    return new RequestUsage(requests, sent, received);
  }

  /** Requests of {@code type}, every status. */
  long count(RequestClass type) {
    long n = 0;
    for (var e : requests.entrySet()) {
      if (RequestClass.of(e.getKey()) == type) {
        n += e.getValue().values().stream().mapToLong(Long::longValue).sum();
      }
    }
    return n;
  }

  /** Every request. */
  long total() {
    return requests.values().stream().flatMap(m -> m.values().stream())
        .mapToLong(Long::longValue).sum();
  }

  /** The estimated cost of {@code type}'s requests in US dollars. */
  double cost(RequestClass type, PriceTable prices) {
    return switch (type) {
      case WRITE -> count(type) * prices.writePer1000() / 1000;
      case READ -> count(type) * prices.readPer1000() / 1000;
      case FREE -> 0;
    };
  }

  /** The estimated cost of the transfer out of S3 in US dollars. */
  double transferCost(PriceTable prices) {
    return bytesReceived * prices.transferOutPerGib() / (1L << 30);
  }

  /** Requests (every status is billed) and transfer, in US dollars. */
  double cost(PriceTable prices) {
    double total = transferCost(prices);
    for (RequestClass type : RequestClass.values()) {
      total += cost(type, prices);
    }
    return total;
  }
}
