package dev.coffer.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Durations as every part of the CLI accepts them, flags and environment alike: a number with
 * one unit ({@code 500ms}, {@code 90s}, {@code 15m}, {@code 2h}, {@code 7d}) or ISO-8601
 * ({@code PT15M}, {@code P1D}).
 */
final class Durations {
  private Durations() {}

  static final String EXPECTED = "expected a duration such as 90s, 15m, 2h, 7d or PT15M";
  private static final Pattern SHORT = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the text if it is not a duration
   */
  static Duration parse(String text) {
    String value = text.trim();
    Matcher unit = SHORT.matcher(value);
    try {
      if (unit.matches()) {
        long n = Long.parseLong(unit.group(1));
        return switch (unit.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofDays(n);
        };
      }
      return Duration.parse(value);
    } catch (ArithmeticException | DateTimeParseException e) {
      throw new IllegalArgumentException("invalid duration \"" + text + "\": " + EXPECTED, e);
    }
  }

  /** The picocli converter for duration options. */
  static final class Converter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
