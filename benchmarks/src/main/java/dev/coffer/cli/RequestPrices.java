package dev.coffer.cli;

import java.util.Map;

/**
 * The harness's view of the prices {@code coffer stats} applies: its default table and its classes
 * of S3 requests, so that the estimated cost of a benchmark case is computed as the command's is.
 */
public final class RequestPrices {
  private RequestPrices() {}

  /** What the prices are: S3 Standard in one region, with their date. */
  public static String name() {
    return PriceTable.S3_STANDARD_US_EAST_1.name();
  }

  /** The class of an S3 operation (the SDK's name) as {@code coffer stats} reports it. */
  public static String requestClass(String operation) {
    return RequestUsage.RequestClass.of(operation).label;
  }

  /**
   * The estimated cost in US dollars of {@code requests} (by S3 operation name, counts possibly
   * fractional as medians are) at the default prices; deletes and aborts are free.
   */
  public static double costUsd(Map<String, ? extends Number> requests) {
    PriceTable prices = PriceTable.S3_STANDARD_US_EAST_1;
    double cost = 0;
    for (Map.Entry<String, ? extends Number> e : requests.entrySet()) {
      double n = e.getValue().doubleValue();
      cost += switch (RequestUsage.RequestClass.of(e.getKey())) {
        case WRITE -> n * prices.writePer1000() / 1000;
        case READ -> n * prices.readPer1000() / 1000;
        case FREE -> 0;
      };
    }
    return cost;
  }
}
