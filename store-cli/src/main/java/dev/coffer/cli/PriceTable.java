package dev.coffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Prices of S3 requests, transfer and storage in US dollars, for the estimates of
 * {@code coffer stats} and {@code coffer du}.
 *
 * @param name what the prices are, with their region and date
 * @param writePer1000 per 1,000 PUT, COPY, POST and LIST requests (S3's first class)
 * @param readPer1000 per 1,000 GET, HEAD and other requests (the second class); DELETE and
 *     aborts of multipart uploads are free
 * @param transferOutPerGib per GiB received from S3 (0 within the bucket's region)
 * @param storagePerGibMonth per GiB stored for a month
 */
record PriceTable(String name, double writePer1000, double readPer1000, double transferOutPerGib,
    double storagePerGibMonth) {

  /**
   * S3 Standard in us-east-1, AWS list prices as published in 2025 (unchanged since 2023):
   * $0.005 per 1,000 PUT/COPY/POST/LIST, $0.0004 per 1,000 GET/HEAD and others, transfer to EC2
   * in the region free, $0.023 per GB-month for the first 50 TB.
   */
  static final PriceTable S3_STANDARD_US_EAST_1 = new PriceTable(
      "S3 Standard, us-east-1, AWS list prices of 2025", 0.005, 0.0004, 0.0, 0.023);

  PriceTable {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a price table needs a name");
    }
    for (double price : new double[] {writePer1000, readPer1000, transferOutPerGib,
        storagePerGibMonth}) {
      if (!(price >= 0) || Double.isInfinite(price)) {
        throw new IllegalArgumentException("prices must be finite and not negative");
      }
    }
  }

  /**
   * Reads a table from a JSON document with the record's field names; fields left out keep the
   * defaults' values.
   *
   * @throws ConfigException if the file is missing, not JSON, or has a bad price
   */
  static PriceTable read(Path file) {
    JsonNode node;
    try {
      node = new ObjectMapper().readTree(file.toFile());
    } catch (NoSuchFileException e) {
      throw new ConfigException("price table " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("price table " + file + " is not valid JSON: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw new ConfigException("price table " + file + " is not a JSON object");
    }
    PriceTable d = S3_STANDARD_US_EAST_1;
    try {
      return new PriceTable(
          node.path("name").asText(file.getFileName().toString()),
          price(node, "writePer1000", d.writePer1000),
          price(node, "readPer1000", d.readPer1000),
          price(node, "transferOutPerGib", d.transferOutPerGib),
          price(node, "storagePerGibMonth", d.storagePerGibMonth));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("price table " + file + ": " + e.getMessage());
    }
  }

  private static double price(JsonNode node, String field, double fallback) {
    JsonNode value = node.get(field);
    if (value == null) {
      return fallback;
    }
    if (!value.isNumber()) {
      throw new IllegalArgumentException(field + " is not a number");
    }
    return value.asDouble();
  }
}
